/**
 * A Reporter for CI platforms whose only channel is the job log (GitLab CI, Bitbucket Pipelines).
 *
 * GitHub masks registered secrets natively; these platforms only mask project variables that the
 * user flagged as masked, and never values we derive (a token parsed out of a URL, a session token).
 * So this writer redacts every registered secret from every line before it reaches a stream:
 * the one place output leaves the process, so nothing the core or the adapter says can bypass it.
 *
 * Outputs and notes are not the reporter's: each adapter builds them from the core's result (a
 * GitLab dotenv report, Bitbucket pipe output variables, the change-request note).
 */
import { type Reporter, SecretSet } from '../index.js';

/** The part of a Writable this reporter needs; tests pass an in-memory sink. */
export interface TextSink {
  write(text: string): unknown;
}

export type SectionStyle =
  /** `── name` headers: readable in any log viewer (Bitbucket, local terminals). */
  | 'headers'
  /** GitLab's collapsible sections: `section_start:<unix>:<id>` / `section_end:<unix>:<id>` markers. */
  | 'gitlab';

export interface ConsoleReporterOptions {
  stdout: TextSink;
  /** Warnings and errors go here; defaults to stdout so a log keeps its order. */
  stderr?: TextSink | undefined;
  /** Print debug lines (the user's DEBUG=true). */
  debug?: boolean | undefined;
  sections?: SectionStyle | undefined;
  /** Colour the level prefixes (both platforms render ANSI colours in their job logs). */
  color?: boolean | undefined;
  /** Epoch milliseconds; injected so GitLab section timestamps are testable. */
  now?: (() => number) | undefined;
}

const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  gray: '\u001b[90m',
  // GitLab's section markers erase the line so the marker text itself is not shown.
  eraseLine: '\u001b[0K',
} as const;

/** GitLab section ids allow only [A-Za-z0-9_.-]; the header text keeps the readable name. */
function sectionId(name: string, counter: number): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return `${slug || 'section'}_${counter}`;
}

export class ConsoleReporter implements Reporter {
  private readonly secrets = new SecretSet();
  private readonly stdout: TextSink;
  private readonly stderr: TextSink;
  private readonly debugEnabled: boolean;
  private readonly sections: SectionStyle;
  private readonly color: boolean;
  private readonly now: () => number;
  private sectionCounter = 0;

  constructor(options: ConsoleReporterOptions) {
    this.stdout = options.stdout;
    this.stderr = options.stderr ?? options.stdout;
    this.debugEnabled = options.debug ?? false;
    this.sections = options.sections ?? 'headers';
    this.color = options.color ?? false;
    this.now = options.now ?? Date.now;
  }

  /** Each line of the secret in every form it is printed in (shared/request/masking.ts has the forms and the length rule). */
  mask(secret: string): void {
    this.secrets.add(secret);
  }

  /** Every registered secret replaced by ***; the adapter uses it for what people read (notes). */
  redact(text: string): string {
    return this.secrets.redact(text);
  }

  /**
   * Whether a value holds a registered secret. Machine-read outputs are never redacted (a
   * `***` inside a URL breaks whatever reads it): a value for which this is true is not written.
   */
  holdsSecret(value: string): boolean {
    return this.secrets.foundIn(value);
  }

  info(message: string): void {
    this.print(this.stdout, message);
  }

  warning(message: string): void {
    this.print(this.stderr, message, this.paint('WARNING:', ANSI.yellow), 'WARNING:'.length);
  }

  error(message: string): void {
    this.print(this.stderr, message, this.paint('ERROR:', ANSI.red), 'ERROR:'.length);
  }

  debug(message: string): void {
    if (this.debugEnabled) this.print(this.stdout, message, this.paint('DEBUG:', ANSI.gray), 'DEBUG:'.length);
  }

  /** A final status line the way Bitbucket pipes end (✔ / ✖); GitLab jobs use it too for a clear last line. */
  success(message: string): void {
    this.print(this.stdout, message, this.paint('✔', ANSI.cyan), 1);
  }

  /**
   * The verdict of a failed job. A multi-line message (a probe's output, what was left behind) is
   * printed in full as an error first, so the job still ends on one `✖` line with its headline.
   */
  failure(message: string): void {
    const [headline = '', ...details] = message.trim().split(/\r?\n/);
    if (details.length > 0) this.error(message.trim());
    this.print(this.stderr, headline, this.paint('✖', ANSI.red), 1);
  }

  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const title = this.redact(name);
    if (this.sections === 'gitlab') {
      const id = sectionId(title, ++this.sectionCounter);
      const start = Math.floor(this.now() / 1000);
      this.stdout.write(
        `${ANSI.eraseLine}section_start:${start}:${id}\r${ANSI.eraseLine}${this.paint(title, ANSI.bold)}\n`,
      );
      try {
        return await fn();
      } finally {
        // Always close the section, or GitLab folds every later line into it.
        const end = Math.floor(this.now() / 1000);
        this.stdout.write(`${ANSI.eraseLine}section_end:${end}:${id}\r${ANSI.eraseLine}\n`);
      }
    }
    this.stdout.write(`${this.paint(`── ${title}`, ANSI.bold)}\n`);
    return fn();
  }

  private paint(text: string, code: string): string {
    return this.color ? `${code}${text}${ANSI.reset}` : text;
  }

  /**
   * One place where text leaves: redact, prefix the first line, indent the others under it so a
   * multi-line message reads as one block.
   */
  private print(sink: TextSink, message: string, prefix?: string, prefixWidth?: number): void {
    const lines = this.redact(message).split(/\r?\n/);
    if (!prefix) {
      sink.write(`${lines.join('\n')}\n`);
      return;
    }
    // prefixWidth: the prefix's visible width, which colour codes do not add to.
    const indent = ' '.repeat((prefixWidth ?? prefix.length) + 1);
    sink.write(
      `${lines.map((line, i) => (i === 0 ? `${prefix} ${line}` : `${indent}${line}`)).join('\n')}\n`,
    );
  }
}
