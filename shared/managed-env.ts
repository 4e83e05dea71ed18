import type { CodesphereClient } from './codesphere/client.js';
import type { Reporter } from './reporter.js';
import type { EnvVar } from './request.js';

/**
 * Which workspace variables belong to the `env` input. A variable the input no longer declares
 * must disappear from the preview (a dropped `OLD_DB_PASSWORD` must not live on), while variables
 * someone set by hand in Codesphere must stay. The Public API keeps no owner per variable, so the
 * integration records the names it manages in one workspace variable of its own, the marker:
 * names only, never values (the marker is readable by everyone who can open the workspace).
 *
 * Rules, per deploy:
 * - managed after this run = exactly the names `env` declares now;
 * - a name the marker lists, `env` no longer declares and the workspace still has: deleted
 *   (the spec's deleteEnvVar), and reported as "env: N removed (NAMES)";
 * - no marker (a workspace created by an older version, or by hand): nothing is deleted, and
 *   tracking starts with this run's names;
 * - `env` empty: the marker itself is deleted with the removed names (no marker = nothing managed).
 * The marker is bookkeeping, never a change: writing it alone restarts nothing.
 */

/**
 * The marker's name. Chosen to say whose it is when seen in Codesphere's UI, to be unlike any
 * application's variable, and not to look secret (its value, a list of names, is not one).
 * `env` may not declare it (see `declaresManagedEnvMarker`): a user value would corrupt the record.
 */
export const MANAGED_ENV_MARKER = 'CODESPHERE_DEPLOY_MANAGED_ENV';

/** Same rule as the spec's env-var name pattern (codesphere-openapi.json, workspaces-setEnvVar). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * The input rule: `env` must not declare the marker (a user value would corrupt the record of
 * what is managed, and could make a later run delete variables it never set).
 */
export function declaresManagedEnvMarker(vars: readonly EnvVar[]): boolean {
  return vars.some((v) => v.name === MANAGED_ENV_MARKER);
}

/** The `env` field's problem when it declares the marker: what is wrong and what to do. */
export const RESERVED_ENV_NAME_PROBLEM =
  `name "${MANAGED_ENV_MARKER}" is reserved: codesphere-deploy records in it which workspace ` +
  'variables it manages (so that those dropped from env are removed); use any other name';

/** The marker's value for a set of names: sorted, comma-separated (names cannot contain commas). */
export function encodeManagedNames(names: Iterable<string>): string {
  return [...new Set(names)].sort().join(',');
}

/**
 * The names a marker value lists. Tolerant of a hand-edited value: blanks and anything that is
 * not a valid variable name are ignored, and the marker never lists itself.
 */
export function decodeManagedNames(value: string): Set<string> {
  return new Set(
    value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => ENV_NAME.test(name) && name !== MANAGED_ENV_MARKER),
  );
}

/**
 * The variables to send with POST /workspaces: the declared ones plus the marker listing them,
 * so a new workspace is tracked from its first moment without another call, and `carried`
 * (variables kept from a workspace it replaces; never recorded as managed). Nothing: empty.
 */
export function envForCreate(declared: readonly EnvVar[], carried: readonly EnvVar[] = []): EnvVar[] {
  const marker =
    declared.length > 0
      ? [{ name: MANAGED_ENV_MARKER, value: encodeManagedNames(declared.map((v) => v.name)) }]
      : [];
  return [...carried, ...declared, ...marker];
}

/**
 * The variables a replacement workspace (the zero-downtime VPN switch builds a new one) must carry
 * over from `workspaceId` so nothing set by hand is lost: every variable that is neither declared
 * by `env` (the create sets those) nor recorded as managed. Without a marker nothing is known to
 * be managed, so everything undeclared is carried (deleting nothing, as `syncManagedEnv` does).
 * One listEnvVars call; throws the client's ApiError when it fails.
 */
export async function unmanagedVariables(
  client: CodesphereClient,
  workspaceId: number,
  declared: readonly EnvVar[],
): Promise<EnvVar[]> {
  const current = await client.listEnvVars(workspaceId);
  const marker = current.find((v) => v.name === MANAGED_ENV_MARKER);
  const managed = marker ? decodeManagedNames(marker.value) : new Set<string>();
  const declaredNames = new Set(declared.map((v) => v.name));
  return current.filter(
    (v) => v.name !== MANAGED_ENV_MARKER && !managed.has(v.name) && !declaredNames.has(v.name),
  );
}

/**
 * Brings an existing workspace's variables in line with `env`: sets what is new or different,
 * deletes what this integration set earlier and `env` no longer declares, keeps everything else.
 *
 * Calls: one listEnvVars always (an empty `env` may still mean removals); deleteEnvVar only when
 * something is removed; setEnvVar only when a value or the marker differs. A no-op costs one GET.
 * Order: deletions first, then values and the new marker in one PUT. Interrupted in between, the
 * marker still lists the deleted names (a superset), so the next run finishes the job; a new
 * name is never in the workspace without being in the marker.
 *
 * Returns the entries for the deploy's `changes` ("env: 2 set (A, B)", "env: 1 removed (OLD)"),
 * names only (values may be secrets); the marker is never among them. Throws the client's
 * ApiError when a call fails.
 */
export async function syncManagedEnv(
  client: CodesphereClient,
  workspaceId: number,
  declared: readonly EnvVar[],
  reporter: Reporter,
): Promise<string[]> {
  const current = new Map((await client.listEnvVars(workspaceId)).map((v) => [v.name, v.value]));
  const markerValue = current.get(MANAGED_ENV_MARKER);
  const declaredNames = new Set(declared.map((v) => v.name));

  const changed = declared.filter((v) => current.get(v.name) !== v.value);
  const removed =
    markerValue === undefined
      ? []
      : [...decodeManagedNames(markerValue)]
          .filter((name) => !declaredNames.has(name) && current.has(name))
          .sort();
  const nextMarker = declared.length > 0 ? encodeManagedNames(declaredNames) : undefined;

  const deletions = [
    ...removed,
    ...(nextMarker === undefined && markerValue !== undefined ? [MANAGED_ENV_MARKER] : []),
  ];
  if (deletions.length > 0) await client.deleteEnvVars(workspaceId, deletions);

  const writes: EnvVar[] = [
    ...changed,
    ...(nextMarker !== undefined && nextMarker !== markerValue
      ? [{ name: MANAGED_ENV_MARKER, value: nextMarker }]
      : []),
  ];
  if (writes.length > 0) await client.setEnvVars(workspaceId, writes);

  if (markerValue === undefined && nextMarker !== undefined) {
    reporter.info(
      `Tracking the variables env sets in "${MANAGED_ENV_MARKER}" from now on. Variables set before ` +
        '(by hand, or by an earlier version of this integration) are left as they are: remove stale ones in Codesphere once.',
    );
  }
  const changes: string[] = [];
  if (changed.length > 0)
    changes.push(`env: ${changed.length} set (${changed.map((v) => v.name).join(', ')})`);
  if (removed.length > 0) changes.push(`env: ${removed.length} removed (${removed.join(', ')})`);
  return changes;
}
