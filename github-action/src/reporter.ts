/**
 * The core's Reporter port on top of @actions/core: the log (info, warning, debug, group) and the
 * masking of secrets, which is what the core uses; plus the log lines only the adapter writes
 * (notice, the failure). Outputs and the job summary are not the core's: StepWriter (outputs.ts)
 * writes them.
 *
 * The runner masks every value registered with `core.setSecret` in the log, but not in files:
 * the job summary (GITHUB_STEP_SUMMARY) and the PR comment are written verbatim. So this
 * reporter keeps its own set of secrets and redacts everything people read, logs included
 * (defence in depth for runners that do not process `::add-mask::`); StepWriter and the comment
 * use its `redact` and `holdsSecret`.
 *
 * Every line written to the log is also made inert as a workflow command: the runner reads any
 * line that starts with `::` (after leading whitespace) as a command, and `##[` anywhere in a
 * line as a legacy one, so a value such as a VPN config `office\n::warning::x` could otherwise
 * issue commands (github.com/actions/runner, ActionCommand.TryParseV2 / TryParse).
 */
import * as core from '@actions/core';
import { MIN_SUBSTRING_LENGTH, type Reporter, SecretSet } from '../../shared/index.js';

/**
 * Text for the runner's log that cannot issue a workflow command. The runner splits its input at
 * CR, LF and CRLF; each resulting line that would start a command gets a visible `> ` before it,
 * and `##[` is broken apart. Line breaks stay (multi-line messages keep their shape).
 */
export function inertLogText(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const safe = line.replace(/##\[/g, '#\u200b#[');
      // The runner's TrimStart (.NET char.IsWhiteSpace) also drops U+0085, which \s does not hold.
      return /^[\s\u0085]*::/.test(safe) ? `> ${safe}` : safe;
    })
    .join('\n');
}

export class ActionsReporter implements Reporter {
  private readonly secrets = new SecretSet();
  private groupDepth = 0;

  mask(secret: string): void {
    for (const piece of this.secrets.add(secret)) {
      // The runner masks substrings: a short piece would star out every line holding those
      // characters (shared/request/secrets.ts); our own redaction masks short ones as whole words.
      if (piece.length >= MIN_SUBSTRING_LENGTH) core.setSecret(piece);
    }
  }

  /** Removes every registered secret from a text. */
  redact(text: string): string {
    return this.secrets.redact(text);
  }

  /** Whether a value holds a registered secret; such a value is never written to an output. */
  holdsSecret(value: string): boolean {
    return this.secrets.foundIn(value);
  }

  info(message: string): void {
    core.info(this.clean(message));
  }

  warning(message: string): void {
    core.warning(this.clean(message));
  }

  notice(message: string): void {
    core.notice(this.clean(message));
  }

  debug(message: string): void {
    core.debug(this.clean(message));
  }

  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    // The runner's log has no nested groups: an inner ::group:: would close the outer one.
    if (this.groupDepth > 0) {
      core.info(this.clean(`-- ${name}`));
      return fn();
    }
    this.groupDepth += 1;
    try {
      return await core.group(this.clean(name), fn);
    } finally {
      this.groupDepth -= 1;
    }
  }

  /** Fails the step (exit code 1) with one error annotation: the failure handler's, once. */
  fail(message: string): void {
    core.setFailed(this.clean(message));
  }

  /** Redacted, then inert as a workflow command (also what the failure handler writes). */
  clean(message: string): string {
    return inertLogText(this.redact(message));
  }
}
