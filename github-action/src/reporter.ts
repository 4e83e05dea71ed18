/**
 * The job's log on GitHub (a JobReporter over the toolkit's workflow commands). The runner masks
 * `::add-mask::` values in the log but not in files, so this reporter also redacts what it prints
 * and what the summary and comment carry, and makes every line inert as a workflow command.
 * The runner's toolkit, @actions/core (with undici, half the bundle), is loaded in the next turn,
 * off the start-up path: until then lines wait in order, so every `::add-mask::` comes first.
 * Design: docs/design/start-up.md
 */
import { MIN_SUBSTRING_LENGTH, SecretSet } from '../../shared/index.js';
import type { JobReporter } from '../../shared/ci/index.js';

/**
 * What the action uses of @actions/core (https://github.com/actions/toolkit/tree/main/packages/core):
 * inputs, outputs, the job summary and the log's workflow commands. On the runner it is the bundled
 * @actions/core; @github/local-action passes its stubs of the same functions (local-action.mjs).
 */
export interface Toolkit {
  /** Input `name` (local-action's stub applies action.yml's default). */
  getInput(name: string): string;
  /** Writes a step output; throws when the runner's output file is missing. */
  setOutput(name: string, value: string): void;
  setSecret(secret: string): void;
  info(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  debug(message: string): void;
  startGroup(name: string): void;
  endGroup(): void;
  /** Logs an error annotation and fails the step. */
  setFailed(message: string): void;
  /** The job summary; `write()` appends the buffer to GITHUB_STEP_SUMMARY, rejecting when it cannot. */
  summary: { addRaw(text: string, addEOL?: boolean): { write(): Promise<unknown> } };
}

/** The bundled @actions/core: never a bare import resolved at run time, which a node_modules
 * planted in a parent directory of the action could answer. */
const bundledCore = (): Promise<Toolkit> => import('@actions/core');

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

/**
 * Calls into the toolkit in the order they were made, once it is loaded (see the header).
 * `load` is the bundled @actions/core by default; local-action.mjs and tests pass their own.
 */
export class CoreLog {
  private core: Toolkit | undefined;
  /** Calls waiting for the toolkit; `undefined` tells them it could not be loaded. */
  private readonly queue: Array<(core: Toolkit | undefined) => void> = [];
  private loading: Promise<void> | undefined;
  /** The import failed: nothing can be written any more, so calls are dropped, not queued. */
  private failed = false;

  constructor(private readonly load: () => Promise<Toolkit> = bundledCore) {}

  /** Runs `call` with the toolkit now if it is loaded and nothing waits, else after what waits. */
  write(call: (core: Toolkit) => void): void {
    this.use(call).catch(() => undefined);
  }

  /**
   * Runs `call` with the toolkit after every call made before it; resolves to its result, or
   * rejects with what it threw or when the toolkit could not be loaded.
   */
  use<T>(call: (core: Toolkit) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = (core: Toolkit | undefined) => {
        if (core === undefined) return reject(new Error('The GitHub Actions toolkit could not be loaded.'));
        try {
          resolve(call(core));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      // Queued after a failed import, a call would never run, and flushed() would wait for it
      // forever (a loop of resolved awaits that also starves the job's timers).
      if (this.failed) run(undefined);
      else if (this.core !== undefined && this.queue.length === 0) run(this.core);
      else this.enqueue(run);
    });
  }

  private enqueue(call: (core: Toolkit | undefined) => void): void {
    this.queue.push(call);
    this.loading ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.load())
      .then(
        (core) => {
          this.core = core;
          for (const waiting of this.queue.splice(0)) waiting(core);
        },
        (error: unknown) => {
          // Cannot happen with the bundle (the chunk ships beside it); if it does, say so where
          // the runner shows it and fail the step, rather than end silently green.
          this.failed = true;
          for (const waiting of this.queue.splice(0)) waiting(undefined);
          process.stderr.write(`The action's log could not be written: ${String(error)}\n`);
          process.exitCode = 1;
        },
      );
  }

  /** Resolves when every call made so far has been written. */
  async flushed(): Promise<void> {
    while (this.queue.length > 0 && this.loading !== undefined) await this.loading;
  }
}

export class ActionsReporter implements JobReporter {
  private readonly secrets = new SecretSet();
  private groupDepth = 0;

  constructor(private readonly log: CoreLog = new CoreLog()) {}

  /** Resolves when every line written so far is out (run() awaits it before it returns). */
  flushed(): Promise<void> {
    return this.log.flushed();
  }

  /**
   * Registers the secret, and tells the runner every form of it (masking.ts: encodings, NFC/NFD,
   * a JSON secret's values), one line each: the runner masks only what it is told.
   */
  mask(secret: string): void {
    for (const piece of this.secrets.add(secret)) {
      // The runner masks substrings: a short piece would star out every line holding those
      // characters (shared/request/masking.ts); our own redaction masks short ones as whole words.
      if (piece.length >= MIN_SUBSTRING_LENGTH) this.log.write((core) => core.setSecret(piece));
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
    const text = this.clean(message);
    this.log.write((core) => core.info(text));
  }

  warning(message: string): void {
    const text = this.clean(message);
    this.log.write((core) => core.warning(text));
  }

  notice(message: string): void {
    const text = this.clean(message);
    this.log.write((core) => core.notice(text));
  }

  debug(message: string): void {
    const text = this.clean(message);
    this.log.write((core) => core.debug(text));
  }

  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    // The runner's log has no nested groups: an inner ::group:: would close the outer one.
    if (this.groupDepth > 0) {
      this.info(`-- ${name}`);
      return fn();
    }
    this.groupDepth += 1;
    const title = this.clean(name);
    this.log.write((core) => core.startGroup(title));
    try {
      return await fn();
    } finally {
      this.log.write((core) => core.endGroup());
      this.groupDepth -= 1;
    }
  }

  /** The job's last line when it succeeded. */
  success(message: string): void {
    this.info(message);
  }

  /** Fails the step (exit code 1) with one error annotation: the job runner's verdict, once. */
  failure(message: string): void {
    const text = this.clean(message);
    this.log.write((core) => core.setFailed(text));
  }

  /** Redacted, then inert as a workflow command (also what the failure handler writes). */
  clean(message: string): string {
    return inertLogText(this.redact(message));
  }
}
