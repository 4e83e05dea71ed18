/**
 * GitHub deployments of the preview's environment (https://docs.github.com/rest/deployments):
 * one per deploy run, its payload naming the run (`RunOrder`), so every run can tell which
 * deployment is the newest run's. The rule: only the newest run's deployment stays active, and a
 * run whose deployment is older than another run's (started later) retires its own.
 */
import { z } from 'zod';
import { compareRunOrder, formatRunOrder, parseRunOrder, type RunOrder } from '../../shared/ci/index.js';
import type { GitHubRun } from './github-context.js';
import { gitHubCalls, type LazyOctokit, type Octokit } from './octokit.js';

/** Where a deployment's payload records the run that created it. */
const PAYLOAD_KEY = 'codesphere-deploy';
const recordedRun = z.object({ [PAYLOAD_KEY]: z.object({ run: z.string() }) });

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive';

/** The run order a deployment's payload (an object, or its JSON) records; `[]` for one created without. */
export function payloadRunOrder(payload: unknown): RunOrder {
  let value = payload;
  try {
    if (typeof value === 'string') value = JSON.parse(value) as unknown;
  } catch {
    return [];
  }
  const parsed = recordedRun.safeParse(value);
  return parsed.success ? parseRunOrder(parsed.data[PAYLOAD_KEY].run) : [];
}

function truncate(text: string, max = 140): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The deployments of one run; every method throws a PlatformApiError when GitHub refuses.
 * `redact` masks the secrets in a description before it is cut to 140 characters.
 */
export function gitHubDeployments(
  octokitOf: LazyOctokit,
  run: Pick<GitHubRun, 'owner' | 'repo' | 'runUrl' | 'runOrder'>,
  redact: (text: string) => string = (text) => text,
) {
  const { owner, repo } = run;
  const call = gitHubCalls(octokitOf, 'add "deployments: write" to the workflow\'s permissions');
  const list = (octokit: Octokit, environment: string) =>
    octokit.paginate(octokit.rest.repos.listDeployments, { owner, repo, environment, per_page: 100 });
  const latestState = async (octokit: Octokit, id: number) =>
    (await octokit.rest.repos.listDeploymentStatuses({ owner, repo, deployment_id: id, per_page: 1 })).data[0]
      ?.state;
  const setStatus = (
    id: number,
    state: DeploymentState,
    description: string,
    environmentUrl?: string,
  ): Promise<void> =>
    call(`set deployment ${id} to ${state}`, async (octokit) => {
      await octokit.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: id,
        state,
        description: truncate(redact(description)),
        log_url: run.runUrl,
        ...(environmentUrl === undefined ? {} : { environment_url: environmentUrl }),
        // GitHub's auto_inactive retires every earlier *created* deployment, whatever its run:
        // an older run's success would retire a newer run's. `settle` retires by run order.
        ...(state === 'success' ? { auto_inactive: false } : {}),
      });
    });

  return {
    setStatus,
    /** Creates this run's deployment of `environment` at `ref`; its payload names the run. */
    create: (environment: string, ref: string, description: string): Promise<number | undefined> =>
      call(`create a deployment for "${environment}"`, async (octokit) => {
        const { data } = await octokit.rest.repos.createDeployment({
          owner,
          repo,
          ref,
          environment,
          description: truncate(redact(description)),
          // Built by Codesphere from the branch: no merge of the base, no wait for the PR's checks.
          auto_merge: false,
          required_contexts: [],
          transient_environment: false,
          production_environment: false,
          payload: { [PAYLOAD_KEY]: { run: formatRunOrder(run.runOrder) } },
        });
        return 'id' in data ? data.id : undefined;
      }),

    /** The newest run order among `environment`'s deployments when it is newer than this run's. */
    newerRun: (environment: string): Promise<RunOrder | undefined> =>
      call(`list the deployments of "${environment}"`, async (octokit) => {
        const orders = (await list(octokit, environment)).map((d) => payloadRunOrder(d.payload));
        const newest = orders.sort(compareRunOrder).at(-1);
        return newest && compareRunOrder(newest, run.runOrder) > 0 ? newest : undefined;
      }),

    /**
     * After this run's deployment `id` succeeded: when a newer run has a deployment (whatever its
     * state: it is updating the same workspace), ours is retired ("superseded"); otherwise every
     * older active one is. Whichever run settles last sees the others, so the newest stays.
     */
    settle: (environment: string, id: number): Promise<'active' | 'superseded'> =>
      call(`settle the active deployment of "${environment}"`, async (octokit) => {
        const others = (await list(octokit, environment)).filter((d) => d.id !== id);
        const rank = (d: { id: number; payload: unknown }) =>
          compareRunOrder(payloadRunOrder(d.payload), run.runOrder) || d.id - id;
        const newer = others.find((d) => rank(d) > 0);
        if (newer !== undefined) {
          await setStatus(id, 'inactive', `Superseded by deployment ${newer.id} of a newer run`);
          return 'superseded';
        }
        for (const older of others) {
          if ((await latestState(octokit, older.id)) !== 'success') continue;
          await setStatus(older.id, 'inactive', `Superseded by deployment ${id} of a newer run`);
        }
        return 'active';
      }),

    /** Marks every deployment of `environment` not yet inactive inactive; returns how many. */
    deactivate: (environment: string): Promise<number> =>
      call(`mark "${environment}" inactive`, async (octokit) => {
        let count = 0;
        for (const deployment of await list(octokit, environment)) {
          if ((await latestState(octokit, deployment.id)) === 'inactive') continue;
          await setStatus(deployment.id, 'inactive', 'Preview workspace deleted');
          count += 1;
        }
        return count;
      }),
  };
}

export type GitHubDeployments = ReturnType<typeof gitHubDeployments>;
