/**
 * The Reporter port: everything the core says to the outside world goes through here, and it
 * holds exactly what the core uses (info, warning, debug, group, mask). The core never writes
 * to stdout itself, so tests can capture every word and assert that no secret reached any of
 * them. Each adapter implements it with its platform's log features (GitHub: @actions/core log
 * commands; GitLab and Bitbucket: masked stdout lines, shared/ci/console-reporter.ts) and may
 * extend it with its own channels: failure lines, outputs and summaries are the adapter's,
 * built from the result the core returns, so they are not part of the port.
 */

export interface Reporter {
  info(message: string): void;
  /** Something the user should look at; the job goes on (cleanup problems, unconfirmable states). */
  warning(message: string): void;
  /** Shown only when the user asked for debug output (retries, redirects). */
  debug(message: string): void;
  /** A collapsible phase of the log ("Resolve team, plan and VPN config"); never nested by the core. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Registers a secret. Called before the first request for every credential; from then on
   * the adapter must never print it (GitHub masks natively; the others redact in their writer).
   * A multi-line secret is masked line by line (shared/request/secrets.ts has the rule).
   */
  mask(secret: string): void;
}
