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
   */
  mask(secret: string): void;
  /** A named result for later steps (GitHub output, dotenv line, pipe variable). */
  output(name: string, value: string): void;
  /** Markdown appended to the run's summary, where the platform has one. */
  summary(markdown: string): void;
}

/** Replaces every registered secret in a text; the redaction used by adapters without native masking. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const sorted = [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join('***');
  return out;
}
