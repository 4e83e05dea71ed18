/**
 * The masking rule as a property, per sink: for random secrets (any Unicode, lone surrogates,
 * quotes, backslashes, `%`, `+`, `/`), printed in any form a server or a build writes them
 * (raw, JSON-escaped, percent-encoded both ways, base64 of `user:secret`, HTML-escaped, NFC, NFD)
 * at a random place and split at random log-entry boundaries, no 8-character fragment of the
 * printed form reaches the GitLab/Bitbucket job log, the GitHub job log, a note or summary (the
 * reporters' `redact`), an error message (describeError) or the stage-log lines.
 * Fixed seed, bounded runs; FC_RUNS raises them (test/bench/masking.bench.ts runs longer).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ActionsReporter } from '../../github-action/src/reporter.js';
import { ConsoleReporter } from '../../shared/ci/console-reporter.js';
import { maskedLogHandlers, type LogEntry } from '../../shared/codesphere/log-stream.js';
import { describeError } from '../../shared/errors.js';
import { redact } from '../../shared/request/secrets.js';
import { StepLog } from '../../shared/workflow/stage-logs.js';
import { printedForms, secretArbitrary, type Printed } from './printed-forms.js';

const RUNS = Number(process.env.FC_RUNS ?? 100);
const SEED = 20261206;

/** Characters of the text around the secret and of the sinks' own markup: fragments of only these prove nothing. */
const FILLER = new Set([...' ~|*│-:']);

/** Every 8-code-unit window of the printed form that is not filler only. */
function fragments(form: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + 8 <= form.length; i++) {
    const window = form.slice(i, i + 8);
    if ([...window].some((c) => !FILLER.has(c))) out.add(window);
  }
  return [...out];
}

function leak(sink: string, form: string): string | undefined {
  return fragments(form).find((fragment) => sink.includes(fragment));
}

const scenario = fc.record({
  secret: secretArbitrary(),
  user: fc.string({ unit: fc.constantFrom(...'abcdefgh'), minLength: 0, maxLength: 5 }),
  before: fc.string({ unit: fc.constantFrom(' ', '~', '|'), maxLength: 30 }),
  after: fc.string({ unit: fc.constantFrom(' ', '~', '|'), maxLength: 30 }),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
  which: fc.nat(),
});

function printedOf(s: { secret: string; user: string; which: number }): Printed | undefined {
  const forms = printedForms(s.secret, s.user);
  return forms[s.which % forms.length];
}

/** The text split at the given points: log entries that break a line anywhere. */
function entriesOf(text: string, cuts: number[]): LogEntry[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const entries: LogEntry[] = [];
  let from = 0;
  for (const point of [...points, text.length]) {
    if (point <= from && point !== text.length) continue;
    entries.push({ timestamp: '2026-12-06T00:00:00Z', kind: 'I', data: text.slice(from, point) });
    from = point;
  }
  return entries;
}

function consoleSink(secret: string): { reporter: ConsoleReporter; out: () => string } {
  let out = '';
  const reporter = new ConsoleReporter({ stdout: { write: (text: string) => (out += text) } });
  reporter.mask(secret);
  return { reporter, out: () => out };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('no fragment of a printed secret reaches a sink', () => {
  it('GitLab/Bitbucket job log (ConsoleReporter)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const printed = printedOf(s);
        fc.pre(printed !== undefined);
        if (!printed) return;
        const { reporter, out } = consoleSink(s.secret);
        reporter.info(`${s.before}${printed.text}${s.after}`);
        reporter.warning(`${printed.text}${s.after}`);
        expect(leak(out(), printed.secretPart), `${printed.name} form`).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('GitHub job log (ActionsReporter through @actions/core)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const printed = printedOf(s);
        fc.pre(printed !== undefined);
        if (!printed) return;
        let out = '';
        vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
          out += String(chunk);
          return true;
        });
        const reporter = new ActionsReporter();
        reporter.mask(s.secret);
        reporter.info(`${s.before}${printed.text}${s.after}`);
        reporter.notice(`${printed.text}`);
        await reporter.flushed();
        vi.restoreAllMocks();
        // `::add-mask::` lines are where the runner is told the forms; everything else is shown.
        const shown = out
          .split('\n')
          .filter((line) => !line.startsWith('::add-mask::'))
          .join('\n');
        expect(leak(shown, printed.secretPart), `${printed.name} form`).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('notes, comments and summaries (both reporters’ redact)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const printed = printedOf(s);
        fc.pre(printed !== undefined);
        if (!printed) return;
        const note = `| Preview | ${s.before}${printed.text}${s.after} |\n\`\`\`text\n${printed.text}\n\`\`\``;
        const { reporter } = consoleSink(s.secret);
        vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
        const actions = new ActionsReporter();
        actions.mask(s.secret);
        expect(leak(reporter.redact(note), printed.secretPart), `${printed.name} form`).toBeUndefined();
        expect(leak(actions.redact(note), printed.secretPart), `${printed.name} form`).toBeUndefined();
        await actions.flushed();
        vi.restoreAllMocks();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  // describeError quotes a foreign error as it is; every sink prints it through a masking redact.
  it('error messages (describeError, then redact as every sink does)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const printed = printedOf(s);
        fc.pre(printed !== undefined);
        if (!printed) return;
        const message = redact(describeError(new Error(`proxy said: ${s.before}${printed.text}${s.after}`)), [
          s.secret,
        ]);
        expect(leak(message, printed.secretPart), `${printed.name} form`).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('stage-log lines split at random entry boundaries (log stream, then the step log)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const printed = printedOf(s);
        fc.pre(printed !== undefined);
        if (!printed) return;
        const { reporter, out } = consoleSink(s.secret);
        const log = new StepLog((line) => reporter.info(`│ ${line}`), 1_000);
        const stream = maskedLogHandlers(
          {
            onEntries: (entries) => log.add(entries),
            onProblem: () => undefined,
            onInvalid: () => undefined,
          },
          [s.secret],
        );
        stream.handlers.onEntries(entriesOf(`${s.before}${printed.text}${s.after}`, s.cuts));
        stream.flush();
        log.finish(reporter);
        // Each line on its own, and the lines joined: no part of the secret survives either way.
        const lines = out()
          .split('\n')
          .map((line) => line.replace(/^│ /, ''));
        expect(leak(out(), printed.secretPart), `${printed.name} form`).toBeUndefined();
        expect(
          leak(lines.join(''), printed.secretPart),
          `${printed.name} form, lines joined`,
        ).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
