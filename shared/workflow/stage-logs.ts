/**
 * Pipeline stage logs in the job log: each step's output is followed through the log stream
 * (codesphere/log-stream.ts) and printed in its own Reporter group, so a failed build is explained
 * where the user already looks. Bounded: at most `lineCap` lines per step, then a notice and the
 * step's last lines; memory holds only the last ERROR_TAIL_LINES. Every line goes through the
 * Reporter, which masks secrets. On a failed stage the failing step's last 50 lines join the error
 * message, and a `StageLogTail` rides on the error for the change request's comment (last 15).
 */
import type { PipelineStage } from '../codesphere/api.js';
import type { LogEntry } from '../codesphere/log-stream.js';
import type { StageReplica } from '../codesphere/schemas.js';
import { errorMessage, findCause, StageFailedError, StageFailedWithLogError } from '../errors.js';
import { runStage, type WaitContext } from './pipeline.js';
import type { Reporter } from '../reporter.js';
import type { StageLogTail } from '../outcomes.js';

/** Lines of one step printed to the job log before the rest is left out (the tail still follows). */
export const DEFAULT_STEP_LINE_CAP = 1_000;
/** Lines of the failing step quoted in the error message. */
export const ERROR_TAIL_LINES = 50;
/** Lines of the failing step quoted in the change request's comment. */
export const NOTE_TAIL_LINES = 15;
/** A longer line is cut: a minified bundle printed to stdout must not flood the job log. */
export const MAX_LINE_CHARS = 2_000;
/** How long a finished stage's streams may take to deliver their last lines (ms). */
const DRAIN_MS = 5_000;
/** Printed before every streamed line: the build's text never starts a line, so it cannot issue
 * GitHub workflow commands (`::add-mask::`, `::stop-commands::`) or GitLab section markers. */
const LINE_PREFIX = '│ ';

export type { StageLogTail } from '../outcomes.js';

/** The stage log tail an error (or any error in its cause chain) carries, with the quoted block. */
export function stageLogTailOf(error: unknown): { tail: StageLogTail; quoted: string } | undefined {
  const failed = findCause(error, StageFailedWithLogError);
  return failed && { tail: failed.tail, quoted: failed.quoted };
}

/**
 * One step's output, bounded: prints the first `cap` lines as they come, counts the rest, and
 * keeps the last ERROR_TAIL_LINES lines (a ring) for the notice at the end and for errors.
 */
export class StepLog {
  private readonly ring: string[] = [];
  total = 0;
  printed = 0;

  constructor(
    private readonly print: (line: string) => void,
    private readonly cap: number,
  ) {}

  /** Splits entries into lines (an entry may carry several, or end in a newline). */
  add(entries: LogEntry[]): void {
    for (const entry of entries) {
      const lines = entry.data.split(/\r\n|\r|\n/);
      if (lines.length > 1 && lines.at(-1) === '') lines.pop();
      for (const line of lines) this.push(line);
    }
  }

  push(raw: string): void {
    const line =
      raw.length > MAX_LINE_CHARS
        ? `${raw.slice(0, MAX_LINE_CHARS)} … (${raw.length - MAX_LINE_CHARS} characters cut)`
        : raw;
    this.total++;
    this.ring.push(line);
    if (this.ring.length > ERROR_TAIL_LINES) this.ring.shift();
    if (this.printed < this.cap) {
      this.printed++;
      this.print(line);
    }
  }

  /** The last `n` lines (n <= ERROR_TAIL_LINES). */
  tail(n: number = ERROR_TAIL_LINES): string[] {
    return this.ring.slice(-n);
  }

  /** Ends the step: says how many lines were left out and prints the last ones not yet shown. */
  finish(reporter: Reporter): void {
    const omitted = this.total - this.printed;
    if (omitted <= 0) return;
    const shown = Math.min(omitted, this.ring.length);
    const leftOut = omitted - shown;
    reporter.info(
      `… ${leftOut} line(s) left out of the job log (a step prints at most ${this.cap} lines; ${this.total} in all)` +
        (shown > 0 ? `; its last ${shown} follow:` : '.'),
    );
    for (const line of this.ring.slice(-shown)) reporter.info(`${LINE_PREFIX}${line}`);
  }
}

export interface StageLogOptions {
  /** Lines per step printed to the job log (default DEFAULT_STEP_LINE_CAP). */
  lineCap?: number | undefined;
  /** The CI profile the stage starts with (`ci.<profile>.yml`). */
  profile?: string | undefined;
  /** A landscape: a failure names the service replica. */
  landscape?: boolean | undefined;
}

