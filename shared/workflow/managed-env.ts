import type { CodesphereApi } from '../codesphere/api.js';
import type { Reporter } from '../reporter.js';
import type { EnvVar } from '../request/dotenv.js';
import { isReservedEnvName, RESERVED_ENV_PREFIX } from '../request/reserved-env.js';

export { RESERVED_ENV_PREFIX };

/**
 * Which workspace variables belong to the `env` input: a variable `env` no longer declares must go,
 * one set by hand must stay. The API keeps no owner per variable, so each managed `NAME` has a
 * marker variable `CODESPHERE_DEPLOY_MANAGED__NAME`, always written and deleted in the same
 * request as `NAME`: with no compare-and-set in the API, a shared list would lose updates when two
 * runs overlap, while a pair in one request never leaves a variable unmarked.
 * Design: docs/design/managed-env.md
 */

/** Prefix of every marker: `CODESPHERE_DEPLOY_MANAGED__` + the managed variable's name. */
export const MANAGED_ENV_MARKER_PREFIX = 'CODESPHERE_DEPLOY_MANAGED__';

/**
 * The single list of managed names older versions kept (value: names, comma-separated). Only
 * read, to migrate a workspace those versions deployed, then deleted; never written.
 */
export const LEGACY_MANAGED_ENV_RECORD = 'CODESPHERE_DEPLOY_MANAGED_ENV';

/**
 * Every marker's value: says whose it is when seen in Codesphere's UI. Only the marker's
 * existence counts; a hand-edited value changes nothing.
 */
export const MANAGED_ENV_MARKER_VALUE = 'set by codesphere-deploy from env';

/** The marker of variable `name` (a valid name stays valid: the prefix is letters and `_`). */
export function managedEnvMarker(name: string): string {
  return `${MANAGED_ENV_MARKER_PREFIX}${name}`;
}

/** Same rule as the spec's env-var name pattern (codesphere-openapi.json, workspaces-setEnvVar). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * The names the legacy list's value names. Tolerant of a hand-edited value: blanks and anything
 * that is not a valid variable name are ignored, and so are reserved names.
 */
export function decodeLegacyManagedNames(value: string): Set<string> {
  return new Set(
    value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => ENV_NAME.test(name) && !isReservedEnvName(name)),
  );
}

/** `vars` each followed by its marker: the only shape in which this module writes variables. */
function withMarkers(vars: readonly EnvVar[]): EnvVar[] {
  return vars.flatMap((v) => [v, { name: managedEnvMarker(v.name), value: MANAGED_ENV_MARKER_VALUE }]);
}

/** `names` each followed by its marker: the only shape in which this module deletes variables. */
function namesWithMarkers(names: readonly string[]): string[] {
  return names.flatMap((name) => [name, managedEnvMarker(name)]);
}

/**
 * The names a workspace's variables mark as managed: those with a marker, and those the legacy
 * list names (when it exists). Markers and the legacy list themselves are never among them.
 */
function managedNames(current: ReadonlyMap<string, string>): Set<string> {
  const managed = new Set<string>();
  for (const name of current.keys()) {
    if (name.startsWith(MANAGED_ENV_MARKER_PREFIX)) {
      const managedName = name.slice(MANAGED_ENV_MARKER_PREFIX.length);
      if (ENV_NAME.test(managedName) && !isReservedEnvName(managedName)) managed.add(managedName);
    }
  }
  const legacy = current.get(LEGACY_MANAGED_ENV_RECORD);
  if (legacy !== undefined) for (const name of decodeLegacyManagedNames(legacy)) managed.add(name);
  return managed;
}

/**
 * The variables to send with POST /workspaces: the declared ones, each with its marker, so a new
 * workspace is tracked from its first moment without another call, and `carried` (variables kept
 * from a workspace it replaces; never marked as managed). Nothing: empty.
 */
