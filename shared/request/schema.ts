import { z } from 'zod';

import { ConfigError, type FieldIssue } from '../errors.js';
import type { EnvVar } from './dotenv.js';
import { parseDotenv } from './dotenv.js';
import {
  apiUrlField,
  booleanField,
  commitField,
  credentialsField,
  envField,
  gitUrlField,
  healthCheckField,
  integerField,
  nameOrId,
  openNumbersField,
  optionalName,
  platformField,
  positiveNumberField,
  repositoryField,
  requiredName,
  vpnCheckField,
  vpnSwitchField,
  quoterHiding,
  type Credentials,
  type HealthCheckTarget,
  type Show,
  type VpnCheckTarget,
} from './fields.js';
import type { JobInput, JobKind, Platform } from './job-input.js';
import {
  healthPathField,
  profileField,
  replicasField,
  stagesField,
  type HealthPaths,
  type StageName,
} from './landscape-fields.js';
import {
  hookField,
  hookSecrets,
  onCreateServiceField,
  privateTargetsField,
  vpnPoolSizeField,
  type PrivateTarget,
} from './private-data-fields.js';
import { isSecretName, SecretSet } from './secrets.js';
import { isBlank, parseId } from './values.js';

/**
 * The one input surface of the core: `parseRequest` turns an adapter's raw `JobInput` (strings
 * as CI platforms hand them over) into a validated `DeployRequest`, or throws one `ConfigError`
 * that lists every bad field at once, each with what was given and what is valid (request/fields.ts).
 * Secret fields (token, password, env values) are never echoed.
 */

export type { Credentials, EnvVar, HealthCheckTarget, HealthPaths, PrivateTarget, StageName, VpnCheckTarget };

/** The private-data inputs, validated (docs/private-data.md). */
export interface PrivateDataRequest {
  /** Checked from every replica of every service after the run starts; empty: none. */
  targets: PrivateTarget[];
  onCreate: string | undefined;
  onCreateService: string | undefined;
  onDelete: string | undefined;
  vpnPoolSize: number | undefined;
}
export { DEFAULT_API_URL } from './fields.js';

export type TeamRef = { id: number } | { name: string };
export type PlanRef = { id: number } | { title: string };

export interface DeployRequest {
  kind: JobKind;
  credentials: Credentials;
  /** Normalised: no trailing slash, no `/api` (the client appends it). */
  apiUrl: string;
  team: TeamRef;
  plan: PlanRef;
  onDemand: boolean;
  /** `null`: no VPN (an existing workspace is detached). */
  vpnConfig: string | null;
  env: EnvVar[];
  /** Sent on create; on update only when given. */
  restricted: boolean | undefined;
  cloneDepth: number | undefined;
  /** The workspace's replicas (1 when `replicas` names services: see serviceReplicas). */
  replicas: number;
  /** `replicas` as per-service pairs (`web=2,api=1`): one landscape scale after the deploy. */
  serviceReplicas: Record<string, number> | undefined;
  /** The CI profile (`ci.<profile>.yml`); undefined: `ci.yml`. */
  profile: string | undefined;
  /** The pipeline stages to run, in order, ending with run (default prepare, run). */
  stages: StageName[];
  /** Health paths per landscape service (`healthPath` pairs); one path for all is `healthCheck`. */
  serviceHealthPaths: Record<string, HealthCheckTarget> | undefined;
  baseImage: string | undefined;
  vpnCheck: VpnCheckTarget | undefined;
  /** App endpoint asked from inside each replica before "ready" (workflow/health-check.ts). */
  healthCheck: HealthCheckTarget | undefined;
  vpnSwitch: 'in-place' | 'zero-downtime';
  privateData: PrivateDataRequest;
  timeoutMs: number;
  platform: Platform;
  repository: string;
  gitUrl: string;
  isPrivateRepo: boolean;
  branch: string | undefined;
  commit: string | undefined;
  changeNumber: number | undefined;
  openChangeNumbers: number[] | undefined;
  pruneTtlHours: number | undefined;
  dryRun: boolean;
  /** Every secret value in the input; the core masks them all before its first request. */
  secrets: string[];
}

export const DEFAULT_PLAN = 'Boost';
export const DEFAULT_TIMEOUT_SECONDS = 900;

