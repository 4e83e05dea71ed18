import { z } from 'zod';

import { ConfigError, DeadlineExceededError } from '../errors.js';
import { describeBytes, MAX_REQUEST_BYTES } from './bounds.js';
import { BUDGET_NAME, remainingMs, seconds } from './retry.js';
import { HttpClient, type HttpClientOptions, type Operation } from './http.js';
import type {
  CodesphereApi,
  CodesphereApiFactory,
  CreateWorkspaceBody,
  PipelineStage,
  UpdateWorkspaceBody,
} from './api.js';
import { followLogStream, type LogEventHandlers, type StreamEnd } from './log-stream.js';
import {
  envVarSchema,
  executeResultSchema,
  gitHeadSchema,
  planSchema,
  stageReplicaSchema,
  teamSchema,
  workspaceSchema,
  workspaceStatusSchema,
  type ExecuteResult,
  type Plan,
  type StageReplica,
  type Team,
  type Workspace,
} from './schemas.js';

/**
 * What a create leaves of the budget for settling a create that got no answer (one list of the
 * team's workspaces): a quarter of the create reserve, at most 5 s (ms).
 */
export function settleMarginMs(createReserveMs: number): number {
  return Math.min(5_000, Math.floor(createReserveMs / 4));
}

export type { CreateWorkspaceBody, PipelineStage, UpdateWorkspaceBody } from './api.js';

/**
 * The CodesphereApi over HTTP: one method per operation, each an `Operation` (path, body,
 * response schema, whether it may be repeated) run by HttpClient with auth, retries within the
 * job's deadline and zod-checked answers. Paths and bodies follow codesphere-openapi.json.
 */
export class CodesphereClient implements CodesphereApi {
  readonly http: HttpClient;
  private readonly createReserveMs: number;
  private readonly deadline: HttpClientOptions['deadline'];

  /** What the log streams need besides the HttpClient (they are read with fetch, see log-stream.ts). */
  private readonly stream: { baseUrl: string; userAgent: string; token?: string; secrets: string[] };

  /**
   * `createReserveMs`: `createWorkspace` is refused (DeadlineExceededError, nothing sent) unless at
   * least this much of the deadline remains, so no workspace is created that the job has no time
   * to bring up (see session.ts, createReserve). Default 0.
   */
  constructor(
    options: Omit<HttpClientOptions, 'baseUrl'> & {
      apiUrl: string;
      token?: string;
      createReserveMs?: number;
    },
  ) {
    this.http = new HttpClient({ ...options, baseUrl: `${options.apiUrl}/api` });
    this.stream = {
      baseUrl: `${options.apiUrl}/api`,
      userAgent: options.userAgent,
      secrets: [...(options.secrets ?? [])],
    };
    if (options.token) this.setToken(options.token);
    this.deadline = options.deadline;
    this.createReserveMs = options.createReserveMs ?? 0;
  }

  setToken(token: string): void {
    this.http.setToken(token);
    this.stream.token = token;
    this.stream.secrets.push(token);
  }

  /**
   * Follows a pipeline step's log (workspaces-logs; for the run stage of a replica,
   * workspaces-replicaLogs) until the server ends the stream or `signal` aborts.
   */
  followLogs(
    workspaceId: number,
    stage: PipelineStage,
    step: number,
    handlers: LogEventHandlers,
    signal: AbortSignal,
    replica?: string,
  ): Promise<StreamEnd> {
    const path =
      replica === undefined
        ? `/workspaces/${workspaceId}/logs/${stage}/${step}`
        : `/workspaces/${workspaceId}/logs/run/${step}/replica/${encodeURIComponent(replica)}`;
    return followLogStream({
      url: `${this.stream.baseUrl}${path}`,
      operation: replica === undefined ? 'logs' : 'replicaLogs',
      token: this.stream.token,
      userAgent: this.stream.userAgent,
      signal,
      handlers,
      secrets: this.stream.secrets,
    });
  }

