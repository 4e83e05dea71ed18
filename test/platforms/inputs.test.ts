/**
 * Input and output hygiene of the built entry on every platform, run as its runner runs it against
 * the emulator and the platform's API double: a bad value is an input error naming the input
 * before anything is created, a secret reaches no place a user or a later job can see, and an
 * output holding a secret is left out with a warning rather than redacted. The property drives
 * random bad input through every input (test/doubles/bad-inputs.ts).
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { badInput, leakIn, PROPERTY_SEED } from '../doubles/bad-inputs.js';
import { startFixtureEmulator, workspaceNamed } from '../doubles/fixture.js';
import { PLATFORMS, SECRETS_OF, type Run, type Session } from './harness.js';

/** The URL output and the warning for an output left out, per platform. */
const URL_OUTPUTS: Record<string, { url: string[]; kept: [string, 'name' | 'id']; warning: RegExp }> = {
  'GitHub Action': {
    url: ['deployment-url'],
    kept: ['workspace-name', 'name'],
    warning:
      /::warning::Not written to the step outputs \(GITHUB_OUTPUT\): deployment-url\. Its value holds a masked secret/,
  },
  'GitLab image': {
    url: ['DYNAMIC_ENVIRONMENT_URL', 'CODESPHERE_URL'],
    kept: ['CODESPHERE_WORKSPACE_NAME', 'name'],
    warning: /Not written to the dotenv report: DYNAMIC_ENVIRONMENT_URL, CODESPHERE_URL\./,
  },
  'Bitbucket pipe': {
    url: ['CODESPHERE_URL'],
    kept: ['CODESPHERE_WORKSPACE_ID', 'id'],
    warning: /Not written to the output variables: CODESPHERE_URL\./,
  },
};

/**
 * Lines of the raw log a value started: an injected workflow command at a line start, or on GitHub
 * (whose runner also reads the legacy `##[` form anywhere in a line) a `##[` command.
 */
const forgedLines = (run: Run, ciVariables: boolean) =>
  run.rawLines.filter(
    (line) =>
      /^[\s\u0085]*::[^:]*::\s*(INJECTED|CR|PCT)/.test(line) || (!ciVariables && line.includes('##[')),
  );

