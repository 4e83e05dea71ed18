/**
 * The core's public entry points. Adapters call exactly these:
 *
 *   deploy(input, reporter, deps?)   -> DeployResult    (create or update the change's preview;
 *                                       DeployCancelledError when its change request is closed)
 *   teardown(input, reporter, deps?) -> TeardownResult  (delete it; already gone is success)
 *   prune(input, reporter, deps?)    -> PruneResult     (delete previews of closed changes / past a TTL)
 *
 * Everything thrown is a CodesphereDeployError whose message is complete and secret-free (or,
 * for a bug, any value: pass it to describeError). The core uses the Reporter's info, warning,
 * debug, group and mask; outputs and summaries are the adapter's, built from the result.
 */
export { deploy } from './deploy.js';
export { teardown } from './teardown.js';
export { prune } from './prune.js';

export type { ChangeRequests, ChangeRequestState, CoreDeps } from './deps.js';
export { DeployCancelledError } from './change-request.js';
export { defaultDeps, CORE_VERSION } from './deps.js';
export type { Reporter } from './reporter.js';
export { redact } from './reporter.js';
export type {
  DeployResult,
  JobInput,
  JobKind,
  Platform,
  PruneResult,
  TeardownResult,
  Timings,
} from './contract.js';

export { ApiError, CodesphereDeployError, ConfigError, DeploymentError } from './errors.js';
export type { ApiErrorDetails, FieldIssue, LeftWorkspace } from './errors.js';
export { describeError, errorMessage } from './describe-error.js';
export { isBlank, parseBoolean } from './values.js';
export { parseRequest, secretsOf, DEFAULT_API_URL, DEFAULT_PLAN } from './request.js';
export type { DeployRequest } from './request.js';
export { parseChangeNumber, repositoryShortName, workspaceName } from './naming.js';
