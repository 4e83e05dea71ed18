/**
 * The change request's state as the core uses it to settle races with a close: a deploy stops
 * (and removes its workspace) when its change request was closed while it ran, and prune keeps a
 * preview whose change request is open when the deletion would happen. The question goes to the
 * adapter's ChangeRequests port (shared/deps.ts); here is what the core does with the answer.
 */
import type { Platform, TeardownResult } from './contract.js';
import type { ChangeRequestState, CoreDeps } from './deps.js';
import { errorMessage } from './describe-error.js';
import { CodesphereDeployError } from './errors.js';
import type { Reporter } from './reporter.js';

/** How each platform writes a change request: "pull request #11", "merge request !11". */
export function changeRequestLabel(platform: Platform, number: number): string {
  return platform === 'gitlab' ? `merge request !${number}` : `pull request #${number}`;
}

/**
 * The longest a deploy waits for the platform's answer (ms): a quarter of what remains of the
 * job's budget, at most 15 s (the platform calls' own request timeout). The check is a safeguard:
 * a platform API that never answers must not eat the budget the deploy itself needs.
 */
export function changeRequestWaitMs(remainingMs: number): number {
  return Math.max(0, Math.min(15_000, Math.floor(remainingMs / 4)));
}

/**
 * Asks the port; a failed call becomes one warning and `unknown` (the check is a safeguard, so its
 * failure never fails the job). Without a port the answer is `unknown` and nothing is logged: the
 * caller says what that means where it matters. `waitMs` (real milliseconds, see
 * changeRequestWaitMs) bounds the wait: no answer by then is `unknown` with a warning too.
 */
export async function askChangeRequestState(
  deps: Pick<CoreDeps, 'changeRequests'>,
  reporter: Reporter,
  label: string,
  number: number,
  waitMs?: number,
): Promise<ChangeRequestState> {
  if (!deps.changeRequests) return 'unknown';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const answer = deps.changeRequests.state(number);
    if (waitMs === undefined) return await answer;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${Math.round(waitMs / 100) / 10} s`)),
        waitMs,
      );
    });
    return await Promise.race([answer, late]);
  } catch (err: unknown) {
    reporter.warning(`Could not check whether ${label} is still open: ${errorMessage(err)}`);
    return 'unknown';
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * A deploy that stopped because its change request is closed: not a failure (the close is what the
 * user asked for last), and not "ready" either. Adapters report it as a notice, exit 0, and write
 * no "ready" note or deployment status. `removed` says what the deploy deleted of the preview.
 */
export class DeployCancelledError extends CodesphereDeployError {
  override readonly name = 'DeployCancelledError';

  constructor(
    message: string,
    /** The change request as the platform writes it ("pull request #11"). */
    readonly changeRequest: string,
    /** The preview's name and what this run deleted of it (deleted: false when nothing existed). */
    readonly removed: TeardownResult,
  ) {
    super(message);
  }
}
