/**
 * The change-request port (shared/ci changeRequestPort) on GitHub's REST API through Octokit:
 * a pull request's state (https://docs.github.com/rest/pulls/pulls#get-a-pull-request), whether a
 * branch exists (…/branches/branches#get-a-branch, 404 meaning deleted when the repository
 * answers: …/repos/repos#get-a-repository), the open pull requests
 * for prune, and the issue comments the preview comment lives in (…/issues/comments).
 */
import { type ChangeRequestApi, changeRequestPort } from '../../shared/ci/index.js';
import type { GitHubRun } from './github-context.js';
import { gitHubCalls, type LazyOctokit } from './octokit.js';

/** The port for one repository; every call made with the run's (lazy, bounded) Octokit. */
export function gitHubApi(
  octokitOf: LazyOctokit,
  { owner, repo }: Pick<GitHubRun, 'owner' | 'repo'>,
): ChangeRequestApi {
  const grant = (scopes: string) => gitHubCalls(octokitOf, `add ${scopes} to the workflow's permissions`);
  const pulls = grant('"pull-requests: read"');
  const contents = grant('"contents: read"');
  const comments = grant('"pull-requests: write" and "issues: write"');
  return changeRequestPort({
    states: { open: ['open'], closed: ['closed'] },
    state: (number) =>
      pulls(
        `get pull request #${number}`,
        async (octokit) => (await octokit.rest.pulls.get({ owner, repo, pull_number: number })).data.state,
      ),
    getBranch: (branch) =>
      contents(`get branch "${branch}"`, (octokit) => octokit.rest.repos.getBranch({ owner, repo, branch })),
    getRepository: () =>
      contents(`get the repository ${owner}/${repo}`, (octokit) => octokit.rest.repos.get({ owner, repo })),
    listOpen: () =>
      pulls(`list the open pull requests of ${owner}/${repo}`, async (octokit) =>
        (await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: 'open', per_page: 100 })).map(
          (pull) => pull.number,
        ),
      ),
    listNotes: (number) =>
      comments(`list the comments of #${number}`, async (octokit) =>
        (
          await octokit.paginate(octokit.rest.issues.listComments, {
            owner,
            repo,
            issue_number: number,
            per_page: 100,
          })
        ).map((comment) => ({ id: comment.id, body: comment.body ?? '' })),
      ),
    createNote: (number, body) =>
      comments(
        `comment on #${number}`,
        async (octokit) =>
          (await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body })).data.id,
      ),
    updateNote: (number, id, body) =>
      comments(`update the comment on #${number}`, (octokit) =>
        octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body }),
      ),
    deleteNote: (number, id) =>
      comments(`delete a duplicate comment on #${number}`, (octokit) =>
        octokit.rest.issues.deleteComment({ owner, repo, comment_id: id }),
      ),
  });
}
