/**
 * The `codesphere-deploy` command: the fourth adapter, for any CI and a terminal. Flags and the
 * CI's environment in (context.ts), the one job runner (shared/ci/job.ts) in between, and out: the
 * log on stderr, on stdout the preview URL or, with `--json`, exactly one JSON object (report.ts),
 * and the documented exit codes (0 done, 1 failed, 2 usage, 3 time budget).
 *
 * Flags are parsed with commander (https://github.com/tj/commander.js): subcommands, per-command
 * help, "did you mean" suggestions and errors that name the flag, none of which node's
 * util.parseArgs offers. `run` takes argv, a plain env object and its collaborators, so tests call
 * it with literals and fakes; index.ts passes the process's.
 */
import { Command, CommanderError, Option } from 'commander';
import { type Clock, describeError, redact, VERSION, workspaceName } from '../../shared/index.js';
import {
  type CiPlatform,
  CiVariableError,
  ConsoleReporter,
  type CoreApi,
  type Env,
  inVariableTerms,
  type JobOutcome,
  runCiJob,
  type TextSink,
} from '../../shared/ci/index.js';
import { readCliContext, type CliJob, type ContextIo, type JobCommand, type JobFlags } from './context.js';
import { flagOfField, inputFlags, unsupportedFlags } from './flags.js';
import { EXIT, exitCodeOf, reportOf } from './report.js';

export type { CoreApi };

export const USER_AGENT = `codesphere-deploy-cli/${VERSION}`;

/** `codesphere-deploy emulator`: started by index.ts (the emulator is not part of the adapter). */
export type EmulatorCommand = (options: { port: number; seed: string | undefined }) => Promise<number>;
/** `codesphere-deploy gateway ...`: shared/gateway/cli.ts's runner. */
export type GatewayCommand = (argv: string[]) => number;

export interface RunDeps extends ContextIo {
  core: CoreApi;
  clock: Clock;
  stdout: TextSink;
  stderr: TextSink;
  emulator: EmulatorCommand;
  gateway: GatewayCommand;
}

const COMMANDS: Record<JobCommand, string> = {
  deploy: "create or update the change's preview workspace",
  teardown: "delete the change's preview workspace (already gone is success)",
  prune: 'delete the previews of closed pull/merge requests (--open) or past --prune-ttl-hours',
  status: "list this repository's previews (read-only) and say whether this change has one",
};

/** The CLI's names for the core's fields, so errors name the flag to fix. */
function fieldsInFlagTerms(): Record<string, string> {
  return {
    ...flagOfField(),
    env: '--env-file',
    apiToken: 'CODESPHERE_API_TOKEN',
    email: 'CODESPHERE_EMAIL',
    password: 'CODESPHERE_PASSWORD',
    apiUrl: '--api-url (or CODESPHERE_API_URL)',
    repository: '--repo-url',
    gitUrl: '--repo-url',
    branch: '--branch',
    commit: '--sha',
    changeNumber: '--pr',
  };
}

/** About 114,000 years: older than any workspace. */
const STATUS_TTL_HOURS = 1e9;

/** The CLI as a CiPlatform: no platform API but prune's `--open` list, outputs on stdout after the run. */
function cliPlatform(core: CoreApi): CiPlatform<CliJob> {
  return {
    core,
    userAgent: USER_AGENT,
    words: { changeRequest: 'pull/merge request', prefix: '#', place: (n) => `#${n}`, note: 'comment' },
    noteStyle: 'html-comment',
    sections: 'headers',
    fields: fieldsInFlagTerms(),
    api: (job) => {
      const open = job.open;
      if (open === undefined || job.action !== 'prune') return undefined;
      // The user's --open list is the truth about which change requests are open.
      return {
        state: (number) => Promise.resolve(open.includes(number) ? 'open' : 'closed'),
        branchExists: () => Promise.resolve(true),
        listOpen: () => Promise.resolve([...open]),
        notes: () => {
          throw new Error('the CLI writes no notes');
        },
      };
    },
    apiMissing: () =>
      new CiVariableError('--open', 'missing; prune needs the open pull/merge request numbers'),
    outputFiles: () => [],
    writeOutputs: (_job, outcome, reporter) => {
      if (outcome.kind === 'deployed') reporter.info(`Preview URL: ${outcome.result.url}`);
      return Promise.resolve();
    },
  };
}

