import type { EnvVar } from './dotenv.js';

/**
 * The `env` input's one naming rule beyond dotenv syntax. The integration records in workspace
 * variables which variables it manages (shared/workflow/managed-env.ts); their names all start
 * with RESERVED_ENV_PREFIX, so `env` may not declare such a name: a user value there would
 * corrupt the record and could make a later run delete variables it never set.
 */

/** The names `env` may not declare: everything starting with this (the markers and the legacy list). */
export const RESERVED_ENV_PREFIX = 'CODESPHERE_DEPLOY_MANAGED_';

/** Whether `name` is a reserved bookkeeping name (a marker or the legacy list). */
export function isReservedEnvName(name: string): boolean {
  return name.startsWith(RESERVED_ENV_PREFIX);
}

/**
 * The input rule: the `env` field's problem when it declares reserved names (what is wrong and
 * what to do, naming the names, never a value), or undefined when it declares none.
 */
export function reservedEnvNameProblem(vars: readonly EnvVar[]): string | undefined {
  const reserved = [...new Set(vars.map((v) => v.name).filter(isReservedEnvName))];
  if (reserved.length === 0) return undefined;
  const names = reserved.map((name) => `"${name}"`).join(', ');
  return (
    `${reserved.length === 1 ? `name ${names} is` : `names ${names} are`} reserved: codesphere-deploy ` +
    `records in variables starting with "${RESERVED_ENV_PREFIX}" which workspace variables it manages ` +
    '(so that those dropped from env are removed); use any other name'
  );
}