  followServerLogs(
    workspaceId: number,
    step: number,
    server: string,
    handlers: LogEventHandlers,
    signal: AbortSignal,
  ): Promise<StreamEnd> {
    return followLogStream({
      url: `${this.stream.baseUrl}/workspaces/${workspaceId}/logs/run/${step}/server/${encodeURIComponent(server)}`,
      operation: 'serverLogs',
      token: this.stream.token,
      userAgent: this.stream.userAgent,
      signal,
      handlers,
      secrets: this.stream.secrets,
    });
  }

  private call<T>(op: Operation<T>): Promise<T> {
    return this.http.call(op);
  }

  listTeams(): Promise<Team[]> {
    return this.call({
      name: 'listTeams',
      method: 'GET',
      path: '/teams',
      response: z.array(teamSchema),
      idempotent: true,
    });
  }

  listPlans(): Promise<Plan[]> {
    return this.call({
      name: 'getWorkspacePlans',
      method: 'GET',
      path: '/metadata/workspace-plans',
      response: z.array(planSchema),
      idempotent: true,
    });
  }

  listWorkspaces(teamId: number): Promise<Workspace[]> {
    return this.call({
      name: 'listWorkspaces',
      method: 'GET',
      path: `/workspaces/team/${teamId}`,
      response: z.array(workspaceSchema),
      idempotent: true,
    });
  }

  getWorkspace(id: number): Promise<Workspace> {
    return this.call({
      name: 'getWorkspace',
      method: 'GET',
      path: `/workspaces/${id}`,
      response: workspaceSchema,
      idempotent: true,
    });
  }

  createWorkspace(body: CreateWorkspaceBody): Promise<Workspace> {
    const left = remainingMs(this.deadline);
    if (left < Math.max(this.createReserveMs, 1)) {
      return Promise.reject(
        new DeadlineExceededError(
          `Not creating workspace "${body.name}": ${seconds(left)} of the job's time budget (${BUDGET_NAME}) remain, ` +
            `and creating and starting a workspace needs at least ${seconds(this.createReserveMs)}. Nothing was created; ` +
            'raise the budget or retry when Codesphere answers faster.',
        ),
      );
    }
    const tooLarge = envTooLarge('create', body, body.env?.length ?? 0);
    if (tooLarge) return Promise.reject(tooLarge);
    return this.call({
      name: 'createWorkspace',
      method: 'POST',
      path: '/workspaces',
      body,
      response: workspaceSchema,
      idempotent: false,
      // A create that gets no answer may still have happened: its wait ends a settle margin
      // before the deadline, so the check by name (workflow/apply/) can still be sent.
      ...(Number.isFinite(left)
        ? { timeoutMs: Math.max(1, left - settleMarginMs(this.createReserveMs)) }
        : {}),
    });
  }

  async updateWorkspace(id: number, body: UpdateWorkspaceBody): Promise<void> {
    // Setting fields to given values: repeating it changes nothing more.
    await this.call({
      name: 'updateWorkspace',
      method: 'PATCH',
      path: `/workspaces/${id}`,
      body,
      idempotent: true,
    });
  }

  async deleteWorkspace(id: number): Promise<void> {
    await this.call({
      name: 'deleteWorkspace',
      method: 'DELETE',
      path: `/workspaces/${id}`,
      idempotent: true,
    });
  }

  getWorkspaceStatus(id: number): Promise<{ isRunning: boolean }> {
    return this.call({
      name: 'getWorkspaceStatus',
      method: 'GET',
      path: `/workspaces/${id}/status`,
      response: workspaceStatusSchema,
      idempotent: true,
    });
  }

  listEnvVars(id: number): Promise<Array<{ name: string; value: string }>> {
    return this.call({
      name: 'listEnvVars',
      method: 'GET',
      path: `/workspaces/${id}/env-vars`,
      response: z.array(envVarSchema),
      idempotent: true,
    });
  }

  async setEnvVars(id: number, vars: Array<{ name: string; value: string }>): Promise<void> {
    const tooLarge = envTooLarge('update', vars, vars.length);
    if (tooLarge) throw tooLarge;
    await this.call({
      name: 'setEnvVar',
      method: 'PUT',
      path: `/workspaces/${id}/env-vars`,
      body: vars,
      idempotent: true,
    });
  }

