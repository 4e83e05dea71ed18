/**
 * Errors the core throws. Every `.message` is complete, user-facing and secret-free: adapters
 * print it as is and fail the job once. Subclasses say whose fault it is:
 * - ConfigError: the user's input (fix the CI configuration), with one entry per bad field;
 * - ApiError: a Codesphere API call failed (operation, status, title, detail, traceId);
 * - DeploymentError: something failed after the preview workspace exists; says what is left.
 */

import { redact } from './request/secrets.js';

export class CodesphereDeployError extends Error {
  override readonly name: string = 'CodesphereDeployError';
}

/** One bad input: which field, and a sentence with what was given and what is valid. */
export interface FieldIssue {
  field: string;
  message: string;
}

export class ConfigError extends CodesphereDeployError {
  override readonly name = 'ConfigError';
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly FieldIssue[], options?: ErrorOptions) {
    super(ConfigError.format(issues), options);
    this.issues = issues;
  }

  static single(field: string, message: string, options?: ErrorOptions): ConfigError {
    return new ConfigError([{ field, message }], options);
  }

  private static format(issues: readonly FieldIssue[]): string {
    if (issues.length === 1 && issues[0]) return `Invalid input "${issues[0].field}": ${issues[0].message}`;
    const lines = issues.map((i) => `  - ${i.field}: ${i.message}`);
    return `Invalid input (${issues.length} problems):\n${lines.join('\n')}`;
  }
}

export interface ApiErrorDetails {
  /** The operation's name, e.g. "createWorkspace" (the spec's operationId without its tag). */
  operation: string;
  /** HTTP status; absent when no response arrived (network error, timeout). */
  status?: number | undefined;
  title?: string | undefined;
  detail?: string | undefined;
  traceId?: string | undefined;
  /** "http" (an error status), "network" (no response), "response" (a 2xx whose body broke the contract). */
  kind: 'http' | 'network' | 'response';
}

/** A failed Codesphere call. Carries no headers, request config or tokens: only what is listed here. */
export class ApiError extends CodesphereDeployError {
  override readonly name = 'ApiError';
  readonly operation: string;
  readonly status: number | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly traceId: string | undefined;
  readonly kind: ApiErrorDetails['kind'];

  constructor(details: ApiErrorDetails, message?: string) {
    super(message ?? ApiError.format(details));
    this.operation = details.operation;
    this.status = details.status;
    this.title = details.title;
    this.detail = details.detail;
    this.traceId = details.traceId;
    this.kind = details.kind;
  }

  private static format(d: ApiErrorDetails): string {
    const status = d.status === undefined ? 'no response' : `HTTP ${d.status}`;
    const what = [d.title, d.detail].filter((s) => s && s.length > 0).join(': ');
    const hint = d.status === 401 ? ' Check the API token (or email and password) and its permissions.' : '';
    const trace = d.traceId ? ` (traceId ${d.traceId})` : '';
    return `Codesphere API call ${d.operation} failed (${status})${what ? `: ${what}` : ''}${trace}.${hint}`;
  }
}

/** Where a failed deployment left things, so the user knows what exists and what happens next. */
export interface LeftWorkspace {
  workspaceId: number;
  name: string;
  teamName: string;
}

/**
 * A failure after the preview workspace exists. The workspace is deliberately kept (deleting it
 * would throw away logs the user needs); the message says so, and that the next run reuses it.
 */
export class DeploymentError extends CodesphereDeployError {
  override readonly name = 'DeploymentError';
  readonly workspace: LeftWorkspace;

  constructor(reason: string, workspace: LeftWorkspace, options?: ErrorOptions) {
    super(
      `${reason}\nWorkspace "${workspace.name}" (id ${workspace.workspaceId}, team "${workspace.teamName}") is left in place: ` +
        'the next run for this change reuses it, and closing the change request deletes it.',
      options,
    );
    this.workspace = workspace;
  }
}

/**
 * Turns any thrown value into one line (or a few) a user can act on, for an adapter's single
 * failure handler. Core errors already carry complete, secret-free messages; anything else
 * (a bug, a non-Error throw) is described by type and redacted with the secrets the adapter
 * knows, because foreign messages can echo URLs or inputs.
 */
export function describeError(err: unknown, secrets: Iterable<string> = []): string {
  const text = rawDescription(err);
  return redact(text, secrets);
}

function rawDescription(err: unknown): string {
  if (err instanceof CodesphereDeployError) return err.message;
  if (err instanceof Error) {
    const message = err.message.trim() || '(no message)';
    return `Unexpected ${err.name}: ${message}`;
  }
  if (typeof err === 'string') return err.trim() || 'Unknown error (an empty string was thrown)';
  if (err === undefined || err === null) return `Unknown error (${String(err)} was thrown)`;
  try {
    return `Unknown error: ${JSON.stringify(err)}`;
  } catch {
    return 'Unknown error (an unprintable value was thrown)';
  }
}

/** The message of a caught value, for warnings and wrapped errors that quote a cause as it is. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
