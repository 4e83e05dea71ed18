/**
 * The Reporter port: everything the core says to the outside world goes through here.
 * Each adapter implements it with its platform's features (GitHub: @actions/core log
 * commands, outputs and job summary; GitLab and Bitbucket: masked stdout lines, dotenv
 * files). The core never writes to stdout itself, so tests can capture every word and
 * assert that no secret reached any of them.
 */

export interface Reporter {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Shown only when the user asked for debug output. */
  debug(message: string): void;
  /** A collapsible phase of the log ("Resolve team, plan and VPN config"). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Registers a secret. Called before the first request for every credential; from then on
   * the adapter must never print it (GitHub masks natively; the others redact in their writer).
   * A multi-line secret is masked line by line (shared/request/secrets.ts has the rule).
   */
  mask(secret: string): void;
  /**
   * A named result for later steps (GitHub output, dotenv line, pipe variable). Machine-read, so
   * never redacted: a value that holds a registered secret is not written at all (with a warning).
   */
  output(name: string, value: string): void;
  /** Markdown appended to the run's summary, where the platform has one. */
  summary(markdown: string): void;
}