export function envForCreate(declared: readonly EnvVar[], carried: readonly EnvVar[] = []): EnvVar[] {
  return [...carried, ...withMarkers(declared)];
}

/**
 * The variables a replacement workspace (the zero-downtime VPN switch builds a new one) must carry
 * over from `workspaceId` so nothing set by hand is lost: every variable that is neither declared
 * by `env` (the create sets those), nor managed, nor bookkeeping (markers, the legacy list).
 * Without any marker nothing is known to be managed, so everything undeclared is carried
 * (deleting nothing, as `syncManagedEnv` does). One listEnvVars call; throws the client's
 * ApiError when it fails.
 */
export async function unmanagedVariables(
  client: CodesphereApi,
  workspaceId: number,
  declared: readonly EnvVar[],
): Promise<EnvVar[]> {
  const current = await client.listEnvVars(workspaceId);
  const managed = managedNames(new Map(current.map((v) => [v.name, v.value])));
  const declaredNames = new Set(declared.map((v) => v.name));
  return current.filter(
    (v) => !isReservedEnvName(v.name) && !managed.has(v.name) && !declaredNames.has(v.name),
  );
}

/**
 * Brings an existing workspace's variables in line with `env`: sets what is new or different,
 * deletes what this integration set earlier and `env` no longer declares, keeps everything else.
 * Calls: one listEnvVars, then at most one setEnvVar (variables with their markers) and at most
 * one deleteEnvVar (names with their markers, plus the legacy list), the PUT first so an
 * interrupted run never loses a mark. A no-op costs one GET.
 * Returns the entries for the deploy's `changes` ("env: 2 set (A, B)", "env: 1 removed (OLD)"),
 * names only (values may be secrets). Throws the client's ApiError when a call fails.
 */
export async function syncManagedEnv(
  client: CodesphereApi,
  workspaceId: number,
  declared: readonly EnvVar[],
  reporter: Reporter,
): Promise<string[]> {
  const current = new Map((await client.listEnvVars(workspaceId)).map((v) => [v.name, v.value]));
  const legacy = current.has(LEGACY_MANAGED_ENV_RECORD);
  const managed = managedNames(current);
  const declaredNames = new Set(declared.map((v) => v.name));

  const changed = declared.filter((v) => current.get(v.name) !== v.value);
  const writes = declared.filter(
    (v) => current.get(v.name) !== v.value || !current.has(managedEnvMarker(v.name)),
  );
  // A managed name no longer declared goes with its marker, even when one of the two is
  // already gone: an overlapping run may be writing the pair back right now.
  const undeclared = [...managed].filter((name) => !declaredNames.has(name)).sort();
  const removed = undeclared.filter((name) => current.has(name));
  const deletions = [...namesWithMarkers(undeclared), ...(legacy ? [LEGACY_MANAGED_ENV_RECORD] : [])];

  if (writes.length > 0) await client.setEnvVars(workspaceId, withMarkers(writes));
  if (deletions.length > 0) await client.deleteEnvVars(workspaceId, deletions);

  if (managed.size === 0 && !legacy && declared.length > 0) {
    reporter.info(
      `Tracking the variables env sets from now on (a "${MANAGED_ENV_MARKER_PREFIX}<name>" variable beside each). ` +
        'Variables set before (by hand, or by an earlier version of this integration) are left as they are: ' +
        'remove stale ones in Codesphere once.',
    );
  }
  if (legacy) {
    reporter.info(
      `Converted "${LEGACY_MANAGED_ENV_RECORD}" (the list of managed variables an earlier version kept) ` +
        `to one "${MANAGED_ENV_MARKER_PREFIX}<name>" variable per managed variable, and deleted it.`,
    );
  }
  const changes: string[] = [];
  if (changed.length > 0)
    changes.push(`env: ${changed.length} set (${changed.map((v) => v.name).join(', ')})`);
  if (removed.length > 0) changes.push(`env: ${removed.length} removed (${removed.join(', ')})`);
  return changes;
}
