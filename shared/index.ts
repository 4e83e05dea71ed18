/**
 * The core's one door: adapters import only this module and shared/ci/index.ts (lint enforces it).
 * deploy / teardown / prune (input, reporter, deps?) return DeployResult / TeardownResult /
 * PruneResult, and throw a CodesphereDeployError (errors.ts) or, for a bug, any value (describeError).
 * Layers, imports pointing down only (eslint.config.mjs, house/layers): ci/ -> this door;
 * workflow/ -> codesphere/, request/; codesphere/ -> request/; every layer -> the base (errors,
 * outcomes, reporter, clock, version: beside this file, not a layer); gateway/ stands apart.
 * Where this differs from ../shared/ARCHITECTURE.md (the base beside this door, workflow/apply/plan.ts)
 * and why: docs/design/layers.md
 */
export { deploy } from './workflow/deploy.js';
export { teardown } from './workflow/teardown.js';
export { prune } from './workflow/prune.js';

export type { ChangeRequests, ChangeRequestState, CoreDeps } from './workflow/deps.js';
export type { CodesphereApi, CodesphereApiFactory, CodesphereConnection } from './codesphere/api.js';
export { defaultDeps } from './workflow/deps.js';
export { VERSION } from './version.js';
export type { Reporter } from './reporter.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { redact } from './request/secrets.js';
export type { JobInput, JobKind, Platform } from './request/job-input.js';
export type { DeployResult, PruneResult, TeardownResult, Timings } from './workflow/results.js';
export type { TargetGrid, VpnPoolUsage } from './workflow/results.js';

export {
  ApiError,
  CiVariableError,
  CodesphereDeployError,
  ConfigError,
  DeadlineExceededError,
  DeployCancelledError,
  DeploymentError,
  HealthCheckFailedError,
  HookFailedError,
  OutputWriteError,
  PlatformApiError,
  PrivateTargetsFailedError,
  RedirectRefusedError,
  StageFailedError,
  StageFailedWithLogError,
  VpnCheckFailedError,
  WorkspaceGoneError,
} from './errors.js';
export type { ApiErrorDetails, FieldIssue, LeftWorkspace, RedirectRefusal } from './errors.js';
export { describeError, errorMessage, findCause } from './errors.js';
export { BOOLEAN_WORDS, isBlank, parseBoolean, quoteGiven } from './request/values.js';
export { MIN_SUBSTRING_LENGTH, SecretSet } from './request/secrets.js';
export {
  parseRequest,
  secretsOf,
  DEFAULT_API_URL,
  DEFAULT_PLAN,
  DEFAULT_TIMEOUT_SECONDS,
} from './request/schema.js';
export { isLoopbackHost, withoutCredentials } from './request/urls.js';
export type { DeployRequest } from './request/schema.js';
export { parseChangeNumber, repositoryShortName, workspaceName } from './workflow/naming.js';

// What shared/ci/ needs beyond the above (it may import only this door):
// - the one retry policy and job budget, so platform API calls retry and time out like the core's;
export { attemptTimeoutMs, BUDGET_NAME, decideRetry, DEFAULT_RETRY, seconds } from './codesphere/retry.js';
export type { Deadline, RetryPolicy } from './codesphere/retry.js';
export { describeBytes, MAX_RESPONSE_BYTES, readTextCapped } from './codesphere/bounds.js';
// - the id rule (digits only), so CI ids read like the core's fields;
export { parseId } from './request/values.js';
// - the failing step's log tail, which the change-request note quotes.
export { NOTE_TAIL_LINES, stageLogTailOf } from './workflow/stage-logs.js';
