/**
 * The app a workspace's run stage serves, as far as a health check sees it: `curl` to localhost
 * from inside a replica (POST /execute). The seed's `pipeline.apps` declares, per branch, when
 * the app starts answering after `run` starts (`readyAfterMs`), the status it answers, or that it
 * never listens (`never`). Without an entry the app answers 200 on port 3000 as soon as `run` runs.
 */
import type { Workspace, World } from './state.js';

export interface AppAnswer {
  /** The HTTP status, or undefined when nothing listens (connection refused). */
  status: number | undefined;
}

export const APP_PORT = 3000;

export function appAnswer(world: World, workspace: Workspace, port: number): AppAnswer {
  const branch = workspace.git?.branch;
  const apps = world.seed.pipeline.apps;
  const app = apps.find((a) => a.branch !== undefined && a.branch === branch) ??
    apps.find((a) => a.branch === undefined) ?? { readyAfterMs: 0, status: 200, never: false };
  const run = workspace.pipeline.run;
  if (port !== APP_PORT || app.never || !run || world.stageState('run', run) !== 'running')
    return { status: undefined };
  const listeningFrom = run.startedAt + world.timing.stageQueueMs + app.readyAfterMs;
  return world.now() >= listeningFrom ? { status: app.status } : { status: undefined };
}

/**
 * `curl [-s] [-S] [-o file] [-w fmt] [--max-time N] URL` against localhost: prints what -w asks
 * (`%{http_code}`), or curl's connection error with exit status 7, as curl does.
 */
export function curl(world: World, workspace: Workspace, args: string[]): { output: string; status: number } {
  let format = '';
  let url: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '-w' || arg === '--write-out') format = args[++i] ?? '';
    else if (arg === '-o' || arg === '--output' || arg === '--max-time' || arg === '-m') i++;
    else if (!arg.startsWith('-')) url = arg;
  }
  const parsed = url ? URL.parse(url) : null;
  if (!parsed || parsed.protocol !== 'http:')
    return { output: `curl: (3) URL rejected: Malformed input to a URL function\n`, status: 3 };
  const port = Number(parsed.port || 80);
  if (parsed.hostname !== 'localhost' && parsed.hostname !== '127.0.0.1')
    return { output: `curl: (6) Could not resolve host: ${parsed.hostname}\n`, status: 6 };
  const answer = appAnswer(world, workspace, port);
  if (answer.status === undefined) {
    return {
      output: `${format.replaceAll('%{http_code}', '000')}curl: (7) Failed to connect to ${parsed.hostname} port ${port} after 0 ms: Couldn't connect to server\n`,
      status: 7,
    };
  }
  return { output: format.replaceAll('%{http_code}', String(answer.status)), status: 0 };
}