/** Runs one job command; returns its exit code. Prints the report (JSON or the URL) on stdout. */
async function runJob(
  command: JobCommand,
  flags: JobFlags,
  json: boolean,
  env: Env,
  deps: RunDeps,
): Promise<number> {
  const context = readCliContext(command, flags, env, deps);
  let outcome: JobOutcome | undefined;
  const runtime = {
    stdout: deps.stderr,
    stderr: deps.stderr,
    clock: deps.clock,
    ended: (ended: JobOutcome) => (outcome = ended),
  };
  let code: number;
  if (command === 'status' && context.ok) {
    ({ code, outcome } = await runStatus(context.job, deps.core, context, deps));
  } else {
    code = await runCiJob(context, cliPlatform(deps.core), runtime);
  }
  // Errors in the user's terms: `--replicas`, not the core's `replicas`.
  const final: JobOutcome | undefined =
    outcome?.kind === 'failed'
      ? { ...outcome, error: inVariableTerms(outcome.error, fieldsInFlagTerms()) }
      : outcome;
  // The runner says 1 for every failure; the exit code tells usage and budget apart.
  if (code !== 0) code = final?.kind === 'failed' ? exitCodeOf(final.error) : EXIT.failed;
  const secrets = context.secrets;
  if (json) {
    deps.stdout.write(`${redact(JSON.stringify(reportOf(command, final, code)), secrets)}\n`);
  } else if (final?.kind === 'deployed') {
    deps.stdout.write(`${final.result.url}\n`);
  }
  return code;
}

/**
 * status: the repository's previews, read-only, through the core's prune: a dry run with no open
 * list and a TTL no preview reaches (prune needs one of the two), so each is kept and listed.
 */
async function runStatus(
  job: CliJob,
  core: CoreApi,
  context: { secrets: string[]; debug: boolean; color: boolean },
  deps: RunDeps,
): Promise<{ code: number; outcome: JobOutcome }> {
  const reporter = new ConsoleReporter({
    stdout: deps.stderr,
    stderr: deps.stderr,
    sections: 'headers',
    color: context.color,
    debug: context.debug,
  });
  for (const secret of context.secrets) reporter.mask(secret);
  try {
    const result = await core.prune(
      {
        ...job.input,
        changeNumber: undefined,
        openChangeNumbers: undefined,
        pruneTtlHours: STATUS_TTL_HOURS,
        dryRun: true,
      },
      reporter,
      { userAgent: USER_AGENT },
    );
    for (const preview of result.kept) reporter.info(`${preview.name} (id ${preview.workspaceId})`);
    const { identity } = job;
    const ours =
      identity.changeNumber !== undefined || identity.branch
        ? workspaceName({ ...identity, branch: identity.branch || undefined })
        : undefined;
    const has =
      ours === undefined
        ? ''
        : result.kept.some((preview) => preview.name === ours)
          ? `; this change's is ${ours}`
          : `; none for this change (${ours})`;
    reporter.success(`${result.kept.length} preview(s) of ${job.input.repository}${has}`);
    return { code: 0, outcome: { kind: 'pruned', result } };
  } catch (error) {
    const message = reporter.redact(describeError(inVariableTerms(error, fieldsInFlagTerms())));
    reporter.failure(message);
    return { code: 1, outcome: { kind: 'failed', error, message, timedOut: false } };
  }
}

/** The job flags, shared by deploy, teardown, prune and status. */
function addJobOptions(command: Command): Command {
  for (const flag of inputFlags()) {
    command.addOption(
      new Option(
        flag.boolean ? `--${flag.name} [yes|no]` : `--${flag.name} <value>`,
        `the ${flag.field} input (${flag.variable} on GitLab and Bitbucket)`,
      ),
    );
  }
  for (const name of unsupportedFlags()) {
    command.addOption(new Option(`--${name} <value>`, 'not supported by this version').hideHelp());
  }
  return command
    .option('--env-file <path>', 'dotenv file: the workspace environment (NAME=value lines)')
    .option('--pr <number>', 'the pull/merge request (default: from the CI environment)')
    .option('--branch <name>', 'the branch (alone: a branch preview)')
    .option('--repo-url <url>', 'the clone URL (default: from the CI environment)')
    .option('--sha <commit>', 'the commit (default: from the CI environment)')
    .option('--open <numbers>', 'prune: the open pull/merge requests, comma-separated, or none')
    .option('--json', 'print one JSON object on stdout')
    .option('--debug', 'debug lines in the log');
}

