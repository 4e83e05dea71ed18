/**
 * Event payloads shaped like the ones GitHub writes to GITHUB_EVENT_PATH (trimmed to the fields
 * a consumer may read, but with the real nesting: pull_request.head.repo, base.repo, repository).
 */

export const OWNER = 'acme';
export const REPO = 'shop';
export const CLONE_URL = `https://github.com/${OWNER}/${REPO}.git`;

function user(login: string, type: 'User' | 'Bot' = 'User') {
  return {
    login,
    id: login.length * 1000 + 1,
    type,
    site_admin: false,
    html_url: `https://github.com/${login}`,
  };
}

function repository(fullName: string, options: { fork?: boolean; private?: boolean } = {}) {
  const [owner = '', name = ''] = fullName.split('/');
  return {
    id: fullName.length * 7919,
    node_id: `R_${name}`,
    name,
    full_name: fullName,
    private: options.private ?? false,
    owner: user(owner),
    html_url: `https://github.com/${fullName}`,
    fork: options.fork ?? false,
    url: `https://api.github.com/repos/${fullName}`,
    clone_url: `https://github.com/${fullName}.git`,
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    default_branch: 'main',
    visibility: options.private ? 'private' : 'public',
  };
}

export interface PullRequestOptions {
  action: 'opened' | 'reopened' | 'synchronize' | 'closed' | 'labeled' | 'ready_for_review';
  number: number;
  branch?: string;
  sha?: string;
  /** Full name of the head repository when the PR comes from a fork. */
  fork?: string;
  author?: string;
  merged?: boolean;
}

export function pullRequestPayload(options: PullRequestOptions) {
  const base = repository(`${OWNER}/${REPO}`);
  const head = options.fork === undefined ? base : repository(options.fork, { fork: true });
  const sha = options.sha ?? '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c';
  const branch = options.branch ?? `feature-${options.number}`;
  const closed = options.action === 'closed';
  const author = options.author ?? 'octocat';
  return {
    action: options.action,
    number: options.number,
    pull_request: {
      url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${options.number}`,
      id: 900000 + options.number,
      html_url: `https://github.com/${OWNER}/${REPO}/pull/${options.number}`,
      number: options.number,
      state: closed ? 'closed' : 'open',
      title: `Change #${options.number}`,
      user: user(author, author.endsWith('[bot]') ? 'Bot' : 'User'),
      draft: false,
      merged: closed ? (options.merged ?? false) : false,
      closed_at: closed ? '2026-11-28T12:00:00Z' : null,
      head: { label: `${head.owner.login}:${branch}`, ref: branch, sha, user: head.owner, repo: head },
      base: {
        label: `${OWNER}:main`,
        ref: 'main',
        sha: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567',
        user: base.owner,
        repo: base,
      },
    },
    repository: base,
    sender: user(author),
  };
}

export function pushPayload(branch: string, sha: string, options: { deleted?: boolean } = {}) {
  return {
    ref: `refs/heads/${branch}`,
    before: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567',
    after: options.deleted ? '0000000000000000000000000000000000000000' : sha,
    created: false,
    deleted: options.deleted ?? false,
    forced: false,
    repository: repository(`${OWNER}/${REPO}`),
    pusher: { name: 'octocat', email: 'octocat@example.com' },
    sender: user('octocat'),
  };
}

export function schedulePayload() {
  return { schedule: '0 3 * * *' };
}
