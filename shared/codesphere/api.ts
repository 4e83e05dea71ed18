/**
 * The CodesphereApi port: the Public API operations the workflow calls, typed with the response
 * schemas (schemas.ts). CodesphereClient (client.ts) implements it over HTTP; tests implement it
 * in memory (test/core/fake-codesphere.ts), so the workflow's decisions are tested without a
 * server. The workflow depends on this interface only; CoreDeps.codesphere (workflow/deps.ts)
 * may pass a factory that builds one per job.
 *
 * Every method throws ApiError for a failed call (404 for a workspace that does not exist, 400
 * with Codesphere's detail for a refused create or update), DeadlineExceededError when the job's
 * budget refuses the call, RedirectRefusedError for a redirect it does not follow.
 */
import type { Clock } from '../clock.js';
import type { PipelineStage } from '../outcomes.js';
import type { LogEventHandlers, StreamEnd } from './log-stream.js';
import type { Deadline } from './retry.js';
import type { ExecuteResult, Plan, StageReplica, Team, Workspace } from './schemas.js';

/** Body of POST /workspaces (codesphere-openapi.json, workspaces-createWorkspace). */
export interface CreateWorkspaceBody {
  teamId: number;
  name: string;
  planId: number;
  isPrivateRepo: boolean;
  replicas: number;
  gitUrl?: string;
  initialBranch?: string;
  cloneDepth?: number;
  baseImage?: string;
  vpnConfig?: string;
  restricted?: boolean;
  env?: Array<{ name: string; value: string }>;
}

/** Body of PATCH /workspaces/{id}: only the fields that change. */
export interface UpdateWorkspaceBody {
  /** Only the zero-downtime VPN switch renames (its new workspace takes the canonical name). */
  name?: string;
  planId?: number;
  replicas?: number;
  baseImage?: string;
  vpnConfig?: string | null;
  restricted?: boolean;
}

export type { PipelineStage } from '../outcomes.js';

/** One workspace variable (workspaces-listEnvVars, workspaces-setEnvVar). */
export interface EnvVarValue {
  name: string;
  value: string;
}

/**
 * One method per operation; names and paths follow codesphere-openapi.json. `createWorkspace` is
 * the one call that is not safe to repeat: its callers settle a create that got no answer by
 * looking the name up (workflow/apply/).
 */
export interface CodesphereApi {
  /** GET /teams: the teams these credentials can see. */
  listTeams(): Promise<Team[]>;
  /** GET /metadata/workspace-plans. */
  listPlans(): Promise<Plan[]>;
  /** GET /workspaces/team/{teamId}. */
  listWorkspaces(teamId: number): Promise<Workspace[]>;
  /** POST /workspaces. 400 when the team has the name already or the VPN config does not exist. */
  createWorkspace(body: CreateWorkspaceBody): Promise<Workspace>;
  /** PATCH /workspaces/{id}: sets the given fields (a vpnConfig restarts the VPN service). */
  updateWorkspace(id: number, body: UpdateWorkspaceBody): Promise<void>;
  /** DELETE /workspaces/{id}; 404 when it is already gone. */
  deleteWorkspace(id: number): Promise<void>;
  /** GET /workspaces/{id}/status. */
  getWorkspaceStatus(id: number): Promise<{ isRunning: boolean }>;
  /** GET /workspaces/{id}/env-vars. */
  listEnvVars(id: number): Promise<EnvVarValue[]>;
  /** PUT /workspaces/{id}/env-vars: sets (adds or overwrites) the given variables. */
  setEnvVars(id: number, vars: EnvVarValue[]): Promise<void>;
  /** DELETE /workspaces/{id}/env-vars: removes the named variables (missing names are no error). */
  deleteEnvVars(id: number, names: string[]): Promise<void>;
  /** GET /workspaces/{id}/git/head: the checked-out commit. */
  gitHead(id: number): Promise<{ head: string }>;
  /** POST /workspaces/{id}/git/pull/{remote}/{branch}. */
  gitPull(id: number, remote: string, branch: string): Promise<void>;
  /**
   * POST /workspaces/{id}/pipeline/{stage}/start[/{profile}]: (re)starts the stage on every
   * replica, with the CI profile's `ci.<profile>.yml` when one is given (400 for an unknown one).
   */
  startPipelineStage(id: number, stage: PipelineStage, profile?: string): Promise<void>;
  /**
   * POST /workspaces/{id}/landscape/deploy[/{profile}] (workspaces-deployLandscape): syncs the
   * landscape's services from `ci.yml` or `ci.<profile>.yml`; 400 for an unknown profile or a
   * workspace that is no landscape ("does not support Multi Server Deployments").
   */
  deployLandscape(id: number, profile?: string): Promise<void>;
  /**
   * PATCH /workspaces/{id}/landscape/scale (workspaces-scaleLandscapeServices) with
   * `{service: replicas}`; 400 for an unknown service or a count the plan does not allow.
   */
  scaleLandscape(id: number, replicas: Record<string, number>): Promise<void>;
  /** GET /workspaces/{id}/pipeline/{stage}: one entry per replica. */
  pipelineStatus(id: number, stage: PipelineStage): Promise<StageReplica[]>;
  /** POST /workspaces/{id}/execute: runs a command (on the replica `env.CODESPHERE_REPLICA`). */
  executeCommand(id: number, command: string, env?: Record<string, string>): Promise<ExecuteResult>;
  /**
   * Follows a step's log (workspaces-logs; with `replica`, the run stage's workspaces-replicaLogs)
   * until the server ends the stream ('ended') or `signal` aborts ('aborted').
   */
  followLogs(
    workspaceId: number,
    stage: PipelineStage,
    step: number,
    handlers: LogEventHandlers,
    signal: AbortSignal,
    replica?: string,
  ): Promise<StreamEnd>;
  /** Follows a landscape service's run step log (workspaces-serverLogs), as followLogs does. */
  followServerLogs(
    workspaceId: number,
    step: number,
    server: string,
    handlers: LogEventHandlers,
    signal: AbortSignal,
  ): Promise<StreamEnd>;
}

/** What a job knows when it connects to the API: built once per job by workflow/session.ts. */
export interface CodesphereConnection {
  /** The API's base URL without `/api` (the request's apiUrl). */
  apiUrl: string;
  /** The Bearer token: the API token, or the one sign-in produced (already masked). */
  token: string;
  userAgent: string;
  clock: Clock;
  /** The job's deadline on `clock`: no request or retry wait starts past it. */
  deadline: Deadline;
  /** `createWorkspace` is refused unless this much of the deadline remains (ms). */
  createReserveMs: number;
  /** Retries and redirects are logged here. */
  debug(message: string): void;
  /** Redacted from every error message. */
  secrets: string[];
}

/** Builds the job's CodesphereApi; the default makes a CodesphereClient (HTTP). */
export type CodesphereApiFactory = (connection: CodesphereConnection) => CodesphereApi;