// ---------------------------------------------------------------------------------------------
// The schema: JobInput, regrouped so cross-field rules are field rules, -> DeployRequest.

const INPUT_FIELDS = [
  'apiUrl',
  'team',
  'plan',
  'onDemand',
  'vpnConfig',
  'env',
  'restricted',
  'cloneDepth',
  'replicas',
  'profile',
  'stages',
  'healthPath',
  'baseImage',
  'vpnCheck',
  'healthCheck',
  'vpnSwitch',
  'privateTargets',
  'onCreate',
  'onCreateService',
  'onDelete',
  'vpnPoolSize',
  'timeoutSeconds',
  'platform',
  'repository',
  'gitUrl',
  'isPrivateRepo',
  'branch',
  'commit',
  'changeNumber',
  'openChangeNumbers',
  'pruneTtlHours',
  'dryRun',
] as const satisfies ReadonlyArray<keyof JobInput>;

function requestSchema(kind: JobKind, show: Show) {
  const changeNumber = integerField(
    show,
    1,
    Number.MAX_SAFE_INTEGER,
    'a positive whole number (the PR/MR number)',
  );
  return z.preprocess(
    (raw) => {
      const input = (raw ?? {}) as Partial<JobInput>;
      // Every key present (even as undefined): zod 4 reports absent keys before field defaults run.
      const fields = Object.fromEntries(INPUT_FIELDS.map((key) => [key, input[key]]));
      return {
        ...fields,
        credentials: { apiToken: input.apiToken, email: input.email, password: input.password },
      };
    },
    z
      .object({
        credentials: credentialsField(show),
        apiUrl: apiUrlField(show),
        team: nameOrId(show, 'team'),
        plan: nameOrId(show, 'plan', DEFAULT_PLAN),
        onDemand: booleanField(show, false),
        vpnConfig: optionalName(show, 'the name of a VPN config of the team'),
        env: envField,
        restricted: booleanField(show, undefined),
        cloneDepth: integerField(show, 1, 1_000_000, 'a positive whole number of commits'),
        replicas: replicasField(show),
        profile: profileField(show),
        stages: stagesField(show),
        healthPath: healthPathField(show),
        baseImage: optionalName(show, 'a base image name'),
        privateTargets: privateTargetsField(show),
        onCreate: hookField('onCreate'),
        onCreateService: onCreateServiceField(show),
        onDelete: hookField('onDelete'),
        vpnPoolSize: vpnPoolSizeField(show),
        vpnCheck: vpnCheckField(show),
        healthCheck: healthCheckField(show),
        vpnSwitch: vpnSwitchField(show),
        timeoutSeconds: integerField(show, 1, 86_400, 'a whole number of seconds from 1 to 86400'),
        platform: platformField(show),
        repository: repositoryField(show),
        gitUrl: gitUrlField(show, kind === 'deploy'),
        isPrivateRepo: booleanField(show, true),
        branch:
          kind === 'deploy'
            ? requiredName(show, 'the branch to deploy')
            : optionalName(show, 'the branch of the preview'),
        commit: commitField(show),
        changeNumber,
        openChangeNumbers: openNumbersField(show),
        pruneTtlHours: positiveNumberField(show, 'a positive number of hours'),
        dryRun: booleanField(show, false),
      })
      .transform((f): DeployRequest => {
        const envSecrets = f.env.filter((e) => isSecretName(e.name)).map((e) => e.value);
        const credentialSecrets =
          f.credentials.kind === 'token' ? [f.credentials.apiToken] : [f.credentials.password];
        return {
          kind,
          credentials: f.credentials,
          apiUrl: f.apiUrl,
          // An id by the one id rule (digits, safe integer, from 1); other digits are a name, never
          // an id rounded from them (99999999999999999999 would look for team 1e20).
          team: parseId(f.team) !== undefined ? { id: Number(f.team) } : { name: f.team },
          plan: parseId(f.plan) !== undefined ? { id: Number(f.plan) } : { title: f.plan },
          onDemand: f.onDemand ?? false,
          vpnConfig: f.vpnConfig ?? null,
          env: f.env,
          restricted: f.restricted,
          cloneDepth: f.cloneDepth,
          replicas: f.replicas?.kind === 'count' ? f.replicas.count : 1,
          serviceReplicas: f.replicas?.kind === 'services' ? f.replicas.services : undefined,
          profile: f.profile,
          stages: f.stages,
          serviceHealthPaths: f.healthPath?.kind === 'services' ? f.healthPath.services : undefined,
          baseImage: f.baseImage,
          vpnCheck: f.vpnCheck,
          healthCheck: f.healthPath?.kind === 'all' ? f.healthPath.target : f.healthCheck,
          vpnSwitch: f.vpnSwitch,
          privateData: {
            targets: f.privateTargets,
            onCreate: f.onCreate,
            onCreateService: f.onCreateService,
            onDelete: f.onDelete,
            vpnPoolSize: f.vpnPoolSize,
          },
          timeoutMs: (f.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
          platform: f.platform,
          repository: f.repository,
          gitUrl: f.gitUrl.url,
          isPrivateRepo: f.isPrivateRepo ?? true,
          branch: f.branch,
          commit: f.commit,
          changeNumber: f.changeNumber,
          openChangeNumbers: f.openChangeNumbers,
          pruneTtlHours: f.pruneTtlHours,
          dryRun: f.dryRun ?? false,
          secrets: [
            ...credentialSecrets,
            ...envSecrets,
            ...f.gitUrl.secrets,
            ...hookSecrets(f.onCreate),
            ...hookSecrets(f.onDelete),
          ].filter((s) => s.length > 0),
        };
      }),
  );
}

/**
 * Validates a job's input; throws a ConfigError listing every bad field (secret values never
 * quoted). The preview's workspace name is the workflow's to derive (workflow/naming.ts).
 */
export function parseRequest(input: JobInput, kind: JobKind): DeployRequest {
  const secrets = new SecretSet();
  for (const secret of secretsOf(input)) secrets.add(secret);
  // Built per parse, around this input's secrets: a run parses once, and nothing is built at import.
  const result = requestSchema(kind, quoterHiding(secrets)).safeParse(input);
  const issues = [...(result.success ? [] : toFieldIssues(result.error)), ...crossFieldIssues(input, kind)];
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return result.data;
}

/** Rules across fields, checked on the raw input so they are reported together with field issues. */
function crossFieldIssues(input: JobInput, kind: JobKind): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (kind === 'teardown' && isBlank(input.changeNumber) && isBlank(input.branch))
    issues.push({
      field: 'changeNumber',
      message: 'missing; teardown needs the change number (or, for a branch preview, the branch)',
    });
  if (!isBlank(input.healthCheck) && !isBlank(input.healthPath))
    issues.push({
      field: 'healthPath',
      message:
        'given together with healthCheck; expected one of them (healthPath also takes one path for every service)',
    });
  if (kind === 'prune' && input.openChangeNumbers === undefined && isBlank(input.pruneTtlHours))
    issues.push({
      field: 'openChangeNumbers',
      message: 'missing; prune needs the open change numbers, a TTL in hours (pruneTtlHours), or both',
    });
  return issues;
}

function toFieldIssues(error: z.ZodError): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const field =
      issue.path
        .filter((p) => p !== 'credentials')
        .map(String)
        .join('.') || 'input';
    issues.push({ field, message: issue.message });
  }
  return issues;
}

/**
 * Values an adapter should mask even before calling the core (the core masks them too): the
 * credentials, the values of secret-named env variables (shared/request/secrets.ts), and every env line
 * that cannot be read as NAME=value (it may continue a secret pasted without quotes), without
 * validating anything.
 */
export function secretsOf(input: Partial<JobInput>): string[] {
  const out = [input.apiToken, input.password].filter(
    (s): s is string => typeof s === 'string' && s.trim() !== '',
  );
  if (typeof input.env === 'string') {
    const { vars, unreadable } = parseDotenv(input.env);
    for (const { name, value } of vars) if (isSecretName(name) && value !== '') out.push(value);
    out.push(...unreadable.filter((line) => line.trim() !== ''));
  }
  // Credentials written inline in a hook (PGPASSWORD=..., postgres://user:pass@...).
  for (const hook of [input.onCreate, input.onDelete])
    if (typeof hook === 'string') out.push(...hookSecrets(hook));
  return out;
}
