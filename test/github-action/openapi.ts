/**
 * Checks recorded GitHub API calls against GitHub's published REST description
 * (@octokit/openapi, api.github.com, dereferenced): the method and path exist, the request body
 * matches the operation's schema, and the double's response matches the documented response, so
 * neither the action nor the double drifts from the real API.
 */
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RecordedCall } from './github-double.js';

interface Operation {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: object }> };
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}
type Spec = { paths: Record<string, Record<string, Operation>> };

let spec: Spec | undefined;
function loadSpec(): Spec {
  if (spec === undefined) {
    const require = createRequire(import.meta.url);
    const path = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
    spec = require(path) as Spec;
  }
  return spec;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<object, ValidateFunction>();
function validator(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (fn === undefined) {
    fn = ajv.compile(openApiToJsonSchema(schema) as object);
    compiled.set(schema, fn);
  }
  return fn;
}

/** OpenAPI 3.0's `nullable: true` is not JSON Schema: turn it into a `null` type alternative. */
function openApiToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openApiToJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'nullable' || key === 'example' || key === 'examples' || key === 'discriminator') continue;
    out[key] = openApiToJsonSchema(value);
  }
  if ((node as Record<string, unknown>)['nullable'] === true) {
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
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
    const requestSchema = found.operation.requestBody?.content?.['application/json']?.schema;
    if (requestSchema !== undefined && call.body !== undefined) {
      const validate = validator(requestSchema);
      if (!validate(call.body)) {
        problems.push({ call: name, problem: `request body: ${ajv.errorsText(validate.errors)}` });
      }
    }
    const responseSchema =
      found.operation.responses?.[String(call.status)]?.content?.['application/json']?.schema;
    if (call.status < 300) {
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
