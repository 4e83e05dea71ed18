/**
 * Env sync through the built GitLab entry (gitlab-image/dist/index.js): variables dropped
 * from the job's ENV leave the preview, variables set by hand in Codesphere stay, the reserved
 * marker name is refused. Outcomes are the emulator's state, the exit code and the job log.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import {
  expectCleanCalls,
  jobDirectory,
  runCheckedEntry,
  startFixtureEmulator,
  userVariables,
  workspaceNamed,
} from '../doubles/fixture.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  DEMO_PASSWORD,
  DEMO_TOKEN,
  describeRun,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  lastLine,
  type EntryRun,
} from '../doubles/run-entry.js';

/** The markers' names and value, spelled out: the built bundle is under test, not the module's constants. */
const MARKER_PREFIX = 'CODESPHERE_DEPLOY_MANAGED__';
const MARKER_VALUE = 'set by codesphere-deploy from env';
/** The list an earlier version kept instead of markers (reserved, migrated). */
const LEGACY_LIST = 'CODESPHERE_DEPLOY_MANAGED_ENV';

/** `vars` plus the marker of each. */
function marked(vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...vars };
  for (const name of Object.keys(vars)) out[`${MARKER_PREFIX}${name}`] = MARKER_VALUE;
  return out;
}
const OLD_SECRET = 'old-db-pw-7c2a41e9';
const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN, OLD_SECRET];

let emulator: RunningEmulator;
let gitlab: GitLabDouble;
let job: { dir: string; remove(): void };

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  gitlab = await startGitLabDouble({
    token: GITLAB_ACCESS_TOKEN,
    projectId: GITLAB_PROJECT.id,
    projectPath: GITLAB_PROJECT.path,
    mergeRequests: [{ iid: 12, state: 'opened' as const }],
  });
  job = jobDirectory('gitlab-envsync');
});
afterEach(async () => {
  expectCleanCalls(emulator, gitlab, 'GitLab');
  await gitlab.close();
  job.remove();
});

/** An MR pipeline's deploy job with the given ENV (absent: the variable is not set at all). */
function deployWith(env: string | undefined): Promise<EntryRun> {
  const variables = userVariables(emulator, GITLAB_ACCESS_TOKEN, env === undefined ? {} : { ENV: env });
  const shape = { mergeRequestIid: 12, apiV4Url: `${gitlab.url}/api/v4` };
  return runCheckedEntry(
    gitlabEntry,
    { ...gitlabJobEnv(shape, job.dir), ...variables },
    { dir: job.dir, double: gitlab, secrets: SECRETS },
  );
}

const previewEnv = () => workspaceNamed(emulator, 'shop-!12')?.env;

describe('ENV: what the job set earlier and no longer declares is removed', () => {
  it('A=1 + OLD_DB_PASSWORD, then A=1, then no ENV: removed; a variable set by hand stays', async () => {
    const first = await deployWith(`A=1\nOLD_DB_PASSWORD=${OLD_SECRET}`);
    expect(first.code, describeRun(first)).toBe(0);
    expect(previewEnv()).toEqual(marked({ A: '1', OLD_DB_PASSWORD: OLD_SECRET }));

    // Someone sets a variable by hand in Codesphere (the Public API, as the UI does).
    const id = workspaceNamed(emulator, 'shop-!12')?.id;
    const byHand = await fetch(`${emulator.url}/api/workspaces/${id}/env-vars`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ name: 'HAND_SET', value: 'kept' }]),
    });
    expect(byHand.status).toBe(200);

    const second = await deployWith('A=1');
    expect(second.code, describeRun(second)).toBe(0);
    expect(previewEnv()).toEqual({ ...marked({ A: '1' }), HAND_SET: 'kept' });
    expect(second.text).toContain('env: 1 removed (OLD_DB_PASSWORD)');

    const third = await deployWith(undefined);
    expect(third.code, describeRun(third)).toBe(0);
    expect(previewEnv()).toEqual({ HAND_SET: 'kept' });
    expect(third.text).toContain('env: 1 removed (A)');
    expect(workspaceNamed(emulator, 'shop-!12')?.id, 'the same workspace, updated in place').toBe(id);
  });

  it.each([LEGACY_LIST, `${MARKER_PREFIX}A`])(
    'refuses %s in ENV, naming the variable, and changes nothing',
    async (reserved) => {
      const first = await deployWith('A=1');
      expect(first.code, describeRun(first)).toBe(0);
      const before = previewEnv();

      const run = await deployWith(`A=2\n${reserved}=HAND_SET`);
      expect(run.code).toBe(1);
      expect(lastLine(run)).toContain('ENV');
      expect(run.text).toContain(`name "${reserved}" is reserved`);
      expect(run.text).not.toContain('HAND_SET');
      expect(previewEnv()).toEqual(before);
    },
  );
});
