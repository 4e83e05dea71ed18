/**
 * The CI adapters' second door: what the GitLab image, the Bitbucket pipe and the GitHub Action
 * share beyond the core (shared/index.ts). Reading platform variables, the job runner, a console
 * Reporter, machine-read outputs and their files, platform HTTP, and the change-request note.
 * Adapters import only this module and shared/index.ts (eslint.config.mjs enforces it).
 */
export { ConsoleReporter } from './console-reporter.js';
export type { ConsoleReporterOptions, SectionStyle, TextSink } from './console-reporter.js';
export { PlatformApiError, PLATFORM_TIMEOUT_MS, requestJson } from './http.js';
export type { HttpDeps, JsonRequest, JsonResponse } from './http.js';
export { settle, sleep } from './entry.js';
export { runCiJob } from './job.js';
export type { CiCoreDeps, CiJob, CiPlatform, CoreApi, NoteChannel, OpenChangeRequests } from './job.js';
export { failureForComment, renderLogTail } from './log-tail.js';
export type { CommentLogTail } from './log-tail.js';
export {
  compareRunOrder,
  formatRunOrder,
  isPreviewNote,
  noteMarker,
  noteRunOrder,
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
export { checkOutputFiles, outputFileProblem, OutputWriteError } from './output-path.js';
export type { OutputFile } from './output-path.js';
export { formatOutputLines, secretFreeOutputs, withheldWarning } from './outputs.js';
export { formatHealthCheck, formatTimings } from './timings.js';
export {
  CiVariableError,
  COMMON_VARIABLES,
  inVariableTerms,
  PASS_THROUGH_VARIABLES,
  platformSecrets,
  readCiVariables,
  readFlag,
  readId,
  readVariable,
  SECRET_VARIABLES,
  timeoutMsOf,
  urlCredentials,
  withoutCredentials,
} from './variables.js';
export type { CiVariables, CommonJobInput, Env } from './variables.js';
export { attemptTimeoutMs, BUDGET_NAME, seconds } from '../index.js';
export type { Deadline } from '../index.js';
