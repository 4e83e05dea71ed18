/**
 * The change request's state as the core uses it to settle races with a close: a deploy stops
 * (and removes its workspace) when its change request was closed while it ran, and prune keeps a
 * preview whose change request is open when the deletion would happen. The question goes to the
 * adapter's ChangeRequests port (shared/workflow/deps.ts); here is what the core does with the answer.
 */
import type { Platform } from '../request/job-input.js';
import type { ChangeRequestState, CoreDeps } from './deps.js';
import { errorMessage } from '../errors.js';
import type { Reporter } from '../reporter.js';

/** How each platform writes a change request: "pull request #11", "merge request !11". */
export function changeRequestLabel(platform: Platform, number: number): string {
  return platform === 'gitlab' ? `merge request !${number}` : `pull request #${number}`;
}

/**
 * Longest wait for one answer of the port (milliseconds). The question is a safeguard beside the
 * deploy, not part of it: a platform API that hangs must not eat the budget the deploy needs
 * (the platform clients have their own, longer timeouts).
 */
export const STATE_CHECK_TIMEOUT_MS = 5_000;

/**
 * Asks the port; a failed call becomes one warning and `unknown` (the check is a safeguard, so its
 * failure never fails the job). Without a port the answer is `unknown` and nothing is logged: the
 * caller says what that means where it matters. The wait is cut to `capMs` (milliseconds; default
 * STATE_CHECK_TIMEOUT_MS), after which the answer is `unknown` with a warning.
 */
export async function askChangeRequestState(
  deps: Pick<CoreDeps, 'changeRequests'>,
  reporter: Reporter,
  label: string,
  number: number,
  capMs: number = STATE_CHECK_TIMEOUT_MS,
): Promise<ChangeRequestState> {
  if (!deps.changeRequests) return 'unknown';
  const wait = Math.max(0, Math.min(capMs, STATE_CHECK_TIMEOUT_MS));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(wait / 100) / 10} s`)), wait);
    timer.unref?.();
  });
  try {
    return await Promise.race([deps.changeRequests.state(number), timedOut]);
  } catch (err: unknown) {
    reporter.warning(`Could not check whether ${label} is still open: ${errorMessage(err)}`);
    return 'unknown';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The cap for one state question within a job's budget: STATE_CHECK_TIMEOUT_MS, or a quarter of
 * what remains of the budget when that is less (milliseconds; `deadlineAt` and `now` on the
 * job's clock).
 */
export function stateCheckCapMs(deadlineAt: number, now: number): number {
  return Math.min(STATE_CHECK_TIMEOUT_MS, Math.max(0, (deadlineAt - now) / 4));
}
