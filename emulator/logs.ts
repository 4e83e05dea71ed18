/**
 * Pipeline step output and the Public API's log streams (workspaces-logs, workspaces-replicaLogs):
 * `text/event-stream` answers of `data` events (JSON arrays of `{timestamp, kind, data}`) or
 * `problem` events (the error envelope); the errors the spec lists (400, 404) arrive as a
 * `problem` inside a 200 stream, as the spec describes. A step's lines come from the seed
 * (`pipeline.logs`) or a default script, spread over the step's share of `timing.stageMs`, so a
 * follower sees them while the stage runs. A stream ends with its step; a `run` step's stays open
 * until the client leaves.
 */
import type { ServerResponse } from 'node:http';
import type { Seed } from './seed.js';
import { problemBody } from './problem.js';
import type { Stage, StageRun, World, Workspace } from './state.js';

/** One step of a stage as the emulator plays it. */
export interface StepScript {
  /** Lines in order; `${NAME}` is replaced by the workspace's env var NAME (a build script echoing it). */
  lines: string[];
  /** Whether the step (and so the stage) fails once its lines are written. */
  fails: boolean;
}

/** One SSE event as written on the wire, kept for the contract check. */
export interface SentEvent {
  event: 'data' | 'problem';
  data: unknown;
}

const DEFAULT_SCRIPTS: Record<Stage, StepScript[]> = {
  prepare: [
    {
      lines: ['$ npm ci', 'added 312 packages, and audited 313 packages in 4s', 'found 0 vulnerabilities'],
      fails: false,
    },
    {
      lines: ['$ npm run build', '> app@1.0.0 build', '> tsc -p . && vite build', 'built in 2.31s'],
      fails: false,
    },
  ],
  test: [{ lines: ['$ npm test', 'Tests: 12 passed, 12 total'], fails: false }],
  run: [{ lines: ['$ npm start', '> app@1.0.0 start', 'Listening on http://0.0.0.0:3000'], fails: false }],
};

/** The error tail a failing step prints when the seed gives it no lines of its own. */
const DEFAULT_FAILURE_TAIL = [
  'npm ERR! code ERESOLVE',
  'npm ERR! ERESOLVE unable to resolve dependency tree',
  'npm ERR! Could not resolve dependency: peer react@"^17.0.0" from react-dom@17.0.2',
  'npm ERR! A complete log of this run can be found in: /home/user/.npm/_logs/debug-0.log',
];

/**
 * The steps a stage runs for this workspace's branch: the seed's entry for (branch, stage), else
 * one for (any branch, stage), else the default script. A stage the world or workspace is told to
 * fail (failStages) fails in its last step, with a package-manager error tail.
 */
export function scriptFor(seed: Seed, workspace: Workspace, stage: Stage, forceFail: boolean): StepScript[] {
  const branch = workspace.git?.branch;
  const entries = seed.pipeline.logs.filter((l) => l.stage === stage);
  const entry =
    entries.find((l) => l.branch !== undefined && l.branch === branch) ??
    entries.find((l) => l.branch === undefined);
  const steps: StepScript[] = entry
    ? entry.steps.map((s) => ({
        lines: [
          ...s.lines,
          ...Array.from({ length: s.generate?.count ?? 0 }, (_, i) =>
            (s.generate?.line ?? 'line {n}').replaceAll('{n}', String(i + 1)),
          ),
        ],
        fails: s.fails,
      }))
    : DEFAULT_SCRIPTS[stage].map((s) => ({ ...s, lines: [...s.lines] }));
  if (steps.length === 0) steps.push({ lines: [], fails: false });
  if (forceFail && !steps.some((s) => s.fails)) {
    const last = steps[steps.length - 1]!;
    last.lines.push(...DEFAULT_FAILURE_TAIL);
    last.fails = true;
  }
  return steps;
}

/** Index of the step that fails, or undefined. */
export function failingStep(steps: StepScript[]): number | undefined {
  const index = steps.findIndex((s) => s.fails);
  return index >= 0 ? index : undefined;
}

/** When step `index` of a run is running, as [from, to) epoch ms. */
export function stepWindow(world: World, run: StageRun, index: number): { from: number; to: number } {
  const share = world.timing.stageMs / Math.max(1, run.steps.length);
  const from = run.startedAt + world.timing.stageQueueMs + share * index;
  return { from, to: from + share };
}

function expand(line: string, workspace: Workspace): string {
  return line.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
    (whole, name: string) => workspace.env.get(name) ?? '',
  );
}

function write(res: ServerResponse, sent: SentEvent[], event: SentEvent): void {
  sent.push(event);
  // One `data:` field per event: JSON.stringify never emits a raw newline.
  res.write(`event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`);
}

/** Writes a `problem` event (the spec's way to fail a log stream) and ends the stream. */
export function streamProblem(res: ServerResponse, status: number, detail: string): SentEvent[] {
  const sent: SentEvent[] = [];
  write(res, sent, { event: 'problem', data: problemBody(status, detail) });
  res.end();
  return sent;
}

/**
 * Follows step `stepIndex` of the workspace's current run of `stage`: writes every line that is
 * due, in batches (one `data` event per tick, as the platform batches), until the step is over.
 * Returns the events sent. A stopped stage, a deleted workspace or a closed client ends it.
 */
export async function streamStep(
  world: () => World,
  res: ServerResponse,
  workspace: Workspace,
  stage: Stage,
  stepIndex: number,
): Promise<SentEvent[]> {
  const sent: SentEvent[] = [];
  const run = workspace.pipeline[stage];
  if (!run) {
    write(res, sent, { event: 'problem', data: problemBody(400, `Stage ${stage} has not been started.`) });
    res.end();
    return sent;
  }
  const step = run.steps[stepIndex];
  if (!step) {
    const detail = `Invalid path parameter step: stage ${stage} has ${run.steps.length} step(s) (0..${run.steps.length - 1}), got ${stepIndex}`;
    write(res, sent, { event: 'problem', data: problemBody(400, detail) });
    res.end();
    return sent;
  }
  let closed = false;
  res.on('close', () => (closed = true));
  const { from, to } = stepWindow(world(), run, stepIndex);
  const failAt = failingStep(run.steps);
  const reached = failAt === undefined || stepIndex <= failAt;
  let written = 0;
  const MAX_BATCH = 500;
  for (;;) {
    const w = world();
    if (closed || w.workspaces.get(workspace.id) !== workspace || workspace.pipeline[stage] !== run) break;
    const now = w.now();
    const end = run.stoppedAt ?? Infinity;
    const at = Math.min(now, end);
    const due = !reached
      ? 0
      : at >= to
        ? step.lines.length
        : at < from
          ? 0
          : Math.floor((step.lines.length * (at - from)) / Math.max(1, to - from));
    while (written < due) {
      const batch = step.lines.slice(written, Math.min(due, written + MAX_BATCH));
      const timestamp = new Date(at).toISOString();
      const first = written;
      write(res, sent, {
        event: 'data',
        data: batch.map((line, i) => ({
          timestamp,
          // A failing step's last lines go to stderr, as a package manager's error does.
          kind: step.fails && first + i >= step.lines.length - DEFAULT_FAILURE_TAIL.length ? 'E' : 'I',
          data: expand(line, workspace),
        })),
      });
      written += batch.length;
    }
    const finished = at >= to || !reached || run.stoppedAt !== undefined;
    if (finished && (stage !== 'run' || run.stoppedAt !== undefined || !reached)) break;
    await w.clock.sleep(Math.max(5, Math.min(50, (to - from) / 20)));
  }
  if (!closed) res.end();
  return sent;
}
