/**
 * Deployments and their statuses in the GitHub double
 * (https://docs.github.com/rest/deployments/deployments, .../statuses): create and list
 * deployments (newest first, filtered by environment), add and list statuses, with `auto_inactive`
 * as GitHub documents it.
 */
import type { Route, RouteRequest } from './http-double.js';
import { botUser, field, notFound, now, repoUrl, type GitHubRepo } from './github-rest.js';

export interface DeploymentRecord {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  /** What the creator sent as `payload` (GitHub returns it as given). */
  payload: Record<string, unknown> | string;
  created_at: string;
  statuses: StatusRecord[];
}

export interface StatusRecord {
  id: number;
  state: string;
  description: string;
  environment_url: string;
  log_url: string;
  created_at: string;
}

const SHA = /^[0-9a-f]{40}$/;

const flag = (body: unknown, name: string) =>
  typeof body === 'object' && body !== null && Reflect.get(body, name) === true;

function payloadOf(body: unknown): Record<string, unknown> | string {
  const payload: unknown = typeof body === 'object' && body !== null ? Reflect.get(body, 'payload') : {};
  if (typeof payload === 'string') return payload;
  return typeof payload === 'object' && payload !== null ? Object.fromEntries(Object.entries(payload)) : {};
}

/** The deployment routes, reading and writing `deployments`. */
export function deploymentRoutes(repo: GitHubRepo, deployments: DeploymentRecord[]): Route[] {
  const deploymentBody = (req: RouteRequest, d: DeploymentRecord) => ({
    url: `${repoUrl(repo, req)}/deployments/${d.id}`,
    id: d.id,
    node_id: `DE_${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: 'deploy',
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: botUser,
    created_at: d.created_at,
    updated_at: d.created_at,
    statuses_url: `${repoUrl(repo, req)}/deployments/${d.id}/statuses`,
    repository_url: repoUrl(repo, req),
    transient_environment: d.transient_environment,
    production_environment: d.production_environment,
  });
  const statusBody = (req: RouteRequest, d: DeploymentRecord, s: StatusRecord) => ({
    url: `${repoUrl(repo, req)}/deployments/${d.id}/statuses/${s.id}`,
    id: s.id,
    node_id: `DES_${s.id}`,
    state: s.state,
    creator: botUser,
    description: s.description,
    environment: d.environment,
    target_url: s.log_url,
    created_at: s.created_at,
    updated_at: s.created_at,
    deployment_url: `${repoUrl(repo, req)}/deployments/${d.id}`,
    repository_url: repoUrl(repo, req),
    environment_url: s.environment_url,
    log_url: s.log_url,
  });
  const deploymentOf = (req: RouteRequest) => deployments.find((d) => String(d.id) === req.params['id']);

  /**
   * GitHub's auto_inactive (default true): "Adds a new inactive status to all prior non-transient,
   * non-production environment deployments with the same repository and environment name as the
   * created status's deployment. An inactive status is only added to deployments that had a
   * success state." Prior: created before this deployment (lower id), whatever order runs finish in.
   */
  const inactivatePrior = (d: DeploymentRecord, s: StatusRecord) => {
    for (const prior of deployments) {
      if (prior.id >= d.id || prior.environment !== d.environment) continue;
      if (prior.transient_environment || prior.production_environment) continue;
      if (prior.statuses.at(-1)?.state !== 'success') continue;
      prior.statuses.push({ ...s, id: repo.nextId(), state: 'inactive', environment_url: '' });
    }
  };

  const path = `${repo.prefix}/deployments`;
  return [
    {
      method: 'POST',
      pattern: path,
      handle: (req) => {
        const ref = field(req.body, 'ref', '');
        const d: DeploymentRecord = {
          id: repo.nextId(),
          ref,
          sha: SHA.test(ref) ? ref : 'a'.repeat(40),
          environment: field(req.body, 'environment', 'production'),
          description: field(req.body, 'description', null),
          transient_environment: flag(req.body, 'transient_environment'),
          production_environment: flag(req.body, 'production_environment'),
          payload: payloadOf(req.body),
          created_at: now(),
          statuses: [],
        };
        deployments.push(d);
        return { status: 201, body: deploymentBody(req, d) };
      },
    },
    {
      method: 'GET',
      pattern: path,
      handle: (req) => {
        const environment = req.query['environment'];
        const list = deployments.filter((d) => environment === undefined || d.environment === environment);
        return { status: 200, body: list.reverse().map((d) => deploymentBody(req, d)) }; // newest first
      },
    },
    {
      method: 'POST',
      pattern: `${path}/:id/statuses`,
      handle: (req) => {
        const d = deploymentOf(req);
        if (d === undefined) return notFound();
        const s: StatusRecord = {
          id: repo.nextId(),
          state: field(req.body, 'state', ''),
          description: field(req.body, 'description', ''),
          environment_url: field(req.body, 'environment_url', ''),
          log_url: field(req.body, 'log_url', ''),
          created_at: now(),
        };
        d.statuses.push(s);
        const autoInactive =
          typeof req.body !== 'object' ||
          req.body === null ||
          Reflect.get(req.body, 'auto_inactive') !== false;
        if (s.state === 'success' && autoInactive) inactivatePrior(d, s);
        return { status: 201, body: statusBody(req, d, s) };
      },
    },
    {
      method: 'GET',
      pattern: `${path}/:id/statuses`,
      handle: (req) => {
        const d = deploymentOf(req);
        if (d === undefined) return notFound();
        const perPage = Number(req.query['per_page'] ?? 30);
        const newestFirst = [...d.statuses].reverse().slice(0, perPage);
        return { status: 200, body: newestFirst.map((s) => statusBody(req, d, s)) };
      },
    },
  ];
}
