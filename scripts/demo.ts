/**
 * `npm run demo`: the GitHub Action's whole preview lifecycle in about ten seconds, with nothing
 * to configure. It starts the emulator (real strongSwan tunnels when run as root with strongSwan,
 * else simulated) and a GitHub API double, then runs the BUILT action as the runner would for four
 * events of pull request #7: opened (a workspace on VPN config "office", two replicas, a tunnel
 * each), synchronize (same workspace, tunnels untouched), synchronize with `vpnConfig: lab` (the
 * VPN config switched, tunnels restart), closed (workspace deleted, deployment inactive).
 * Then (also `npm run demo:landscape` alone) a landscape (web + api + managed Postgres, profile preview), its
 * services grid and one tunnel per service replica.
 * `npm run demo:failing`: pull request #8, whose prepare fails in `npm ci` (seeded), showing the
 * streamed log, the error's log tail and the PR comment. Exits non-zero when a step misbehaves.
 */
import { startEmulator } from '../emulator/index.js';
import { startGitHubDouble, type GitHubDouble } from '../test/doubles/github-double.js';
import { actionEntry, DEMO_TOKEN, runAction, type ActionRun } from '../test/github-action/harness.js';
import { CLONE_URL, pullRequestPayload, type PullRequestOptions } from '../test/github-action/payloads.js';

const PR = 7;
const WORKSPACE = `shop-#${PR}`;

interface TunnelView {
  replica: number;
  vpnConfig: string;
  tunnel: { state: string; virtualIp?: string; reason?: string; detail?: string };
}
interface WorkspaceView {
  id: number;
  name: string;
  devDomain?: string;
  vpnConfig?: string | null;
  replicas: number;
  git?: { branch: string; commit: string } | null;
  tunnels: TunnelView[];
}
interface StateView {
  driver: string;
  workspaces: WorkspaceView[];
}

const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);

async function inspect(emulatorUrl: string): Promise<StateView> {
  const response = await fetch(`${emulatorUrl}/_emulator/state`);
  if (!response.ok) throw new Error(`GET /_emulator/state answered ${response.status}`);
  return (await response.json()) as StateView;
}

function describeTunnel(t: TunnelView): string {
  const { tunnel } = t;
  if (tunnel.state === 'up') return `up (virtual IP ${tunnel.virtualIp ?? '?'})`;
  if (tunnel.state === 'down') return `down: ${tunnel.reason ?? ''} ${tunnel.detail ?? ''}`.trim();
  return tunnel.state;
}

