/**
 * What Codesphere's problem answers mean. The Public API gives some refusals no status or type of
 * their own, only a 400 whose title or detail says what happened; this module is the one place
 * that reads those texts, so a changed wording is fixed here once (codesphere-openapi.json lists
 * the 400s; the wordings follow what Codesphere answers, which the emulator reproduces).
 */
import { ApiError } from '../errors.js';

/** createWorkspace's 400 when the team already has a workspace of that name. */
const NAME_TAKEN = /already has a workspace with the given name/i;

/** createWorkspace's / updateWorkspace's 400 for a VPN config the team does not have. */
const VPN_CONFIG_MISSING = /VPN config '(.*)' doesn't exist/;

/** The answer's title and detail, where Codesphere puts the reason of a 400. */
function problemText(err: ApiError): string[] {
  return [err.detail ?? '', err.title ?? ''];
}

/**
 * Whether `err` is createWorkspace's "the team already has a workspace with the given name"
 * (a 400): another run, or an earlier attempt of this one, created it first.
 */
export function isNameTaken(err: unknown): boolean {
  return err instanceof ApiError && err.status === 400 && NAME_TAKEN.test(problemText(err).join(' '));
}

/**
 * The VPN config name a create or PATCH was refused for ("VPN config 'x' doesn't exist", a 400),
 * or undefined when `err` is another error. The Public API cannot list VPN configs, so this
 * answer is how an unknown name surfaces. An empty string when the answer names none.
 */
export function missingVpnConfig(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || err.status !== 400) return undefined;
  for (const text of problemText(err)) {
    const match = VPN_CONFIG_MISSING.exec(text);
    if (match) return match[1] ?? '';
  }
  return undefined;
}
