/**
 * The change-request port (shared/ci ChangeRequestApi) on GitHub's REST API through Octokit:
 * a pull request's state (https://docs.github.com/rest/pulls/pulls#get-a-pull-request), whether a
 * branch exists (…/branches/branches#get-a-branch, 404 meaning deleted), the open pull requests
 * for prune, and the issue comments the preview comment lives in (…/issues/comments).
 */
import { type ChangeRequestApi, type NoteStore } from '../../shared/ci/index.js';
import { gitHubCall, type LazyOctokit, statusOf } from './octokit.js';

const READ_PULLS = 'add "pull-requests: read" to the workflow\'s permissions';
const WRITE_COMMENTS = 'add "pull-requests: write" and "issues: write" to the workflow\'s permissions';

/** The repository the calls are about. */
export interface GitHubRepo {
  owner: string;
  repo: string;
}

/** The port for one repository; every call made with the run's (lazy, bounded) Octokit. */
export function gitHubApi(octokitOf: LazyOctokit, { owner, repo }: GitHubRepo): ChangeRequestApi {
  const call = <T>(
    operation: string,
    permission: string,
    request: (o: Awaited<ReturnType<LazyOctokit>>) => Promise<T>,
  ) => gitHubCall(operation, permission, async () => request(await octokitOf()));
  return {
    state: (number) =>
      call(`get pull request #${number}`, READ_PULLS, async (octokit) => {
        const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
        return data.state === 'open' ? 'open' : data.state === 'closed' ? 'closed' : 'unknown';
      }),
    branchExists: (branch) =>
      call(
        `get branch "${branch}"`,
        'add "contents: read" to the workflow\'s permissions',
        async (octokit) => {
          try {
            await octokit.rest.repos.getBranch({ owner, repo, branch });
            return true;
          } catch (error) {
            if (statusOf(error) === 404) return false;
            throw error;
          }
        },
      ),
    listOpen: () =>
      call(`list the open pull requests of ${owner}/${repo}`, READ_PULLS, async (octokit) =>
        (await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: 'open', per_page: 100 })).map(
          (pull) => pull.number,
        ),
      ),
    notes: (number): NoteStore => ({
      list: () =>
        call(`list the comments of #${number}`, WRITE_COMMENTS, async (octokit) =>
          (
            await octokit.paginate(octokit.rest.issues.listComments, {
              owner,
              repo,
              issue_number: number,
              per_page: 100,
            })
          ).map((comment) => ({ id: comment.id, body: comment.body ?? '' })),
        ),
      create: (body) =>
        call(`comment on #${number}`, WRITE_COMMENTS, async (octokit) => {
          const { data } = await octokit.rest.issues.createComment({
            owner,
            repo,
            issue_number: number,
            body,
          });
          return data.id;
        }),
      // False on 404: another run deleted it.
      update: (id, body) =>
        call(`update the comment on #${number}`, WRITE_COMMENTS, async (octokit) => {
          try {
            await octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body });
            return true;
          } catch (error) {
            if (statusOf(error) === 404) return false;
            throw error;
          }
        }),
      // A comment already gone counts as removed.
      remove: (id) =>
        call(`delete a duplicate comment on #${number}`, WRITE_COMMENTS, async (octokit) => {
          try {
            await octokit.rest.issues.deleteComment({ owner, repo, comment_id: id });
          } catch (error) {
            if (statusOf(error) !== 404) throw error;
          }
        }),
    }),
  };
}
