import { systemClock, type Clock } from '../clock.js';
import type { CodesphereApiFactory } from '../codesphere/api.js';

/**
 * The core's ports besides the Reporter: time, identity and the change request's state on its
 * platform. Injected so unit tests neither wait nor depend on the wall clock (a virtual Clock's
 * `sleep` resolves at once while its `now` advances), and so the core never talks to a CI
 * platform itself.
 */
import { VERSION } from '../version.js';

export interface CoreDeps {
  /** Every wait and deadline of the job (shared/clock.ts); systemClock by default. */
  clock: Clock;
  /**
   * Builds the job's Codesphere API from its connection (URL, token, clock, deadline): the HTTP
   * client by default (codesphere/client.ts connectCodesphere); tests pass an in-memory fake.
   */
  codesphere?: CodesphereApiFactory | undefined;
  /** Sent as User-Agent on every request, e.g. "codesphere-deploy-github/0.1.0". */
  userAgent: string;
  /**
   * Asks the CI platform whether a change request is still open, with the platform token the
   * adapter holds. Absent when the adapter has none (then nothing is asked; see ChangeRequests).
   */
  changeRequests?: ChangeRequests | undefined;
  /**
   * Milliseconds at the end of the job's budget (timeoutSeconds) the core leaves unspent: its
   * deadline is that much earlier, so the adapter still has time to report how the job ended.
   */
  reserveMs?: number | undefined;
}

/**
 * A change request's state as its platform reports it right now: GitHub pull request `open` or
 * `closed` (merged included); GitLab merge request `opened` (and `locked`, a merge in progress)
 * or `closed`/`merged`; Bitbucket pull request `OPEN` or `MERGED`/`DECLINED`/`SUPERSEDED`.
 * `unknown`: the platform could not say (for instance the request does not exist for this token).
 */
export type ChangeRequestState = 'open' | 'closed' | 'unknown';

/**
 * The port an adapter supplies from its platform API. The core calls it where a race with a
 * close matters: `deploy` before it creates anything and again before it reports success, and
 * `prune` right before each deletion. One platform call per question, no caching: the answer
 * must be current.
 */
export interface ChangeRequests {
  /**
   * The state of change request `number` (PR number, MR iid, PR id) of the job's repository.
   * May throw on a failed call (the error's message must carry no secret): the core turns that
   * into a warning and treats the state as `unknown`, never into a failed job.
   */
  state(number: number): Promise<ChangeRequestState>;
  /**
   * Whether branch `branch` (without `refs/heads/`) still exists in the job's repository: a branch
   * preview's counterpart of `state`, asked by `deploy` at the same moments, since deleting the
   * branch tears its preview down and prune never touches branch previews. `false` only when the
   * platform says it does not exist; may throw like `state` (a warning, then treated as existing).
   * Optional: an adapter without it leaves branch previews unchecked.
   */
  branchExists?(branch: string): Promise<boolean>;
}

/** The core's version (package.json's, see ../version.ts). */

export const defaultDeps: CoreDeps = {
  clock: systemClock,
  userAgent: `codesphere-deploy/${VERSION}`,
};

export function withDefaults(deps: Partial<CoreDeps> | undefined): CoreDeps {
  return { ...defaultDeps, ...deps };
}
