/**
 * The core's ChangeRequests port on GitHub: a pull request's state from `GET /repos/{owner}/{repo}/pulls/{pull_number}`
 * (https://docs.github.com/rest/pulls/pulls#get-a-pull-request), with the workflow's token. A
 * deploy asks it before it creates anything and before it reports success, so a PR closed in the
 * meantime ends with its workspace deleted instead of a "ready" comment; prune asks it right before
 * each deletion. Reading a pull request needs `pull-requests: read` (the workflow's default token has it).
 */
import { type ChangeRequests, type ChangeRequestState, CodesphereDeployError } from '../../shared/index.js';
import type { GitHubRun } from './github-context.js';
import { describeGitHubError, type LazyOctokit } from './github-features.js';

/** `open` -> open; `closed` (merged or not) -> closed. Throws a secret-free error when GitHub refuses. */
export function pullRequestStates(
  octokitOf: LazyOctokit,
  run: Pick<GitHubRun, 'owner' | 'repo'>,
): ChangeRequests {
  return {
    async state(number: number): Promise<ChangeRequestState> {
      try {
        const octokit = await octokitOf();
        const { data } = await octokit.rest.pulls.get({
          owner: run.owner,
          repo: run.repo,
          pull_number: number,
        });
        if (data.state === 'open') return 'open';
        if (data.state === 'closed') return 'closed';
        return 'unknown';
      } catch (cause) {
        throw new CodesphereDeployError(
          `GitHub did not return pull request #${number} (${describeGitHubError(cause)}); ` +
            'the workflow needs "pull-requests: read".',
          { cause },
        );
      }
    },
    // GET /repos/{owner}/{repo}/branches/{branch} (https://docs.github.com/rest/branches/branches#get-a-branch):
    // 404 is the one answer that means deleted; "contents: read" (the default token has it).
    async branchExists(branch: string): Promise<boolean> {
      try {
        const octokit = await octokitOf();
        await octokit.rest.repos.getBranch({ owner: run.owner, repo: run.repo, branch });
        return true;
      } catch (cause) {
        if ((cause as { status?: unknown } | null)?.status === 404) return false;
        throw new CodesphereDeployError(
          `GitHub did not return branch "${branch}" (${describeGitHubError(cause)}).`,
          { cause },
        );
      }
    },
  };
}
