/**
 * Checks recorded GitHub API calls against GitHub's published REST description
 * (@octokit/openapi, api.github.com, dereferenced): the method and path exist, the request body
 * matches the operation's schema, and the double's response matches the documented response, so
 * neither the action nor the double drifts from the real API.
 */
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RecordedCall } from './http-double.js';

interface Operation {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: object }> };
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}
type Spec = { paths: Record<string, Record<string, Operation>> };

const SPEC_ID = 'https://api.github.com/openapi.json';
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

let spec: Spec | undefined;
/**
 * The non-dereferenced description (13 MB; the dereferenced one is 73 MB and takes seconds to
 * parse), converted to JSON Schema once and registered with ajv, so `$ref`s resolve lazily.
 */
function loadSpec(): Spec {
  if (spec === undefined) {
    const require = createRequire(import.meta.url);
    const raw = require('@octokit/openapi/generated/api.github.com.json') as unknown;
    spec = openApiToJsonSchema(raw) as Spec;
    ajv.addSchema(spec, SPEC_ID);
  }
  return spec;
}

const compiled = new Map<object, ValidateFunction>();
function validator(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (fn === undefined) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/**
 * OpenAPI 3.0 to JSON Schema: `nullable: true` becomes a `null` alternative, documentation-only
 * keywords go, and local `$ref`s point into the registered description.
 */
function openApiToJsonSchema(node: unknown, keysAreNames = false): unknown {
  if (Array.isArray(node)) return node.map((item) => openApiToJsonSchema(item));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (keysAreNames) {
      out[key] = openApiToJsonSchema(value);
      continue;
    }
    if (key === 'nullable' || key === 'example' || key === 'examples' || key === 'discriminator') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) {
      out[key] = `${SPEC_ID}${value}`;
      continue;
    }
    // Maps whose keys are names, not keywords: schema properties, paths, components, responses, content.
    const named = [
      'properties',
      'paths',
      'schemas',
      'responses',
      'content',
      'components',
      'parameters',
    ].includes(key);
    out[key] = openApiToJsonSchema(value, named);
  }
  if ((node as Record<string, unknown>)['nullable'] === true && !keysAreNames) {
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/** Follows a `$ref` to a component (requestBodies, responses) when navigating the description. */
function follow<T>(node: T | { $ref: string } | undefined): T | undefined {
  if (node === undefined || typeof node !== 'object' || node === null || !('$ref' in node)) return node;
  let target: unknown = loadSpec();
  for (const segment of node.$ref.slice(SPEC_ID.length + 2).split('/')) {
    target = (target as Record<string, unknown> | undefined)?.[
      segment.replace(/~1/g, '/').replace(/~0/g, '~')
    ];
  }
  return target as T | undefined;
}

export interface CallProblem {
  call: string;
  problem: string;
}

function findOperation(method: string, path: string): { template: string; operation: Operation } | undefined {
  const { paths } = loadSpec();
  for (const [template, item] of Object.entries(paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (!pattern.test(path)) continue;
    const operation = item[method.toLowerCase()];
    if (operation !== undefined) return { template, operation };
  }
  return undefined;
}

/** Every problem found in the calls; empty when all of them follow GitHub's description. */
export function validateGitHubCalls(calls: readonly RecordedCall[]): CallProblem[] {
  const problems: CallProblem[] = [];
  for (const call of calls) {
    const name = `${call.method} ${call.path}`;
    const found = findOperation(call.method, call.path);
    if (found === undefined) {
      problems.push({ call: name, problem: 'no such operation in api.github.com' });
      continue;
    }
    const requestSchema = follow(found.operation.requestBody)?.content?.['application/json']?.schema;
    if (requestSchema !== undefined && call.body !== undefined) {
      const validate = validator(requestSchema);
      if (!validate(call.body)) {
        problems.push({ call: name, problem: `request body: ${ajv.errorsText(validate.errors)}` });
      }
    }
    const responseSchema =
      found.operation.responses?.[String(call.status)]?.content?.['application/json']?.schema;
    if (call.status < 300) {
      const documented = found.operation.responses?.[String(call.status)] !== undefined;
      if (responseSchema === undefined && documented && call.response === undefined) {
        continue; // a documented response without a body, such as 204 No Content
      }
      if (responseSchema === undefined) {
        problems.push({ call: name, problem: `status ${call.status} is not a documented response` });
      } else {
        const validate = validator(responseSchema);
        if (!validate(call.response)) {
          problems.push({ call: name, problem: `response body: ${ajv.errorsText(validate.errors)}` });
        }
      }
    }
  }
  return problems;
}

/** The operations the action calls, as [method, example path]. */
export const ACTION_OPERATIONS: ReadonlyArray<[string, string]> = [
  ['POST', '/repos/o/r/deployments'],
  ['GET', '/repos/o/r/deployments'],
  ['POST', '/repos/o/r/deployments/1/statuses'],
  ['GET', '/repos/o/r/deployments/1/statuses'],
  ['GET', '/repos/o/r/issues/1/comments'],
  ['POST', '/repos/o/r/issues/1/comments'],
  ['PATCH', '/repos/o/r/issues/comments/1'],
  ['DELETE', '/repos/o/r/issues/comments/1'],
  ['GET', '/repos/o/r/pulls'],
  ['GET', '/repos/o/r/pulls/1'],
];

/**
 * Loads the description and compiles the validators of these operations now (a few seconds,
 * once per worker), so that cost lands in a beforeAll instead of the first test's afterEach.
 */
export function warmUpGitHubValidation(operations = ACTION_OPERATIONS): void {
  for (const [method, path] of operations) {
    const found = findOperation(method, path);
    if (found === undefined) throw new Error(`${method} ${path} is not in api.github.com`);
    const request = follow(found.operation.requestBody)?.content?.['application/json']?.schema;
    if (request !== undefined) validator(request);
    for (const response of Object.values(found.operation.responses ?? {})) {
      const schema = follow(response)?.content?.['application/json']?.schema;
      if (schema !== undefined) validator(schema);
    }
  }
}