function stepState(replicas: StageReplica[] | undefined, step: number): string | undefined {
  if (!replicas) return undefined;
  // A step has started once any replica shows it past waiting.
  const states = replicas.map((r) => r.steps[step]?.state).filter((s): s is NonNullable<typeof s> => !!s);
  if (states.length === 0) return undefined;
  return states.find((s) => s !== 'waiting') ?? 'waiting';
}

function failingStepOf(replicas: StageReplica[] | undefined): number | undefined {
  for (const replica of replicas ?? []) {
    const index = replica.steps.findIndex((s) => s.state === 'failure' || s.state === 'aborted');
    if (index >= 0) return index;
  }
  return undefined;
}

/**
 * Runs a stage like `runStage` while streaming its steps' logs into the job log, one group per
 * step. Logs never decide the outcome: a log that cannot be read is a warning. When the stage
 * fails, the error is a StageFailedWithLogError quoting the failing step's last lines.
 */
export async function runStageWithLogs(
  ctx: WaitContext,
  workspaceId: number,
  stage: PipelineStage,
  goal: 'success' | 'running',
  options: StageLogOptions = {},
): Promise<StageReplica[]> {
  const { reporter, client } = ctx;
  const cap = options.lineCap ?? DEFAULT_STEP_LINE_CAP;
  const logs = new Map<number, StepLog>();
  const abort = new AbortController();
  let latest: StageReplica[] | undefined;
  let stageOver = false;
  let wake: () => void = () => undefined;
  const changed = () => new Promise<void>((resolve) => (wake = resolve));

  async function followStep(step: number, of: number): Promise<void> {
    const log = new StepLog((line) => reporter.info(`${LINE_PREFIX}${line}`), cap);
    logs.set(step, log);
    await reporter.group(`${stage}: step ${step + 1} of ${of} (log)`, async () => {
      let warned = false;
      try {
        await client.followLogs(
          workspaceId,
          stage,
          step,
          {
            onEntries: (entries) => log.add(entries),
            onProblem: (problem) =>
              reporter.warning(
                `The ${stage} log of step ${step + 1} is not available (${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}).`,
              ),
            onInvalid: (why) => {
              if (!warned) reporter.warning(`The ${stage} log of step ${step + 1} had ${why}; skipped.`);
              warned = true;
            },
          },
          abort.signal,
        );
      } catch (error: unknown) {
        reporter.warning(`Could not read the ${stage} log of step ${step + 1}: ${errorMessage(error)}`);
      }
      log.finish(reporter);
    });
  }

  const follower = (async () => {
    for (let step = 0; !abort.signal.aborted; step++) {
      // Wait until the step has started, or the stage is over without reaching it.
      while (!abort.signal.aborted) {
        const state = stepState(latest, step);
        if (state !== undefined && state !== 'waiting') break;
        if (stageOver) return;
        await changed();
      }
      if (abort.signal.aborted) return;
      await followStep(step, latest?.[0]?.steps.length ?? step + 1);
    }
  })();

  let failure: unknown;
  let final: StageReplica[] = [];
  try {
    final = await runStage(
      ctx,
      workspaceId,
      stage,
      goal,
      (replicas) => {
        latest = replicas;
        wake();
      },
      { profile: options.profile, landscape: options.landscape },
    );
  } catch (error: unknown) {
    failure = error;
  }
  stageOver = true;
  wake();
  // A finished step's stream ends by itself once its last lines are out; a stage still running
  // (`run`) or a stream that hangs is cut after a short drain.
  const drain =
    goal === 'running' && failure === undefined
      ? 0
      : Math.max(0, Math.min(DRAIN_MS, ctx.deadline - ctx.deps.clock.now()));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([follower, new Promise<void>((resolve) => (timer = setTimeout(resolve, drain)))]);
  clearTimeout(timer);
  abort.abort();
  wake();
  await follower;

  if (failure === undefined) return final;
  const step = failingStepOf(latest);
  const log = step === undefined ? undefined : logs.get(step);
  // Anything but a failed stage with a known log (a timeout, a vanished workspace) passes unchanged.
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrowing what runStage threw
  if (!(failure instanceof StageFailedError) || step === undefined || !log || log.total === 0) throw failure;
  const lines = log.tail(ERROR_TAIL_LINES);
  const quoted =
    `\nLast ${lines.length} of ${log.total} line(s) of ${stage} step ${step + 1}:\n` +
    lines.map((line) => `  ${line}`).join('\n');
  throw new StageFailedWithLogError(
    `${failure.message}${quoted}`,
    { stage, step, totalLines: log.total, lines },
    quoted,
    {
      cause: failure,
    },
  );
}
