/**
 * One preview job on each platform, run as its runner runs it (the built entry, a clean
 * environment, the platform's double), against any Codesphere URL (the emulator, or the tamper
 * proxy in front of it). What a run leaves where people and later steps read it comes back in
 * one shape, so a case is written once and checked on every platform.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBitbucketDouble } from '../doubles/bitbucket-double.js';
import { jobDirectory } from '../doubles/fixture.js';
import { startGitHubDouble } from '../doubles/github-double.js';
import { startGitLabDouble } from '../doubles/gitlab-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
  GITLAB_ACCESS_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  runEntry,
} from '../doubles/run-entry.js';
import { runAction } from '../github-action/harness.js';
import { pullRequestPayload } from '../github-action/payloads.js';

export type Platform = 'github' | 'gitlab' | 'bitbucket';
export const PLATFORMS: Platform[] = ['github', 'gitlab', 'bitbucket'];

export interface JobSettings {
  apiUrl: string;
  apiToken: string;
  /** The `env` input (dotenv lines). */
  env?: string;
  /** Change request number. */
  number: number;
  branch: string;
}

export interface JobOutcome {
  code: number | null;
  /** The job log as a reader sees it (GitHub: without `::add-mask::` lines). */
  log: string;
  /** The raw job log (GitHub: with `::add-mask::`, to check what the runner was told). */
  rawLog: string;
  /** The change request's note or comment bodies. */
  notes: string;
  /** GitHub: the job summary; elsewhere empty. */
  summary: string;
  /** The machine outputs: GITHUB_OUTPUT values, the dotenv report, the pipe's output variables. */
  outputs: string;
  /** Deployment status descriptions (GitHub). */
  statuses: string;
}

export async function runJob(platform: Platform, job: JobSettings): Promise<JobOutcome> {
  if (platform === 'github') {
    const github = await startGitHubDouble({ token: undefined });
    try {
      const run = await runAction({
        eventName: 'pull_request',
        payload: pullRequestPayload({
          action: 'opened',
          number: job.number,
          sha: 'c'.repeat(40),
          branch: job.branch,
        }),
        githubApiUrl: github.url,
        inputs: {
          apiUrl: job.apiUrl,
          apiToken: job.apiToken,
          team: 'My Team',
          vpnConfig: 'office',
          plan: 'Micro',
          ...(job.env === undefined ? {} : { env: job.env }),
        },
      });
      return {
        code: run.code,
        log: `${run.visibleStdout}\n${run.stderr}`,
        rawLog: run.stdout,
        notes: github.comments.map((c) => c.body).join('\n'),
        summary: run.summary,
        outputs: Object.values(run.outputs).join('\n'),
        statuses: JSON.stringify(github.deployments),
      };
    } finally {
      await github.close();
    }
  }
  const dir = jobDirectory(`trust-${platform}`);
  try {
    const user = {
      API_URL: job.apiUrl,
      API_TOKEN: job.apiToken,
      TEAM: 'My Team',
      PLAN: 'Micro',
      VPN_CONFIG: 'office',
      ...(job.env === undefined ? {} : { ENV: job.env }),
    };
    if (platform === 'gitlab') {
      const gitlab = await startGitLabDouble({
        token: GITLAB_ACCESS_TOKEN,
        projectId: GITLAB_PROJECT.id,
        projectPath: GITLAB_PROJECT.path,
        mergeRequests: [{ iid: job.number, state: 'opened' as const }],
      });
      try {
        const env = {
          ...gitlabJobEnv(
            { mergeRequestIid: job.number, branch: job.branch, apiV4Url: `${gitlab.url}/api/v4` },
            dir.dir,
          ),
          ...user,
          ACCESS_TOKEN: GITLAB_ACCESS_TOKEN,
        };
        const run = await runEntry(gitlabEntry, env, dir.dir);
        let outputs = '';
        try {
          outputs = readFileSync(path.join(dir.dir, 'deploy.env'), 'utf8');
        } catch {
          // No report written.
        }
        return {
          code: run.code,
          log: run.text,
          rawLog: run.text,
          notes: gitlab
            .userNotes(job.number)
            .map((n) => n.body)
            .join('\n'),
          summary: '',
          outputs,
          statuses: '',
        };
      } finally {
        await gitlab.close();
      }
    }
    const bitbucket = await startBitbucketDouble({
      token: BITBUCKET_ACCESS_TOKEN,
      workspace: BITBUCKET_REPO.workspace,
      repoSlug: BITBUCKET_REPO.slug,
      pullRequests: [{ id: job.number, state: 'OPEN' as const }],
    });
    try {
      const variablesFile = path.join(dir.dir, 'pipelines-variables.env');
      writeFileSync(variablesFile, '');
      const env = {
        ...bitbucketStepEnv(
          { pullRequestId: job.number, branch: job.branch, apiUrl: bitbucket.url },
          dir.dir,
        ),
        BITBUCKET_PIPELINES_VARIABLES_PATH: variablesFile,
        ...user,
        ACCESS_TOKEN: BITBUCKET_ACCESS_TOKEN,
      };
      const run = await runEntry(bitbucketEntry, env, dir.dir);
      return {
        code: run.code,
        log: run.text,
        rawLog: run.text,
        notes: [...bitbucket.comments.values()]
          .flat()
          .map((c) => c.content.raw)
          .join('\n'),
        summary: '',
        outputs: readFileSync(variablesFile, 'utf8'),
        statuses: '',
      };
    } finally {
      await bitbucket.close();
    }
  } finally {
    dir.remove();
  }
}

/** Every place of a run people read. */
export function peopleRead(outcome: JobOutcome): Record<string, string> {
  return { log: outcome.log, notes: outcome.notes, summary: outcome.summary, statuses: outcome.statuses };
}
