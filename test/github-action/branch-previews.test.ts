/**
 * Branch previews whose names are close (a slash and a dash, scripts, accents, case) stay apart
 * through the built action: a push to one never touches the other, deleting one keeps the other.
 * Each pair runs on its own emulator and GitHub API double, so the pairs run side by side (a
 * run is mostly waiting: polls, the note's pause, the teardown's race checks).
 */
import { describe, it } from 'vitest';
import { describeRun, startFixtureEmulator, startGitHubDouble } from './fixture.js';
import { DEMO_TOKEN, runAction } from './harness.js';
import { validateGitHubCalls, warmUpGitHubValidation } from '../doubles/github-openapi.js';
import { workspaceName } from '../../shared/workflow/naming.js';
import { CLONE_URL, OWNER, REPO, pushPayload } from './payloads.js';

warmUpGitHubValidation();

const branchPreview = (branch: string) =>
  workspaceName({ platform: 'github', repository: `${OWNER}/${REPO}`, branch });
const sha = (n: number) => n.toString(16).padStart(40, 'c');

describe('branch previews (push)', () => {
  it.concurrent.for([
    ['feat/login', 'feat-login'],
    ['修复', '功能'],
    ['fix/ä', 'fix/ö'],
    ['Feat', 'feat'],
  ] as const)(
    'keeps the previews of %s and %s apart: a push to one never touches the other, deleting one keeps the other',
    { timeout: 60_000 },
    async ([a, b], { expect }) => {
      const emulator = await startFixtureEmulator();
      const github = await startGitHubDouble({ token: undefined });
      try {
        const workspaces = () => emulator.state().workspaces;
        const workspaceNamed = (name: string) => workspaces().find((w) => w.name === name);
        const branchRun = (payload: object) =>
          runAction({
            eventName: 'push',
            payload,
            githubApiUrl: github.url,
            inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', vpnConfig: 'office' },
          });

        const commitA = emulator.world.push(CLONE_URL, a);
        const first = await branchRun(pushPayload(a, commitA));
        expect(first.code, describeRun(first)).toBe(0);
        const previewA = workspaceNamed(branchPreview(a));
        expect(previewA?.git).toEqual({ branch: a, commit: commitA });

        for (const n of [1, 2]) {
          const commitB = emulator.world.push(CLONE_URL, b);
          const run = await branchRun(pushPayload(b, commitB));
          expect(run.code, describeRun(run)).toBe(0);
          expect(run.outputs['workspace-name']).toBe(branchPreview(b));
          expect(run.outputs['result']).toBe(n === 1 ? 'created' : 'updated');
          expect(workspaceNamed(branchPreview(b))?.git).toEqual({ branch: b, commit: commitB });
        }
        // a's preview: the same workspace, still on a's commit, never pulled by b's runs.
        expect(workspaceNamed(branchPreview(a))).toMatchObject({
          id: previewA?.id,
          git: { branch: a, commit: commitA },
        });
        expect(
          emulator.requestLog().filter((e) => e.path.startsWith(`/api/workspaces/${previewA?.id}/git/pull`)),
        ).toEqual([]);
        expect(workspaces()).toHaveLength(2);

        const deleted = await branchRun(pushPayload(b, sha(1), { deleted: true }));
        expect(deleted.code, describeRun(deleted)).toBe(0);
        expect(deleted.outputs['result']).toBe('deleted');
        expect(workspaces().map((w) => [w.id, w.name])).toEqual([[previewA?.id, branchPreview(a)]]);

        expect(github.unhandled, 'GitHub calls the double does not know').toEqual([]);
        expect(validateGitHubCalls(github.calls), 'GitHub calls against @octokit/openapi').toEqual([]);
        expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
      } finally {
        await github.close();
        await emulator.close();
      }
    },
  );
});
