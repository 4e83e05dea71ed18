/**
 * The core's public contract: what an adapter passes in and what it gets back.
 * Adapters build a `JobInput` from their platform's variables (plain strings are fine:
 * the core's zod schema in request/schema.ts coerces and validates every field at once) and call
 * `deploy`, `teardown` or `prune` from shared/index.ts with a Reporter.
 */

export type Platform = 'github' | 'gitlab' | 'bitbucket';
export type JobKind = 'deploy' | 'teardown' | 'prune';

/**
 * Raw job input as adapters collect it. Every value may be a string as read from the
 * platform ("true", "2", ""); empty strings mean "not given". Validation, defaults and
 * coercion live in one place: shared/request/schema.ts (fields in request/fields.ts).
 */
export interface JobInput {
  // --- credentials (apiToken preferred; else email + password via the sign-in service)
  apiToken?: string | undefined;
  email?: string | undefined;
  password?: string | undefined;
  /** Default https://codesphere.com; the Public API is `${apiUrl}/api` (a URL ending in /api is accepted). */
  apiUrl?: string | undefined;

  // --- what to deploy
  /** Team name, or numeric id. */
  team?: string | undefined;
  /** Plan title (default "Boost"), or numeric id. */
  plan?: string | undefined;
  onDemand?: string | boolean | undefined;
  /** VPN config name; empty means no VPN. */
  vpnConfig?: string | undefined;
  /** Dotenv text: NAME=value lines. */
  env?: string | undefined;
  restricted?: string | boolean | undefined;
  cloneDepth?: string | number | undefined;
  /** A number of replicas, or per-service pairs of a landscape: "web=2,api=1". */
  replicas?: string | number | undefined;
  /** The CI profile: the preview runs `ci.<profile>.yml`; empty means `ci.yml`. */
  profile?: string | undefined;
  /** Pipeline stages, a comma list of prepare,test,run in that order (default "prepare,run"). */
  stages?: string | undefined;
  /** Health path per landscape service ("web=/healthz,api=/ready"), or one path for every service. */
  healthPath?: string | undefined;
  baseImage?: string | undefined;
  /** Optional private host ("10.250.0.5") or "host:port" probed from inside the workspace. */
  vpnCheck?: string | undefined;
  /** Optional app path ("/healthz") or "port/path" that must answer 2xx/3xx on every replica before the preview counts as ready. */
  healthCheck?: string | undefined;
  /** Private services every replica must reach: hosts (ping), host:port (TCP), tls://host:port (TLS); comma- or newline-separated. */
  privateTargets?: string | undefined;
  /** Shell command run once inside the preview after its first successful run start. */
  onCreate?: string | undefined;
  /** The landscape service that runs onCreate (default: the main one). */
  onCreateService?: string | undefined;
  /** Shell command run inside the preview right before it is deleted (teardown, prune, TTL, VPN switch). */
  onDelete?: string | undefined;
  /** Addresses in the gateway's pool (rightsourceip): warn at 80 %, refuse a create beyond it. */
  vpnPoolSize?: string | number | undefined;
  /** "in-place" (default: PATCH vpnConfig) or "zero-downtime" (second workspace, then swap). */
  vpnSwitch?: string | undefined;
  /** Overall time budget for the job in seconds (default 900). */
  timeoutSeconds?: string | number | undefined;

  // --- where it comes from (filled by the adapter from platform context)
  platform: Platform;
  /** Repository name as the platform shows it: "owner/repo" (GitHub), "group/sub/project" (GitLab), "workspace/repo" (Bitbucket). */
  repository: string;
  /** Clone URL without credentials. */
  gitUrl: string;
  isPrivateRepo?: string | boolean | undefined;
  /** Source branch of the change request, or the pushed branch for branch previews. */
  branch: string;
  commit?: string | undefined;
  /** PR / MR number; absent for a branch preview. */
  changeNumber?: string | number | undefined;

  // --- prune only
  /** Change-request numbers that are still open: previews of any other number are pruned. */
  openChangeNumbers?: number[] | undefined;
  /** Prune previews older than this many hours, whatever their state. */
  pruneTtlHours?: string | number | undefined;
  dryRun?: string | boolean | undefined;
}
