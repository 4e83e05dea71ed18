/**
 * The core's one door. Adapters import only this module and shared/ci/index.ts (lint enforces it).
 *
 *   deploy(input, reporter, deps?)   -> DeployResult    (create or update the change's preview;
 *                                       DeployCancelledError when its change request is closed)
 *   teardown(input, reporter, deps?) -> TeardownResult  (delete it; already gone is success)
 *   prune(input, reporter, deps?)    -> PruneResult     (delete previews of closed changes / past a TTL)
 *
 * The layers; imports point down only, and eslint.config.mjs (`layer(...)`) keeps them:
 *
 *   ci/          what the CI adapters share (its own door, ci/index.ts): the platform context,
 *                job runner, console reporter, outputs, platform HTTP and change-request API, the
 *                change-request note. Uses the core only through this file, as adapters do.
 *   workflow/    deploy, teardown, prune and their steps: session, resolve, naming, wait,
 *                apply/ (plan, create, update, zero-downtime switch), VPN check, health check.
 *                Imports request/ and codesphere/.
 *   codesphere/  the Public API: its port (api.ts, CodesphereApi) and the HTTP client that
 *                implements it: HTTP, retry (the only retry policy), schemas, sign-in, log
 *                stream, problems (what Codesphere's error texts mean).
 *   request/     the job input, the bottom layer: schema, fields, dotenv, secrets, values, urls.
 *   gateway/     the gateway helper and its CLI: apart, shares nothing with the workflow.
 *
 * Where this improves on the target shape in ../shared/ARCHITECTURE.md, and why:
 * - errors.ts, reporter.ts, clock.ts and version.ts sit beside this file, not in a layer: every
 *   layer throws from the one error tree and talks through the Reporter and Clock ports, so they
 *   belong to none (a layer of one file each would only add a directory).
 * - apply/ has a plan.ts: the create | update | switch decision and the union of what apply did
 *   are one small module deploy.ts switches on, instead of a variable mutated along the way.
 * - ci/ enters the core through this door too, so the core's surface for CI code is this file.
 *
 * Everything thrown is a CodesphereDeployError (shared/errors.ts) whose message is complete and
 * secret-free (or, for a bug, any value: pass it to describeError). The core uses the Reporter's
 * info, warning, debug, group and mask; outputs and summaries are the adapter's, built from the result.
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
export { describeError, errorMessage } from './errors.js';
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

// What shared/ci/ needs beyond the above, which may only import this door (eslint.config.mjs):
// - the one retry policy and job budget, so platform API calls retry and time out like the core's;
export { attemptTimeoutMs, BUDGET_NAME, decideRetry, DEFAULT_RETRY, seconds } from './codesphere/retry.js';
export type { Deadline, RetryPolicy } from './codesphere/retry.js';
// - the id rule (digits only), so CI ids read like the core's fields;
export { parseId } from './request/values.js';
// - the failing step's log tail, which the change-request note quotes.
export { NOTE_TAIL_LINES, stageLogTailOf } from './workflow/stage-logs.js';
