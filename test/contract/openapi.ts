/**
 * Contract checking against Codesphere's Public API spec (`../shared/codesphere-openapi.json`,
 * relative to the repo root; never copied into the project). Given one HTTP exchange it says which
 * rules of the spec it breaks: unknown operation, undocumented status, request or response body
 * not matching the schema. The emulator runs every exchange through this (contract: 'record'),
 * and suites assert `/_emulator/contract-violations` stays empty.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { compilePathTemplate, type PathTemplate } from '../../emulator/router.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const specPath = path.resolve(repoRoot, '../shared/codesphere-openapi.json');
export const specAvailable = existsSync(specPath);

/** Printed by suites that skip because the spec is absent (e.g. on a user's machine). */
export const specMissingNotice = `Contract checks skipped: ${specPath} not found (the Codesphere OpenAPI spec lives next to the repo in CI).`;

interface SchemaHolder {
  content?: Record<string, { schema?: object }>;
}
interface Operation {
  operationId?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: object }>;
  requestBody?: SchemaHolder & { required?: boolean };
  responses?: Record<string, SchemaHolder & { description?: string }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components?: object;
}

export interface OperationMatch {
  template: string;
  method: string;
  operationId: string;
  operation: Operation;
  params: Record<string, string>;
}

export interface Exchange {
  method: string;
  /** Request path; a leading `/api` (the spec's server base) is removed. Query strings are ignored. */
  path: string;
  status: number;
  requestBody?: unknown;
  /** The parsed JSON response body; undefined when the response had no body. */
  responseBody?: unknown;
}

let cached: { spec: Spec; ajv: Ajv; routes: PathTemplate[] } | undefined;
const validators = new Map<string, ValidateFunction>();

function load() {
  if (cached) return cached;
  if (!specAvailable) throw new Error(specMissingNotice);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec;
  // strict: false because OpenAPI 3.0 schemas carry keywords JSON Schema does not know (example).
  const ajv = new Ajv({ strict: false, allErrors: true });
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  addFormats(ajv);
  ajv.addSchema({ components: spec.components ?? {} }, 'spec');
  const routes = Object.keys(spec.paths).map(compilePathTemplate);
  // Literal segments beat parameters: `/workspaces/team/{teamId}` before `/workspaces/{workspaceId}/...`.
  routes.sort((a, b) => a.names.length - b.names.length);
  cached = { spec, ajv, routes };
  return cached;
}

/** The spec operation serving `method path`, with its path parameters. */
export function findOperation(method: string, requestPath: string): OperationMatch | undefined {
  const { spec, routes } = load();
  const bare = requestPath.split('?')[0]!.replace(/^\/api(?=\/)/, '');
  const lower = method.toLowerCase();
  for (const route of routes) {
    const params = route.match(bare);
    const operation = params ? spec.paths[route.template]?.[lower] : undefined;
    if (!params || !operation) continue;
    return {
      template: route.template,
      method: lower,
      operationId: operation.operationId ?? `${lower} ${route.template}`,
      operation,
      params,
    };
  }
  return undefined;
}

function validatorFor(key: string, schema: object): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    // Refs point into the spec document; resolve them against the components registered as 'spec'.
    const rebased = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', '"spec#/components/'),
    ) as object;
    validate = load().ajv.compile(rebased);
    validators.set(key, validate);
  }
  return validate;
}

function schemaErrors(key: string, schema: object, value: unknown, what: string): string[] {
  const validate = validatorFor(key, schema);
  if (validate(value)) return [];
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${what}${e.instancePath || ''} ${e.message ?? 'is invalid'}`);
}

/** Every way the exchange departs from the spec; empty when it conforms. */
export function validateExchange(exchange: Exchange): string[] {
  const label = `${exchange.method.toUpperCase()} ${exchange.path.split('?')[0]}`;
  const match = findOperation(exchange.method, exchange.path);
  if (!match) return [`${label}: no such operation in the spec`];
  const { operation, template, method } = match;
  const violations: string[] = [];
  const key = `${method} ${template}`;

  for (const param of operation.parameters ?? []) {
    if (param.in !== 'path' || !param.schema) continue;
    const raw = match.params[param.name] ?? '';
    const typed =
      (param.schema as { type?: string }).type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    violations.push(
      ...schemaErrors(`${key} param ${param.name}`, param.schema, typed, `path parameter ${param.name}`),
    );
  }
  const requestSchema = operation.requestBody?.content?.['application/json']?.schema;
  if (exchange.requestBody !== undefined) {
    if (!requestSchema) violations.push('a request body was sent but the operation takes none');
    else
      violations.push(...schemaErrors(`${key} request`, requestSchema, exchange.requestBody, 'request body'));
  } else if (operation.requestBody?.required) {
    violations.push('the operation requires a request body');
  }
  const response = operation.responses?.[String(exchange.status)];
  if (!response) {
    violations.push(
      `status ${exchange.status} is not documented (documented: ${Object.keys(operation.responses ?? {}).join(', ')})`,
    );
  } else {
    const responseSchema = response.content?.['application/json']?.schema;
    const eventSchema = response.content?.['text/event-stream']?.schema;
    if (eventSchema) {
      // An SSE answer: the body is the list of events sent, each `{event, data}` checked alone.
      const events = Array.isArray(exchange.responseBody) ? (exchange.responseBody as unknown[]) : [];
      if (!Array.isArray(exchange.responseBody)) violations.push('an event stream was expected');
      events.forEach((event, index) =>
        violations.push(
          ...schemaErrors(`${key} ${exchange.status} event`, eventSchema, event, `event ${index}`),
        ),
      );
    } else if (responseSchema) {
      violations.push(
        ...schemaErrors(`${key} ${exchange.status}`, responseSchema, exchange.responseBody, 'response body'),
      );
    } else if (exchange.responseBody !== undefined && exchange.responseBody !== '') {
      violations.push(`status ${exchange.status} documents no body but one was sent`);
    }
  }
  return violations.map((v) => `${label} (${match.operationId}): ${v}`);
}

/** Violations of the `{status,title,detail,traceId}` envelope for an error response. */
export function problemEnvelopeViolations(status: number, body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return ['error body is not a JSON object'];
  const record = body as Record<string, unknown>;
  const problems: string[] = [];
  if (record.status !== status)
    problems.push(`status field ${String(record.status)} differs from HTTP ${status}`);
  for (const key of ['title', 'detail', 'traceId'] as const) {
    if (typeof record[key] !== 'string' || record[key] === '') problems.push(`${key} is missing or empty`);
  }
  const extra = Object.keys(record).filter((k) => !['status', 'title', 'detail', 'traceId'].includes(k));
  if (extra.length > 0) problems.push(`unexpected fields: ${extra.join(', ')}`);
  return problems;
}
