/**
 * `NAME=value` lines: the format of GitLab's dotenv report (`artifacts: reports: dotenv`) and of
 * Bitbucket's output-variables file (`$BITBUCKET_PIPELINES_VARIABLES_PATH`). Both read one
 * variable per line and neither has an escape for a line break, so a value with one is refused
 * instead of silently producing a second, attacker-shaped variable.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function formatOutputLines(entries: Readonly<Record<string, string>>): string {
  return Object.entries(entries)
    .map(([name, value]) => {
      if (!NAME.test(name)) throw new Error(`Output name "${name}" is not a valid variable name.`);
      if (/[\r\n]/.test(value))
        throw new Error(`Output ${name} contains a line break, which the format cannot hold.`);
      return `${name}=${value}\n`;
    })
    .join('');
}

/**
 * Splits outputs into those safe to write and those withheld because their value holds a
 * registered secret. Outputs are read by machines (a later job, GitLab's environment URL), so
 * they are never redacted: a `***` inside a URL would be worse than no URL. A withheld output is
 * simply not written; the caller warns, naming it (never its value).
 *
 * @param holdsSecret the reporter's check (ConsoleReporter.holdsSecret / ActionsReporter.holdsSecret)
 */
export function secretFreeOutputs(
  entries: Readonly<Record<string, string>>,
  holdsSecret: (value: string) => boolean,
): { written: Record<string, string>; withheld: string[] } {
  const written: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [name, value] of Object.entries(entries)) {
    if (holdsSecret(value)) withheld.push(name);
    else written[name] = value;
  }
  return { written, withheld };
}

/** The warning for withheld outputs, the same on every platform. */
export function withheldWarning(withheld: readonly string[], where: string): string {
  return (
    `Not written to ${where}: ${withheld.join(', ')}. ${withheld.length === 1 ? 'Its value holds' : 'Their values hold'} ` +
    'a masked secret (an env value or credential that also occurs there); outputs are never redacted, so they are left out.'
  );
}

/**
 * Writes `NAME=value` lines (formatOutputLines) with `write` (append or replace a file), leaving
 * out each value that holds a registered secret, with the one warning naming them.
 * @param where the file as the reader knows it: `the dotenv report`, `the output variables`
 */
export async function writeOutputLines(
  entries: Readonly<Record<string, string>>,
  reporter: { holdsSecret(value: string): boolean; warning(message: string): void },
  where: string,
  write: (text: string) => Promise<void>,
): Promise<void> {
  const { written, withheld } = secretFreeOutputs(entries, (value) => reporter.holdsSecret(value));
  if (withheld.length > 0) reporter.warning(withheldWarning(withheld, where));
  await write(formatOutputLines(written));
}
