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