type Values = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** commander's values -> JobFlags; a planned flag this version lacks is a usage error naming it. */
function jobFlags(command: Command, values: Values): JobFlags {
  for (const name of unsupportedFlags()) {
    const option = command.options.find((o) => o.long === `--${name}`);
    if (option && values[option.attributeName()] !== undefined)
      throw new CiVariableError(
        `--${name}`,
        `is not supported by this version of codesphere-deploy (${VERSION})`,
      );
  }
  const inputs = new Map<string, string | boolean>();
  for (const flag of inputFlags()) {
    const option = command.options.find((o) => o.long === `--${flag.name}`);
    const value = option ? values[option.attributeName()] : undefined;
    if (typeof value === 'string' || typeof value === 'boolean') inputs.set(flag.name, value);
  }
  return {
    inputs,
    envFile: text(values['envFile']),
    pr: text(values['pr']),
    branch: text(values['branch']),
    repoUrl: text(values['repoUrl']),
    sha: text(values['sha']),
    open: text(values['open']),
    debug: values['debug'] === true,
  };
}

/** Writes a usage error (and the JSON object when asked for one); returns exit code 2. */
function usageError(message: string, command: string, json: boolean, deps: RunDeps): number {
  deps.stderr.write(`✖ ${message}\n`);
  if (json) {
    const report = {
      command,
      exitCode: EXIT.usage,
      result: 'usage-error',
      error: { name: 'UsageError', message },
    };
    deps.stdout.write(`${JSON.stringify(report)}\n`);
  }
  return EXIT.usage;
}

/**
 * Runs the CLI on `argv` (without node and the script); resolves to the exit code. Never throws
 * for a usage error: commander's and ours both exit 2 with the flag named.
 */
export async function run(argv: readonly string[], env: Env, deps: RunDeps): Promise<number> {
  let code: number = EXIT.done;
  const json = argv.includes('--json');
  const program = new Command('codesphere-deploy')
    .description('Preview deployments of pull/merge requests on Codesphere, from any CI')
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => deps.stdout.write(s),
      writeErr: (s) => deps.stderr.write(s),
    });
  for (const [name, description] of Object.entries(COMMANDS)) {
    const command = addJobOptions(program.command(name).description(description));
    command.action(async (values: Values, self: Command) => {
      const jobCommand = name as JobCommand;
      let flags: JobFlags;
      try {
        flags = jobFlags(self, values);
      } catch (error) {
        code = usageError(describeError(error), name, json, deps);
        return;
      }
      // Every job command touches a team's workspaces: no default team, no guess.
      if (flags.inputs.get('team') === undefined) {
        code = usageError(
          `--team is required by ${name} (the Codesphere team whose workspaces it touches)`,
          name,
          json,
          deps,
        );
        return;
      }
      code = await runJob(jobCommand, flags, json, env, deps);
    });
  }
  program
    .command('emulator')
    .description('start the local Codesphere API emulator (demo seed and token by default)')
    .option('--port <n>', 'port to listen on (0: any free port)', '3170')
    .option('--seed <file>', 'a YAML seed (default: the demo seed)')
    .action(async (values: Values) => {
      const portText = text(values['port']) ?? '3170';
      const port = Number(portText);
      if (!/^\d+$/.test(portText) || port > 65_535) {
        code = usageError(
          `--port: got "${portText}"; expected a port number from 0 to 65535`,
          'emulator',
          false,
          deps,
        );
        return;
      }
      code = await deps.emulator({ port, seed: text(values['seed']) });
    });
  program
    .command('gateway')
    .description('print or check the strongSwan configuration of the company gateway (gateway --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action((args: string[]) => {
      code = deps.gateway(args);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.done;
      // commander has written its message (naming the flag) to stderr already.
      if (json)
        deps.stdout.write(
          `${JSON.stringify({ command: argv[0] ?? '', exitCode: EXIT.usage, result: 'usage-error', error: { name: 'UsageError', message: error.message } })}\n`,
        );
      return EXIT.usage;
    }
    throw error;
  }
  return code;
}