async function main(): Promise<void> {
  const notices: string[] = [];
  const emulator = await startEmulator({
    driver: 'auto',
    timing: {
      provisioningMs: 300,
      stageQueueMs: 50,
      stageMs: 300,
      tunnelConnectMs: 200,
      tunnelRestartMs: 150,
    },
    notice: (message) => notices.push(message),
  });
  const github = await startGitHubDouble();
  let failures = 0;
  try {
    const driver = (await inspect(emulator.url)).driver;
    console.log(bold('codesphere-deploy demo: the GitHub Action, one pull request from opened to closed'));
    console.log(`Codesphere emulator: ${emulator.url} (tunnel driver: ${driver})`);
    for (const notice of notices) console.log(`  ${notice}`);
    console.log(`GitHub API double:   ${github.url}`);
    console.log(`Action:              node ${actionEntry}`);

    const step = async (
      title: string,
      pr: PullRequestOptions,
      inputs: Record<string, string>,
      expect: (run: ActionRun, state: StateView) => string | undefined,
    ) => {
      console.log(`\n${bold(title)}`);
      const started = Date.now();
      const run = await runAction({
        eventName: 'pull_request',
        payload: pullRequestPayload(pr),
        githubApiUrl: github.url,
        inputs: {
          apiUrl: emulator.url,
          apiToken: DEMO_TOKEN,
          team: 'My Team',
          replicas: '2',
          ...inputs,
        },
      });
      const state = await inspect(emulator.url);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `  action exit code ${run.code} after ${seconds} s; result: ${run.outputs['result'] ?? '(none)'}`,
      );
      printPrepareLog(run);
      printWorkspace(state, run);
      printGitHub(github);
      const problem =
        run.code !== 0 ? `the action failed:\n${run.stdout}\n${run.stderr}` : expect(run, state);
      if (problem !== undefined) {
        failures += 1;
        console.log(`  FAILED: ${problem}`);
      } else {
        console.log('  ok');
      }
    };

    if (process.argv.includes('--failing')) {
      await failingVariant(emulator, github);
      return;
    }
    if (process.argv.includes('--landscape')) {
      await landscapeVariant(emulator, github);
      return;
    }
    await step(
      `1. pull_request opened (#${PR}, vpnConfig: office, vpnCheck: 10.250.0.5, healthCheck: /healthz)`,
      { action: 'opened', number: PR, sha: emulator.world.push(CLONE_URL, `feature-${PR}`) },
      { vpnConfig: 'office', vpnCheck: '10.250.0.5', healthCheck: '/healthz' },
      (run, state) => {
        if (run.outputs['health-check'] !== 'ok') return 'expected health-check ok';
        const w = state.workspaces.find((x) => x.name === WORKSPACE);
        if (w === undefined) return `no workspace ${WORKSPACE}`;
        if (run.outputs['result'] !== 'created') return 'expected result created';
        if (!w.tunnels.every((t) => t.tunnel.state === 'up')) return 'expected every tunnel up';
        return run.outputs['vpn-check'] === 'ok' ? undefined : 'expected vpn-check ok';
      },
    );

    const firstId = (await inspect(emulator.url)).workspaces.find((x) => x.name === WORKSPACE)?.id;
    const pushed = emulator.world.push(CLONE_URL, `feature-${PR}`);
    const requestsBefore = emulator.requestLog().length;
    await step(
      `2. pull_request synchronize (a push: commit ${pushed.slice(0, 7)})`,
      { action: 'synchronize', number: PR, sha: pushed },
      { vpnConfig: 'office', vpnCheck: '10.250.0.5' },
      (run, state) => {
        const w = state.workspaces.find((x) => x.name === WORKSPACE);
        if (w === undefined || w.id !== firstId) return 'expected the same workspace';
        if (w.git?.commit !== pushed) return `expected the workspace at ${pushed.slice(0, 7)}`;
        const patched = emulator
          .requestLog()
          .slice(requestsBefore)
          .some((e) => e.method === 'PATCH');
        if (patched) return 'the VPN config did not change, yet the workspace was patched';
        console.log('  git pull done, no PATCH sent: the tunnels kept running');
        return run.outputs['result'] === 'updated' ? undefined : 'expected result updated';
      },
    );

    await step(
      '3. pull_request synchronize with the workflow changed to vpnConfig: lab (vpnCheck: 10.251.0.5)',
      { action: 'synchronize', number: PR, sha: pushed },
      { vpnConfig: 'lab', vpnCheck: '10.251.0.5' },
      (run, state) => {
        const w = state.workspaces.find((x) => x.name === WORKSPACE);
        if (w === undefined || w.id !== firstId) return 'expected the same workspace';
        if (w.vpnConfig !== 'lab' || run.outputs['vpn-config'] !== 'lab') return 'expected VPN config lab';
        if (!w.tunnels.every((t) => t.vpnConfig === 'lab' && t.tunnel.state === 'up')) {
          return 'expected every tunnel up on lab';
        }
        return run.outputs['vpn-check'] === 'ok' ? undefined : 'expected vpn-check ok';
      },
    );

    await step(
      `4. pull_request closed (#${PR} merged)`,
      { action: 'closed', number: PR, merged: true },
      { vpnConfig: 'lab' },
      (run, state) => {
        if (state.workspaces.some((x) => x.name === WORKSPACE)) return 'the workspace still exists';
        const last = github.deployments.map((d) => d.statuses.at(-1)?.state);
        if (!last.every((s) => s === 'inactive')) return `deployments not all inactive: ${last.join(', ')}`;
        return run.outputs['result'] === 'deleted' ? undefined : 'expected result deleted';
      },
    );
  } finally {
    await github.close();
    await emulator.close();
  }
  console.log(
    failures === 0
      ? `\n${bold('Demo passed: 4 of 4 steps did what they should.')}`
      : `\nDemo FAILED: ${failures} step(s).`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

/** The job log's streamed prepare output: the step groups and their lines, as the runner shows them. */
function printPrepareLog(run: ActionRun): void {
  const lines = run.stdout
    .split('\n')
    .filter(
      (l) => /^::group::prepare: /.test(l) || l.startsWith('│ ') || l.includes('left out of the job log'),
    );
  if (lines.length === 0) return;
  console.log('  prepare log (streamed into the job log, one group per step):');
  for (const line of lines) console.log(`    ${line.replace(/^::group::/, '▸ ')}`);
}

/**
 * `npm run demo:failing`: a pull request whose prepare fails. The action must fail, its log must
 * show the failing step's output and the error's tail, and the PR comment the last 15 lines.
 */
async function failingVariant(
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  github: GitHubDouble,
): Promise<void> {
  const number = 8;
  console.log(
    `\n${bold(`1. pull_request opened (#${number}, branch broken-deps: npm ci fails in prepare)`)}`,
  );
  const run = await runAction({
    eventName: 'pull_request',
    payload: pullRequestPayload({
      action: 'opened',
      number,
      branch: 'broken-deps',
      sha: emulator.world.push(CLONE_URL, 'broken-deps'),
    }),
    githubApiUrl: github.url,
    inputs: {
      apiUrl: emulator.url,
      apiToken: DEMO_TOKEN,
      team: 'My Team',
      vpnConfig: 'office',
      env: 'NPM_TOKEN=npm_demo_0123456789abcdef',
    },
  });
  console.log(`  action exit code ${run.code}`);
  printPrepareLog(run);
  const error = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
  console.log('  the error (::error:: line, newlines as the runner encodes them, shown decoded):');
  // core.setFailed escapes line breaks in workflow commands (%0A); decode them for reading.
  const decoded = error
    .replace(/^::error::/, '')
    .replace(/%0D/g, '')
    .replace(/%0A/g, '\n')
    .replace(/%25/g, '%');
  for (const line of decoded.split('\n').slice(0, 8)) console.log(`    ${line}`);
  console.log('    …');
  const comment = github.comments[0]?.body ?? '';
  const tail = comment.slice(comment.indexOf('**Last'));
  console.log('  PR comment, its log excerpt:');
  for (const line of tail.split('\n')) console.log(`    ${line}`);
  const problems: string[] = [];
  if (run.code !== 1) problems.push('expected the action to fail');
  if (!run.stdout.includes('│ npm ERR! Could not resolve dependency:'))
    problems.push('no streamed prepare log');
  if (!/Last 15 of 22 line\(s\) of prepare step 1/.test(comment)) problems.push('no log tail in the comment');
  // `::add-mask::` is how the action registers the secret with the runner: the one line allowed to hold it.
  const shown = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  if (shown.includes('npm_demo_0123456789abcdef') || comment.includes('npm_demo_0123456789abcdef'))
    problems.push('the echoed NPM_TOKEN was not masked');
  console.log(
    problems.length === 0
      ? `\n${bold('Demo (failing branch) passed: the failure is explained by its own log.')}`
      : `\nDemo FAILED: ${problems.join('; ')}`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}

/**
 * `npm run demo:landscape`: pull request #9 from branch `landscape` (web + api + a managed
 * Postgres, seeded in emulator/seeds/default.yaml) with profile `preview`, the test stage, web
 * scaled to 2 and a health path per service, on VPN config office. It prints the services grid
 * of the PR comment, the `services` output and each service replica's tunnel, then closes the PR.
 */
async function landscapeVariant(
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  github: GitHubDouble,
): Promise<void> {
  const number = 9;
  const inputs = {
    apiUrl: emulator.url,
    apiToken: DEMO_TOKEN,
    team: 'My Team',
    plan: 'Pro',
    vpnConfig: 'office',
    profile: 'preview',
    stages: 'prepare,test,run',
    replicas: 'web=2,api=1',
    healthPath: 'web=/healthz,api=/ready',
    vpnCheck: '10.250.0.5',
  };
  console.log(
    `\n${bold(`1. pull_request opened (#${number}, branch landscape, profile preview, replicas web=2,api=1)`)}`,
  );
  const sha = emulator.world.push(CLONE_URL, 'landscape');
  const run = await runAction({
    eventName: 'pull_request',
    payload: pullRequestPayload({ action: 'opened', number, branch: 'landscape', sha }),
    githubApiUrl: github.url,
    inputs,
  });
  console.log(`  action exit code ${run.code}; result: ${run.outputs['result'] ?? '(none)'}`);
  const comment = github.comments[0]?.body ?? '';
  const grid = comment.slice(comment.indexOf('**Services**'));
  console.log('  PR comment, its services grid:');
  for (const line of grid.split('\n')) if (line.trim()) console.log(`    ${line}`);
  console.log(`  services output: ${run.outputs['services'] ?? '(none)'}`);
  const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as {
    workspaces: Array<{
      landscape: { services: Array<{ name: string; replicas: number; managed?: object }> } | null;
      tunnels: TunnelView[];
    }>;
    managedServices: Array<{ name: string; provider: string }>;
  };
  const workspace = state.workspaces[0];
  let index = 0;
  for (const service of workspace?.landscape?.services ?? []) {
    if (service.managed) {
      console.log(
        `  ${service.name}: managed service (${state.managedServices.find((m) => m.name === service.name)?.provider ?? '?'})`,
      );
      continue;
    }
    for (let replica = 0; replica < service.replicas; replica++) {
      const tunnel = workspace?.tunnels[index++];
      console.log(
        `  tunnel:     ${service.name} replica ${replica}: ${tunnel ? describeTunnel(tunnel) : 'none'}`,
      );
    }
  }
  console.log(`\n${bold(`2. pull_request closed (#${number})`)}`);
  const closed = await runAction({
    eventName: 'pull_request',
    payload: pullRequestPayload({ action: 'closed', number, branch: 'landscape', merged: true }),
    githubApiUrl: github.url,
    inputs,
  });
  const after = await inspect(emulator.url);
  console.log(
    `  action exit code ${closed.code}; result: ${closed.outputs['result'] ?? '(none)'}; workspaces left: ${after.workspaces.length}`,
  );
  const problems: string[] = [];
  if (run.code !== 0) problems.push(`the deploy failed:\n${run.stdout}\n${run.stderr}`);
  if (!/\| web \| 2 \| running \|/.test(comment)) problems.push('no web row with 2 replicas in the comment');
  if (!comment.includes('db (managed)')) problems.push('no managed Postgres row in the comment');
  if ((workspace?.tunnels.length ?? 0) !== 3) problems.push('expected 3 tunnels (web ×2, api ×1)');
  if (closed.code !== 0 || after.workspaces.length !== 0) problems.push('the close left a workspace');
  console.log(
    problems.length === 0
      ? `\n${bold('Demo (landscape) passed: two services and a managed Postgres, every replica on the VPN.')}`
      : `\nDemo FAILED: ${problems.join('; ')}`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}

function printWorkspace(state: StateView, run: ActionRun): void {
  const w = state.workspaces.find((x) => x.name === WORKSPACE);
  if (w === undefined) {
    console.log(`  workspace:  ${WORKSPACE} does not exist (any more)`);
    return;
  }
  console.log(
    `  workspace:  ${w.name} (id ${w.id}), ${w.replicas} replica(s), at ${w.git?.commit.slice(0, 7) ?? '?'}`,
  );
  console.log(`  URL:        ${run.outputs['deployment-url'] ?? `https://${w.devDomain ?? '?'}`}`);
  console.log(`  VPN config: ${w.vpnConfig ?? '(none)'}`);
  for (const t of w.tunnels)
    console.log(`  tunnel:     replica ${t.replica} via ${t.vpnConfig}: ${describeTunnel(t)}`);
  const check = run.outputs['vpn-check'];
  console.log(`  vpnCheck:   ${check === undefined ? 'not asked for' : check}`);
  for (const line of run.stdout.split('\n').filter((l) => /^Replica \d+: .*reachable/.test(l))) {
    console.log(`              ${line}`);
  }
}

function printGitHub(github: GitHubDouble): void {
  const latest = github.deployments.at(-1);
  const states = github.deployments.map((d) => `#${d.id} ${d.statuses.at(-1)?.state ?? 'created'}`);
  console.log(
    `  GitHub:     environment "${latest?.environment ?? '-'}", deployments ${states.join(', ') || '-'}`,
  );
  const comment = github.comments[0];
  // The shared note's headline line (shared/ci/note.ts renderNote): "**Codesphere preview** · …".
  const heading = comment?.body.split('\n').find((l) => l.startsWith('**Codesphere preview**'));
  console.log(
    `              ${github.comments.length} PR comment(s)${heading ? `: "${heading.replace(/^\*\*Codesphere preview\*\* · /, '')}"` : ''}`,
  );
}

try {
  await main();
} catch (error: unknown) {
  console.error('Demo failed:', error);
  process.exitCode = 1;
}
