/**
 * The CI adapters' second door: what the GitLab image, the Bitbucket pipe and the GitHub Action
 * share beyond the core (shared/index.ts). The job's context, read once from a plain env object
 * (context.ts, variables.ts), the job runner that receives only that context (job.ts), a console
 * Reporter, machine-read outputs and their files, platform HTTP, the change-request port built from
 * a platform's REST routes (change-request-api.ts), and the change-request note.
 * Adapters import only this module and shared/index.ts (eslint.config.mjs enforces it).
 */
// The error classes ci/ throws live in the core's one error module (shared/errors.ts).
export { CiVariableError, OutputWriteError, PlatformApiError } from '../index.js';
export { ConsoleReporter } from './console-reporter.js';
export type { ConsoleReporterOptions, SectionStyle, TextSink } from './console-reporter.js';
export { PLATFORM_TIMEOUT_MS, requestJson } from './http.js';
export type { HttpDeps, JsonRequest, JsonResponse } from './http.js';
export { settle } from './entry.js';
export { reportReserveMs, runCiJob } from './job.js';
export type {
  CiCoreDeps,
  CiPlatform,
  CiRuntime,
  CoreApi,
  JobLifecycle,
  JobOutcome,
  JobReporter,
  PlatformWords,
} from './job.js';
export { readCiContext } from './context.js';
export type { CiContext, CiJobContext, CiLogContext, PlatformReading } from './context.js';
export { allPages, changeRequestApi, changeRequestPort } from './change-request-api.js';
export type { ChangeRequestApi, ChangeRequestCalls, ChangeRequestRoutes } from './change-request-api.js';
export { failureForComment, renderLogTail } from './log-tail.js';
export type { CommentLogTail } from './log-tail.js';
export {
  compareRunOrder,
  formatRunOrder,
  isPreviewNote,
  noteMarker,
  noteRunOrder,
  COMMIT_LENGTH,
  LEGACY_NOTE_MARKER_IDS,
  NOTE_MARKER_ID,
  parseRunOrder,
  renderNote,
  runMarkerLines,
  runOrderOf,
  syncNote,
  withPhase,
} from './note.js';
export type {
  NoteMarkerStyle,
  NoteState,
  NoteStore,
  NoteSyncDeps,
  NoteSyncResult,
  RunOrder,
  StoredNote,
} from './note.js';
export { checkOutputFiles, outputFileProblem } from './output-path.js';
export type { OutputFile } from './output-path.js';
export { formatOutputLines, secretFreeOutputs, withheldWarning, writeOutputLines } from './outputs.js';
export { formatHealthCheck, formatTimings } from './timings.js';
export { renderServices, servicesOutput } from './services.js';
export {
  cloneUrlOf,
  COMMON_VARIABLES,
  inVariableTerms,
  PASS_THROUGH_VARIABLES,
  platformSecrets,
  readCiVariables,
  readFlag,
  readId,
  readRequired,
  readVariable,
  SECRET_VARIABLES,
  timeoutMsOf,
  urlCredentials,
  withoutCredentials,
} from './variables.js';
export type { CiVariables, CommonJobInput, Env } from './variables.js';
export { attemptTimeoutMs, BUDGET_NAME, seconds } from '../index.js';
export type { Deadline } from '../index.js';
