/**
 * The core's Reporter port on top of @actions/core.
 *
 * The runner masks every value registered with `core.setSecret` in the log, but not in files:
 * outputs (GITHUB_OUTPUT), the job summary (GITHUB_STEP_SUMMARY) and the PR comment are written
 * verbatim. So this reporter keeps its own list of secrets and redacts everything it writes,
 * logs included (defence in depth for runners that do not process `::add-mask::`).
 */
import * as core from '@actions/core';
import { redact, type Reporter } from '../../shared/reporter.js';

export class ActionsReporter implements Reporter {
  private readonly secrets = new Set<string>();
  private readonly summaryParts: string[] = [];
  private groupDepth = 0;

  mask(secret: string): void {
    const value = secret.trim();
    if (value === '' || this.secrets.has(value)) return;
    this.secrets.add(value);
    core.setSecret(value);
  }

  /** Removes every registered secret from a text. */
  redact(text: string): string {
    return redact(text, this.secrets);
  }

  info(message: string): void {
    core.info(this.redact(message));
  }

  warning(message: string): void {
    core.warning(this.redact(message));
  }

  error(message: string): void {
    core.error(this.redact(message));
  }

  notice(message: string): void {
    core.notice(this.redact(message));
  }

  debug(message: string): void {
    core.debug(this.redact(message));
  }

  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    // The runner's log has no nested groups: an inner ::group:: would close the outer one.
    if (this.groupDepth > 0) {
      core.info(this.redact(`-- ${name}`));
      return fn();
    }
    this.groupDepth += 1;
    try {
      return await core.group(this.redact(name), fn);
    } finally {
      this.groupDepth -= 1;
    }
  }

  output(name: string, value: string): void {
    core.setOutput(name, this.redact(value));
  }

  summary(markdown: string): void {
    this.summaryParts.push(this.redact(markdown));
  }

  /** Markdown the core asked to add to the summary; the adapter appends it to its own. */
  collectedSummary(): string[] {
    return [...this.summaryParts];
  }
}
