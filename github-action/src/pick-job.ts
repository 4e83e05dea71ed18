/**
 * Which job a run performs, from the event and the `action` input. Pure, so every event/action
 * combination is covered by a table test.
 */
import type { JobKind } from '../../shared/index.js';
import type { ActionChoice } from './inputs.js';
import type { Trigger } from './github-context.js';

export type PickedJob = { kind: JobKind; why: string } | { kind: 'skip'; why: string };

/** pull_request actions that (re)deploy the preview. */
export const DEPLOY_ACTIONS: readonly string[] = ['opened', 'reopened', 'synchronize', 'ready_for_review'];

export function pickJob(trigger: Trigger, action: ActionChoice): PickedJob {
  if (action === 'prune') return { kind: 'prune', why: 'input action=prune' };
  if (action === 'deploy' || action === 'teardown') {
    if (trigger.kind === 'other') {
      return {
        kind: 'skip',
        why: `action=${action} needs a pull request or a branch, and a ${trigger.event || 'unknown'} event has neither`,
      };
    }
    return { kind: action, why: `input action=${action}` };
  }
  switch (trigger.kind) {
    case 'pull_request':
      if (trigger.action === 'closed') return { kind: 'teardown', why: `${trigger.event} closed` };
      if (DEPLOY_ACTIONS.includes(trigger.action)) {
        return { kind: 'deploy', why: `${trigger.event} ${trigger.action}` };
      }
      return {
        kind: 'skip',
        why: `${trigger.event} "${trigger.action}" changes nothing to deploy (deploys on ${DEPLOY_ACTIONS.join(', ')}; deletes on closed)`,
      };
    case 'branch':
      return trigger.deleted
        ? { kind: 'teardown', why: `branch ${trigger.branch} deleted` }
        : { kind: 'deploy', why: `${trigger.event} on branch ${trigger.branch}` };
    case 'other':
      if (trigger.event === 'schedule') return { kind: 'prune', why: 'schedule' };
      return {
        kind: 'skip',
        why: `the ${trigger.event || 'unknown'} event has no pull request or branch to preview; set the "action" input to prune for a clean-up job`,
      };
  }
}