  /**
   * DELETE /workspaces/{id}/env-vars (workspaces-deleteEnvVar): removes the named variables; the
   * body is the array of names. Deleting a name that is already gone changes nothing: safe to repeat.
   */
  async deleteEnvVars(id: number, names: string[]): Promise<void> {
    await this.call({
      name: 'deleteEnvVar',
      method: 'DELETE',
      path: `/workspaces/${id}/env-vars`,
      body: names,
      idempotent: true,
    });
  }

  gitHead(id: number): Promise<{ head: string }> {
    return this.call({
      name: 'gitHead',
      method: 'GET',
      path: `/workspaces/${id}/git/head`,
      response: gitHeadSchema,
      idempotent: true,
    });
  }

  async gitPull(id: number, remote: string, branch: string): Promise<void> {
    // A pull of the same branch twice is a no-op the second time: safe to repeat.
    await this.call({
      name: 'gitPull',
      method: 'POST',
      path: `/workspaces/${id}/git/pull/${encodeURIComponent(remote)}/${encodeURIComponent(branch)}`,
      idempotent: true,
    });
  }

  async startPipelineStage(id: number, stage: PipelineStage, profile?: string): Promise<void> {
    // Starting a stage that is already starting restarts the same work: safe to repeat.
    await this.call({
      name: 'startPipelineStage',
      method: 'POST',
      path: `/workspaces/${id}/pipeline/${stage}/start${profile === undefined ? '' : `/${encodeURIComponent(profile)}`}`,
      idempotent: true,
    });
  }

  async deployLandscape(id: number, profile?: string): Promise<void> {
    // Deploying the same landscape again syncs to the same state: safe to repeat.
    await this.call({
      name: 'deployLandscape',
      method: 'POST',
      path: `/workspaces/${id}/landscape/deploy${profile === undefined ? '' : `/${encodeURIComponent(profile)}`}`,
      idempotent: true,
    });
  }

  async scaleLandscape(id: number, replicas: Record<string, number>): Promise<void> {
    // Setting counts to given values: repeating it changes nothing more.
    await this.call({
      name: 'scaleLandscapeServices',
      method: 'PATCH',
      path: `/workspaces/${id}/landscape/scale`,
      body: replicas,
      idempotent: true,
    });
  }

  pipelineStatus(id: number, stage: PipelineStage): Promise<StageReplica[]> {
    return this.call({
      name: 'pipelineStatus',
      method: 'GET',
      path: `/workspaces/${id}/pipeline/${stage}`,
      response: z.array(stageReplicaSchema),
      idempotent: true,
    });
  }

  executeCommand(id: number, command: string, env?: Record<string, string>): Promise<ExecuteResult> {
    // Only read-only probes are executed (ping, nc -z): safe to repeat.
    return this.call({
      name: 'executeCommand',
      method: 'POST',
      path: `/workspaces/${id}/execute`,
      body: env ? { command, env } : { command },
      response: executeResultSchema,
      idempotent: true,
    });
  }
}

/**
 * The `env` input's share of a request Codesphere would refuse as too large (413): said before
 * the call, naming the input. The count includes the markers managed-env.ts adds, one per
 * variable, which is why the body is about twice what `env` holds.
 */
function envTooLarge(call: 'create' | 'update', body: unknown, variables: number): ConfigError | undefined {
  const size = Buffer.byteLength(JSON.stringify(body), 'utf8');
  if (size <= MAX_REQUEST_BYTES || variables === 0) return undefined;
  return ConfigError.single(
    'env',
    `${variables.toLocaleString('en-US')} workspace variables (the declared ones and one marker each) make the ${call} request ` +
      `${describeBytes(size)}; Codesphere accepts at most ${describeBytes(MAX_REQUEST_BYTES)}. Declare fewer or shorter variables. Nothing was ${call === 'create' ? 'created' : 'set'}.`,
  );
}

/** The default CodesphereApiFactory: a CodesphereClient for the connection, token set. */
export const connectCodesphere: CodesphereApiFactory = (connection) =>
  new CodesphereClient({
    apiUrl: connection.apiUrl,
    token: connection.token,
    userAgent: connection.userAgent,
    clock: connection.clock,
    deadline: connection.deadline,
    createReserveMs: connection.createReserveMs,
    debug: (message) => connection.debug(message),
    secrets: connection.secrets,
  });