describe.each(PLATFORMS)('$name', (platform) => {
  let emulator: RunningEmulator;
  let session: Session;
  const secrets = SECRETS_OF[platform.name] ?? [];
  const outputs = URL_OUTPUTS[platform.name];

  beforeAll(async () => {
    emulator = await startFixtureEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(async () => {
    await emulator.reset();
    session = await platform.start(emulator);
    session.open(7);
  });
  afterEach(async () => {
    await session.finish();
  });

  const creates = () =>
    emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces');
  const deploy = (inputs: Parameters<Session['deploy']>[1]) => session.deploy(7, inputs);
  const expectInputError = (run: Run, input: string) => {
    expect(run.code, run.describe).toBe(1);
    expect(run.errors, run.describe).toHaveLength(1);
    expect(run.errors[0], run.describe).toContain(`"${input}"`);
    expect(creates()).toEqual([]);
    expect(emulator.state().workspaces).toHaveLength(0);
  };

  it('a PEM key pasted without quotes is named by line and quoted nowhere (log, outputs, files, note)', async () => {
    const key = 'Zk9xQ+r/7TqLwPmS3cV8==';
    const env = `TLS_KEY=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n${key}\n-----END PRIVATE KEY-----`;
    const run = await deploy({ inputs: { env } });
    expectInputError(run, platform.inputName('env'));
    expect(run.errors[0]).toContain('Invalid input');
    expect(run.log).toContain('line 3: the text before "=" is not a valid name');
    expect(JSON.stringify(run.visible)).not.toContain('Zk9xQ');
    expect(leakIn(run.visible, [key, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'])).toBeUndefined();
  });

  it('PASSENGER_PORT=3000 is no secret: the outputs and the note carry the real URL', async () => {
    const run = await deploy({ inputs: { env: 'PASSENGER_PORT=3000\nDB_PASSWORD=s3cr3t-passw0rd-value' } });
    expect(run.code, run.describe).toBe(0);
    const url = `https://${workspaceNamed(emulator, platform.workspace(7))?.devDomain ?? ''}`;
    for (const name of outputs?.url ?? []) expect(run.outputs[name], name).toBe(url);
    expect(session.notes(7).join('\n')).toContain(url);
    if (run.visible['summary'] !== undefined)
      expect(run.visible['summary'], 'the job summary').toContain(url);
    expect(JSON.stringify(run.outputs) + (run.visible['summary'] ?? '')).not.toContain('***');
    expect(leakIn(run.visible, [...secrets, 's3cr3t-passw0rd-value'])).toBeUndefined();
  });

  it('an output whose value holds a secret is left out (never redacted), with a warning naming it', async () => {
    // The emulator's dev domains end in this: a secret that also occurs in the URL.
    const run = await deploy({ inputs: { env: 'APP_SECRET=codesphere.com' } });
    expect(run.code, run.describe).toBe(0);
    for (const name of outputs?.url ?? []) expect(run.outputs[name], name).toBeUndefined();
    const [kept, field] = outputs?.kept ?? ['', 'name'];
    expect(run.outputs[kept], kept).toBe(String(workspaceNamed(emulator, platform.workspace(7))?.[field]));
    expect(JSON.stringify(run.outputs)).not.toContain('***');
    expect(run.log).toMatch(outputs?.warning ?? /./);
  });

  it('WIN_PATH="C:\\\\new\\\\table" and an escaped quote reach the workspace as written', async () => {
    const run = await deploy({ inputs: { env: 'WIN_PATH="C:\\\\new\\\\table"\nQUOTE="say \\"hi\\""' } });
    expect(run.code, run.describe).toBe(0);
    const workspace = [...emulator.world.workspaces.values()].find((w) => w.name === platform.workspace(7));
    expect(workspace?.env.get('WIN_PATH')).toBe('C:\\new\\table');
    expect(workspace?.env.get('QUOTE')).toBe('say "hi"');
  });

  it.each([
    { field: 'vpnConfig', value: 'office\u200b', character: '200B' },
    { field: 'plan', value: '\u200eBoost', character: '200E' }, // a left-to-right mark, copied from a right-to-left page
  ] as const)(
    'an invisible character (U+$character) in $field is an input error before any create',
    async (row) => {
      const run = await deploy({ inputs: { [row.field]: row.value } });
      expectInputError(run, platform.inputName(row.field));
      expect(run.errors[0]).toMatch(
        new RegExp(`control or invisible character \\(U\\+${row.character} at position \\d+\\)`),
      );
    },
  );

  it('a value with a line break and a workflow command is an input error naming it; it starts no line of its own', async () => {
    const run = await deploy({ inputs: { vpnConfig: 'office\n::warning::INJECTED' } });
    expectInputError(run, platform.inputName('vpnConfig'));
    expect(run.errors[0]).toContain('U+000A');
    expect(run.log).not.toContain('createWorkspace failed');
    expect(forgedLines(run, platform.ciVariables)).toEqual([]);
  });

  it('a value in the log cannot start a line of its own (CR, %0A and ##[ forms)', async () => {
    const run = await deploy({
      inputs: { team: 'My Team\r::warning::CR', plan: 'Boost%0A::warning::PCT ##[warning]LEGACY' },
    });
    expect(run.code, run.describe).toBe(1);
    expect(forgedLines(run, platform.ciVariables)).toEqual([]);
    if (!platform.ciVariables) {
      // The only workflow commands are the action's own.
      for (const line of run.rawLines.filter((l) => l.startsWith('::'))) {
        expect(line).toMatch(/^::(add-mask|error|debug|group|endgroup|notice)::/);
      }
    }
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
