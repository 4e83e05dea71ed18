/**
 * Every error the core (request/, codesphere/, workflow/) and ci/ throw: one tree, one module.
 * Every `.message` is complete, user-facing and secret-free, so adapters print it as is and fail
 * the job once (describeError). A wrapped error is the ES2022 `cause`, except transport errors of
 * the HTTP clients, which carry the request and its token: those are quoted by code and message.
 * This module sits under every layer and imports only types from outcomes.ts.
 * Design: docs/design/errors.md
 */

import type {
  FailedHealthCheck,
  StageLogTail,
  TargetGrid,
  TeardownResult,
  VpnCheckOutcome,
} from './outcomes.js';

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

  constructor(details: ApiErrorDetails, message?: string, options?: ErrorOptions) {
    super(message ?? ApiError.format(details), options);
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

/** Why a redirect was not followed. */
export type RedirectRefusal = 'insecure' | 'too-many' | 'not-followed';

/**
 * An API answered with a redirect that was not followed, so the credentials the request carried
 * were not sent on: to plain http on a non-loopback host or past the hop limit (the Codesphere
 * client, codesphere/http.ts), or at all (the CI platforms' helper, ci/http.ts, which sends
 * tokens in custom headers and follows no redirect). Carries the target's origin only (scheme
 * and host: no user info, path or query, where a token could ride along).
 */
export class RedirectRefusedError extends CodesphereDeployError {
  override readonly name = 'RedirectRefusedError';
  readonly operation: string;
  /** The redirect's HTTP status (301, 302, 303, 307, 308). */
  readonly status: number;
  /** `protocol//host` of the refused target, e.g. "http://evil.example:8080". */
  readonly target: string;
  readonly refusal: RedirectRefusal;

  constructor(
    details: { operation: string; status: number; target: string; refusal: RedirectRefusal },
    message: string,
  ) {
    super(message);
    this.operation = details.operation;
    this.status = details.status;
    this.target = details.target;
    this.refusal = details.refusal;
  }
}

/** A CI platform API call that failed (ci/http.ts); the message is complete and safe to print. */
export class PlatformApiError extends CodesphereDeployError {
  override readonly name = 'PlatformApiError';
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The job's time budget is used up: a clear, user-facing message that names what was cut short. */
export class DeadlineExceededError extends CodesphereDeployError {
  override readonly name = 'DeadlineExceededError';
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
 * A deploy that stopped because its change request is closed: not a failure (the close is what the
 * user asked for last), and not "ready" either. Adapters report it as a notice, exit 0, and write
 * no "ready" note or deployment status. `removed` says what the deploy deleted of the preview.
 */
export class DeployCancelledError extends CodesphereDeployError {
  override readonly name = 'DeployCancelledError';

  constructor(
    message: string,
    /** The change request as the platform writes it ("pull request #11"). */
    readonly changeRequest: string,
    /** The preview's name and what this run deleted of it (deleted: false when nothing existed). */
    readonly removed: TeardownResult,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The workspace vanished mid-deploy: most often a teardown (change request closed) raced this run,
 * but prune past its TTL or a person in Codesphere deletes workspaces too, so messages name them all.
 */
export class WorkspaceGoneError extends CodesphereDeployError {
  override readonly name = 'WorkspaceGoneError';
}

/** A pipeline stage ended in failure or aborted on at least one replica. */
export class StageFailedError extends CodesphereDeployError {
  override readonly name = 'StageFailedError';
}

/** A failed stage whose failing step's log tail is known (workflow/stage-logs.ts). */
export class StageFailedWithLogError extends StageFailedError {
  /** The tail, and the exact block quoted in the message (so a comment can show a shorter one instead). */
  constructor(
    message: string,
    readonly tail: StageLogTail,
    readonly quoted: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The VPN probe (workflow/vpn-check.ts) did not reach its target from a replica within its window. */
export class VpnCheckFailedError extends CodesphereDeployError {
  override readonly name = 'VpnCheckFailedError';
  constructor(
    message: string,
    /** The failed outcome: target, replica, the probe's output. */
    readonly outcome: Extract<VpnCheckOutcome, { status: 'failed' }>,
  ) {
    super(message);
  }
}

/** A private target failed from some service replica (workflow/private-targets.ts); `grid` has every cell. */
export class PrivateTargetsFailedError extends CodesphereDeployError {
  override readonly name = 'PrivateTargetsFailedError';
  constructor(
    message: string,
    readonly grid: TargetGrid,
  ) {
    super(message);
  }
}

/** A hook (onCreate) failed inside the preview (workflow/preview-hooks.ts); `outputTail` is masked by the reporter. */
export class HookFailedError extends CodesphereDeployError {
  override readonly name = 'HookFailedError';
  constructor(
    message: string,
    readonly hook: 'onCreate' | 'onDelete',
    readonly outputTail: string,
  ) {
    super(message);
  }
}

/** The app did not answer 2xx/3xx on every replica within the budget (workflow/health-check.ts). */
export class HealthCheckFailedError extends CodesphereDeployError {
  override readonly name = 'HealthCheckFailedError';
  constructor(
    message: string,
    readonly outcome: FailedHealthCheck,
  ) {
    super(message);
  }
}

/**
 * A variable the user set wrongly (ci/variables.ts). A ConfigError like the core's own, so it
 * prints the same way: `Invalid input "ACTION": got "deploi"; expected deploy, teardown or prune`.
 */
export class CiVariableError extends ConfigError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super([{ field: variable, message }]);
  }
}

/**
 * An output file could not be written after the preview was deployed: says that the preview
 * exists (and where), which variable's file failed, and why, without calling the deploy failed.
 */
export class OutputWriteError extends CodesphereDeployError {
  override readonly name = 'OutputWriteError';
  constructor(variable: string, filePath: string, deployed: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(
      `The preview is deployed (${deployed}), but its outputs could not be written to ${variable}="${filePath}"` +
        `${code ? ` (${code})` : ''}: later steps that read them will not find them. Fix ${variable} and rerun; the next run reuses the workspace.`,
      { cause },
    );
  }
}

/**
 * Turns any thrown value into one line (or a few) a user can act on, for an adapter's single
 * failure handler. Core errors already carry complete, secret-free messages; anything else (a bug,
 * a non-Error throw) is described by type with its message as it is. A foreign message can echo
 * URLs or inputs, so callers print the result through their Reporter, which masks every secret
 * (or pass it to `redact` where no Reporter is at hand).
 */
/**
 * The first error of class `kind` in `error`'s cause chain (itself first), or undefined; at most
 * ten links, so a cycle of causes cannot hang it.
 */
export function findCause<T extends Error>(
  error: unknown,
  kind: abstract new (...args: never[]) => T,
): T | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof kind) return e;
  }
  return undefined;
}

export function describeError(err: unknown): string {
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
