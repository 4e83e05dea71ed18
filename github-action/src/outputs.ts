/**
 * The one writer of step outputs (GITHUB_OUTPUT) and the job summary (GITHUB_STEP_SUMMARY), at
 * the paths the context read, in GitHub's environment-file format
 * (https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#environment-files).
 * @actions/core writes the same but reads the paths from process.env and does not export its formatter.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { EOL } from 'node:os';
import { describeError } from '../../shared/index.js';
import { type JobReporter, secretFreeOutputs, withheldWarning } from '../../shared/ci/index.js';
import type { RunnerFiles } from './github-context.js';

/** Output names as action.yml declares them (a test checks the two agree). */
export const OUTPUT = {
  deploymentUrl: 'deployment-url',
  workspaceId: 'workspace-id',
  workspaceName: 'workspace-name',
  vpnConfig: 'vpn-config',
  result: 'result',
  vpnCheck: 'vpn-check',
  healthCheck: 'health-check',
  services: 'services',
  githubDeploymentId: 'github-deployment-id',
  pruned: 'pruned',
} as const;

/** What the writer needs of the job's reporter. */
export type WriterGuard = Pick<JobReporter, 'holdsSecret' | 'redact' | 'warning' | 'debug'>;

export class StepWriter {
  constructor(
    private readonly files: RunnerFiles,
    private readonly guard: WriterGuard,
  ) {}

  /**
   * Sets step outputs. One whose value holds a masked secret is not written: a warning names it
   * (never its value). Returns the error of a write that failed instead of throwing, so the
   * caller reports it as what it is (the preview exists by then); undefined when all were written.
   */
  outputs(entries: Readonly<Record<string, string>>): Error | undefined {
    const { written, withheld } = secretFreeOutputs(entries, (value) => this.guard.holdsSecret(value));
    if (withheld.length > 0)
      this.guard.warning(withheldWarning(withheld, 'the step outputs (GITHUB_OUTPUT)'));
    const file = this.files.output;
    if (file === undefined) {
      // Outside a runner: nothing reads outputs (the `::set-output` command is gone from GitHub).
      this.guard.debug(`No GITHUB_OUTPUT; outputs not written: ${Object.keys(written).join(', ')}`);
      return undefined;
    }
    try {
      // The runner creates the file for every step; a missing one is a runner problem, not ours to create.
      if (!existsSync(file))
        throw Object.assign(new Error(`Missing file at path: ${file}`), { code: 'ENOENT' });
      appendFileSync(
        file,
        Object.entries(written)
          .map(([name, value]) => outputBlock(name, value))
          .join(''),
        'utf8',
      );
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(describeError(error));
    }
  }

  /**
   * Appends Markdown to the job summary, redacted. Never throws: outside a runner there is no
   * summary (a debug line); a summary file that the runner named but that cannot be written
   * (checked before the job) is worth a warning, since the preview itself is not affected.
   */
  summary(markdown: string): void {
    const file = this.files.summary;
    if (file === undefined) {
      this.guard.debug('No GITHUB_STEP_SUMMARY; no job summary written.');
      return;
    }
    try {
      appendFileSync(file, `${this.guard.redact(markdown)}${EOL}`, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.guard.warning(
        `The job summary could not be written to GITHUB_STEP_SUMMARY="${file}" (${code ?? describeError(error)}); the preview itself is not affected.`,
      );
    }
  }
}

/**
 * One output in the environment-file format: a fresh random delimiter per value, so no value can
 * end its block early and smuggle in another output (@actions/core's prepareKeyValueMessage rule).
 */
function outputBlock(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error(`Output ${name} contains the delimiter ${delimiter}; it was not written.`);
  }
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`;
}
