import { describe, expect, it } from 'vitest';
import type { Trigger } from '../../github-action/src/github-context.js';
import type { ActionChoice } from '../../github-action/src/inputs.js';
import { pickJob } from '../../github-action/src/pick-job.js';

const pr = (action: string, event = 'pull_request'): Trigger => ({
  kind: 'pull_request',
  event,
  action,
  number: 7,
  branch: 'feature',
  sha: 'abc',
  gitUrl: 'https://github.com/acme/shop.git',
  fromFork: false,
  author: 'octocat',
});
const branch = (deleted = false, event = 'push'): Trigger => ({
  kind: 'branch',
  event,
  branch: 'main',
  sha: 'abc',
  gitUrl: 'https://github.com/acme/shop.git',
  deleted,
});
const other = (event: string): Trigger => ({ kind: 'other', event });

describe('pickJob: which job an event and the action input select', () => {
  it.each<[string, Trigger, ActionChoice, string]>([
    ['PR opened', pr('opened'), 'auto', 'deploy'],
    ['PR reopened', pr('reopened'), 'auto', 'deploy'],
    ['PR synchronize', pr('synchronize'), 'auto', 'deploy'],
    ['PR ready_for_review', pr('ready_for_review'), 'auto', 'deploy'],
    ['PR closed', pr('closed'), 'auto', 'teardown'],
    ['PR labeled', pr('labeled'), 'auto', 'skip'],
    ['pull_request_target opened', pr('opened', 'pull_request_target'), 'auto', 'deploy'],
    ['pull_request_target closed', pr('closed', 'pull_request_target'), 'auto', 'teardown'],
    ['push', branch(), 'auto', 'deploy'],
    ['push deleting the branch', branch(true), 'auto', 'teardown'],
    ['workflow_dispatch', branch(false, 'workflow_dispatch'), 'auto', 'deploy'],
    ['schedule', other('schedule'), 'auto', 'prune'],
    ['issue_comment', other('issue_comment'), 'auto', 'skip'],
    ['forced teardown on a PR event', pr('synchronize'), 'teardown', 'teardown'],
    ['forced deploy on a closed PR', pr('closed'), 'deploy', 'deploy'],
    ['forced teardown from workflow_dispatch', branch(false, 'workflow_dispatch'), 'teardown', 'teardown'],
    ['forced prune from workflow_dispatch', branch(false, 'workflow_dispatch'), 'prune', 'prune'],
    ['forced prune on schedule', other('schedule'), 'prune', 'prune'],
    ['forced deploy without PR or branch', other('schedule'), 'deploy', 'skip'],
  ])('%s -> %s', (_name, trigger, action, expected) => {
    expect(pickJob(trigger, action).kind).toBe(expected);
  });

  it('says why it skips, naming the event and what it would act on', () => {
    const picked = pickJob(pr('labeled'), 'auto');
    expect(picked.why).toContain('"labeled"');
    expect(picked.why).toContain('opened, reopened, synchronize');
  });
});
