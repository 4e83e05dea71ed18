/**
 * The job flags, derived from the core's input table (`PASS_THROUGH_VARIABLES`, the same table
 * that names the GitLab and Bitbucket variables): `VPN_CONFIG` is `--vpn-config`, `TIMEOUT` is
 * `--timeout`. An input the core gains later becomes a flag here without CLI code. `ENV` is the
 * one exception: on a command line it is a file, `--env-file`.
 */
import { PASS_THROUGH_VARIABLES } from '../../shared/ci/index.js';

/** One job flag: its spelling and the variable of the core's input table it stands for. */
export interface InputFlag {
  /** `vpn-config` (without the dashes). */
  name: string;
  /** `VPN_CONFIG`: the key of PASS_THROUGH_VARIABLES. */
  variable: string;
  /** `vpnConfig`: the core's JobInput field, for error messages in flag terms. */
  field: string;
  /** Given alone it means `true` (`--on-demand`); a value may follow (`--on-demand false`). */
  boolean: boolean;
}

/** The core's yes/no inputs: the flag alone means yes. */
const BOOLEAN_FIELDS: ReadonlySet<string> = new Set(['onDemand', 'restricted', 'dryRun']);

/** Variables that are not flags of their own: ENV is read from `--env-file`. */
const NOT_FLAGS: ReadonlySet<string> = new Set(['ENV']);

/** `VPN_CONFIG` -> `vpn-config`. */
export function flagName(variable: string): string {
  return variable.toLowerCase().replace(/_/g, '-');
}

/** Every job flag the core's input table gives, in the table's order. */
export function inputFlags(table: Readonly<Record<string, string>> = PASS_THROUGH_VARIABLES): InputFlag[] {
  return Object.entries(table)
    .filter(([variable]) => !NOT_FLAGS.has(variable))
    .map(([variable, field]) => ({
      name: flagName(variable),
      variable,
      field,
      boolean: BOOLEAN_FIELDS.has(field),
    }));
}

/**
 * Flags the CLI documents for inputs that a version of the core may not have yet (landscapes,
 * private data). Those missing from the table are refused with a usage error, never ignored.
 */
export const PLANNED_FLAGS = [
  'profile',
  'stages',
  'replicas',
  'health-path',
  'private-targets',
  'on-create',
  'on-delete',
  'vpn-pool-size',
] as const;

/** The planned flags this version's core has no input for. */
export function unsupportedFlags(flags: readonly InputFlag[] = inputFlags()): string[] {
  const known = new Set(flags.map((flag) => flag.name));
  return PLANNED_FLAGS.filter((name) => !known.has(name));
}

/** `vpnConfig` -> `--vpn-config`: the core's field names in the user's terms, for errors. */
export function flagOfField(flags: readonly InputFlag[] = inputFlags()): Record<string, string> {
  return Object.fromEntries(flags.map((flag) => [flag.field, `--${flag.name}`]));
}
