/**
 * Input and output hygiene of the built entry on every platform, run as its runner runs it against
 * the emulator and the platform's API double: a bad value is an input error naming the input
 * before anything is created, a secret reaches no place a user or a later job can see, and an
 * output holding a secret is left out with a warning rather than redacted. The property drives
 * random bad input through every input (test/doubles/bad-inputs.ts).
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { badInput, leakIn, PROPERTY_SEED, type BadField } from '../doubles/bad-inputs.js';
import { workspaceNamed } from '../doubles/fixture.js';
import { PLATFORMS, usePlatform, type JobOptions, type Run } from './harness.js';

/**
 * Lines of the raw log a value started: an injected workflow command at a line start, or on GitHub
 * (whose runner also reads the legacy `##[` form anywhere in a line) a `##[` command.
 */
const forgedLines = (run: Run, ciVariables: boolean) =>
  run.rawLines.filter(
    (line) =>
      /^[\s\u0085]*::[^:]*::\s*(INJECTED|CR|PCT)/.test(line) || (!ciVariables && line.includes('##[')),
  );

const PEM_KEY = 'Zk9xQ+r/7TqLwPmS3cV8==';
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC';

/** One bad value each, refused as an input error naming its input before anything is created. */
const INPUT_ERRORS: Array<{ what: string; field: BadField; value: string; error: RegExp; log?: RegExp }> = [
  {
    what: 'a PEM key pasted without quotes is named by line and quoted nowhere (log, outputs, files, note)',
    field: 'env',
    value: `TLS_KEY=-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n${PEM_KEY}\n-----END PRIVATE KEY-----`,
    error: /Invalid input/,
    log: /line 3: the text before "=" is not a valid name/,
  },
  {
    what: 'an invisible character (U+200B) in vpnConfig is an input error before any create',
    field: 'vpnConfig',
    value: 'office\u200b',
    error: /control or invisible character \(U\+200B at position \d+\)/,
  },
  {
    // A left-to-right mark, copied from a right-to-left page.
    what: 'an invisible character (U+200E) in plan is an input error before any create',
    field: 'plan',
    value: '\u200eBoost',
    error: /control or invisible character \(U\+200E at position \d+\)/,
  },
  {
    what: 'a value with a line break and a workflow command is an input error naming it; it starts no line of its own',
    field: 'vpnConfig',
    value: 'office\n::warning::INJECTED',
    error: /U\+000A/,
  },
];

describe.each(PLATFORMS)('$name', (platform) => {
  const t = usePlatform(platform);
  beforeEach(() => t.session.open(7));
  const { secrets, outputs } = platform;
  const deploy = (options: JobOptions) => t.session.deploy(7, options);
  const creates = () =>
    t.emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces');
  const workspace = () => workspaceNamed(t.emulator, platform.workspace(7));
  const expectInputError = (run: Run, input: string) => {
    expect(run.code, run.describe).toBe(1);
    expect(run.errors, run.describe).toHaveLength(1);
    expect(run.errors[0], run.describe).toContain(`"${input}"`);
    expect(creates()).toEqual([]);
    expect(t.emulator.state().workspaces).toHaveLength(0);
  };

  it.each(INPUT_ERRORS)('$what', async (row) => {
    const run = await deploy({ inputs: { [row.field]: row.value } });
    expectInputError(run, platform.inputName(row.field));
    expect(run.errors[0]).toMatch(row.error);
    if (row.log) expect(run.log).toMatch(row.log);
    expect(run.log).not.toContain('createWorkspace failed');
    expect(forgedLines(run, platform.ciVariables)).toEqual([]);
    expect(leakIn(run.visible, [PEM_KEY, PEM_BODY])).toBeUndefined();
  });

  it('PASSENGER_PORT=3000 is no secret (the outputs and the note carry the real URL); escaped values reach the workspace as written', async () => {
    const env = [
      'PASSENGER_PORT=3000',
      'DB_PASSWORD=s3cr3t-passw0rd-value',
      'WIN_PATH="C:\\\\new\\\\table"',
      'QUOTE="say \\"hi\\""',
    ];
    const run = await deploy({ inputs: { env: env.join('\n') } });
    expect(run.code, run.describe).toBe(0);
    const url = `https://${workspace()?.devDomain ?? ''}`;
    for (const name of outputs.url) expect(run.outputs[name], name).toBe(url);
    expect(t.session.notes(7).join('\n')).toContain(url);
    if (run.visible['summary'] !== undefined)
      expect(run.visible['summary'], 'the job summary').toContain(url);
    expect(JSON.stringify(run.outputs) + (run.visible['summary'] ?? '')).not.toContain('***');
    expect(leakIn(run.visible, [...secrets, 's3cr3t-passw0rd-value'])).toBeUndefined();
    const written = [...t.emulator.world.workspaces.values()].find((w) => w.name === platform.workspace(7));
    expect(written?.env.get('WIN_PATH')).toBe('C:\\new\\table');
    expect(written?.env.get('QUOTE')).toBe('say "hi"');
  });

  it('an output whose value holds a secret is left out (never redacted), with a warning naming it', async () => {
    // The emulator's dev domains end in this: a secret that also occurs in the URL.
    const run = await deploy({ inputs: { env: 'APP_SECRET=codesphere.com' } });
    expect(run.code, run.describe).toBe(0);
    for (const name of outputs.url) expect(run.outputs[name], name).toBeUndefined();
    const [kept, field] = outputs.kept;
    expect(run.outputs[kept], kept).toBe(String(workspace()?.[field]));
    expect(JSON.stringify(run.outputs)).not.toContain('***');
    expect(run.log).toMatch(outputs.leftOut);
  });

  it('a value in the log cannot start a line of its own (CR, %0A and ##[ forms)', async () => {
    const run = await deploy({
      inputs: { team: 'My Team\r::warning::CR', plan: 'Boost%0A::warning::PCT ##[warning]LEGACY' },
    });
    expect(run.code, run.describe).toBe(1);
    expect(forgedLines(run, platform.ciVariables)).toEqual([]);
    // On GitHub the only workflow commands are the action's own.
    const commands = platform.ciVariables ? [] : run.rawLines.filter((l) => l.startsWith('::'));
    for (const line of commands) expect(line).toMatch(/^::(add-mask|error|debug|group|endgroup|notice)::/);
    expect(creates()).toEqual([]);
  });

  it.runIf(platform.ciVariables)(
    'a variable error quotes escape sequences and CR escaped, never raw into the log',
    async () => {
      // A raw ESC[2K + CR would erase the error line in the job log and print another over it.
      const run = await deploy({ variables: { DEBUG: 'yes\u001b[2K\rJob succeeded' } });
      expectInputError(run, 'DEBUG');
      expect(run.errors[0]).toContain('Invalid input "DEBUG": got "yes\\u001b[2K\\rJob succeeded"');
      expect(run.visible['log']).not.toContain('\u001b[2K');
      expect(run.visible['log']).not.toContain('\r');
    },
  );

  it(
    'property: random bad input on any input exits 1 with one error naming it, creates nothing and leaks no fragment of a secret',
    { timeout: 600_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(badInput(secrets), async (input) => {
          const run = await deploy({ inputs: input.values });
          expectInputError(run, platform.inputName(input.field));
          expect(forgedLines(run, platform.ciVariables), run.describe).toEqual([]);
          expect(leakIn(run.visible, [...secrets, input.envSecret]), run.describe).toBeUndefined();
        }),
        { seed: PROPERTY_SEED, numRuns: 15, endOnFailure: true },
      );
    },
  );
});
