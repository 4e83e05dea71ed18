import type { CodesphereApi } from '../codesphere/api.js';
import type { Plan, Team } from '../codesphere/schemas.js';
import { ConfigError } from '../errors.js';
import { missingVpnConfig } from '../codesphere/problems.js';
import type { PlanRef, TeamRef } from '../request/schema.js';

/** A name as Codesphere's names are compared here: Unicode NFC (precomposed `É` equals `E` + U+0301). */
export function canonicalName(name: string): string {
  return name.normalize('NFC');
}

/**
 * A name reduced to what people get wrong without meaning another name: case, surrounding
 * spaces and runs of inner spaces (on the NFC form). Matches under this key are suggestions
 * ("did you mean"), never silently taken.
 */
function looseKey(name: string): string {
  return canonicalName(name).trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * A name in quotes, as written: names reaching here hold no control characters (the request
 * refuses them), and JSON escapes would hide a secret pasted into a name from the reporter's mask.
 */
function quoted(name: string): string {
  return `"${name}"`;
}

/** ` Did you mean "X"?` for names that differ from the wanted one only by case or spaces. */
function didYouMean(wanted: string, names: readonly string[]): string {
  const key = looseKey(wanted);
  const close = [...new Set(names.filter((name) => looseKey(name) === key))];
  if (close.length === 0) return '';
  return ` Did you mean ${close.map(quoted).join(' or ')}? Only case or spaces differ.`;
}

/**
 * Names in, ids out. Users write `team: My Team`, `plan: Boost`, `vpnConfig: office`; these
 * functions find the ids, and when a name matches nothing they list what exists, so the fix
 * is one copy-paste away. All of this happens before anything is created.
 */

export async function resolveTeam(client: CodesphereApi, ref: TeamRef): Promise<Team> {
  const teams = await client.listTeams();
  const visible = teams.length > 0 ? teams.map((t) => `${t.name} (id ${t.id})`).join(', ') : 'none';
  if ('id' in ref) {
    const team = teams.find((t) => t.id === ref.id);
    if (!team)
      throw ConfigError.single(
        'team',
        `no team with id ${ref.id} is visible to these credentials. Teams: ${visible}`,
      );
    return team;
  }
  const wanted = canonicalName(ref.name);
  const matches = teams.filter((t) => canonicalName(t.name) === wanted);
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length > 1) {
    const ids = matches.map((t) => t.id).join(', ');
    throw ConfigError.single(
      'team',
      `several teams are named ${quoted(ref.name)} (ids ${ids}); set team to the numeric id`,
    );
  }
  const hint = didYouMean(
    ref.name,
    teams.map((t) => t.name),
  );
  throw ConfigError.single(
    'team',
    `Unknown team ${quoted(ref.name)}.${hint} Teams these credentials can see: ${visible}`,
  );
}

export async function resolvePlan(
  client: CodesphereApi,
  ref: PlanRef,
  onDemand: boolean,
  replicas: number,
): Promise<Plan> {
  const plans = await client.listPlans();
  const usable = plans.filter((p) => !p.deprecated && p.characteristics.onDemand === onDemand);
  const titles = [...new Set(usable.map((p) => p.title))].join(', ') || 'none';
  const kind = onDemand ? 'on-demand' : 'always-on';
  let plan: Plan | undefined;
  if ('id' in ref) {
    plan = plans.find((p) => p.id === ref.id);
    if (!plan)
      throw ConfigError.single('plan', `no plan has id ${ref.id}. Available ${kind} plans: ${titles}`);
    if (plan.deprecated)
      throw ConfigError.single(
        'plan',
        `plan ${ref.id} (${plan.title}) is deprecated. Available ${kind} plans: ${titles}`,
      );
  } else {
    const wanted = canonicalName(ref.title);
    const sameTitle = (p: Plan) => canonicalName(p.title) === wanted;
    plan = usable.find(sameTitle);
    if (!plan) {
      const other = plans.find((p) => sameTitle(p) && !p.deprecated);
      const deprecated = plans.find((p) => sameTitle(p) && p.deprecated);
      const hint = other
        ? ` (${ref.title} exists as an ${other.characteristics.onDemand ? 'on-demand' : 'always-on'} plan: set onDemand to ${other.characteristics.onDemand})`
        : deprecated
          ? ` (${ref.title} is deprecated)`
          : '';
      throw ConfigError.single(
        'plan',
        `Unknown plan ${quoted(ref.title)}${hint}.${
          hint
            ? ''
            : didYouMean(
                ref.title,
                usable.map((p) => p.title),
              )
        } Available ${kind} plans: ${titles}`,
      );
    }
  }
  if (replicas > plan.maxReplicas)
    throw ConfigError.single(
      'replicas',
      `got ${replicas}; plan ${plan.title} allows at most ${plan.maxReplicas}`,
    );
  return plan;
}

/**
 * The Public API cannot list VPN configs, so an unknown name surfaces as the 400 of the create
 * (or PATCH) that named it (codesphere/problems.ts reads it). That answer is turned into an
 * input error naming the team; the call had no effect, so nothing is left behind. Any other
 * error is returned as it is.
 */
export function rewriteVpnConfigError(err: unknown, vpnConfig: string | null, teamName: string): unknown {
  const missing = missingVpnConfig(err);
  if (missing === undefined) return err;
  const name = missing || (vpnConfig ?? '');
  return new ConfigError(
    [
      {
        field: 'vpnConfig',
        message: `VPN config ${JSON.stringify(name)} does not exist in team ${JSON.stringify(teamName)}: create it in the team's VPN settings or fix the name.`,
      },
    ],
    { cause: err },
  );
}
