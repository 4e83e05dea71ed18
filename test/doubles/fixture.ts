/**
 * What the adapter suites share: the emulator with fast timing and `waitFor` (all three adapters);
 * for GitLab and Bitbucket also a fresh job directory per run, the user's variables, a run of the
 * built entry checked for leaked secrets, helpers that read the emulator's state and request log,
 * direct workspace creation (for prune fixtures), and the checks after each test.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';
import type { RecordedCall } from './http-double.js';
import { DEMO_TOKEN, runEntry, type EntryRun } from './run-entry.js';

/** Fast enough for tests, slow enough that an adapter must really wait for each phase. */
export const FAST_TIMING = {
  provisioningMs: 60,
  stageQueueMs: 10,
  stageMs: 40,
  tunnelConnectMs: 30,
  tunnelRestartMs: 20,
  latencyMs: 0,
};

export async function startFixtureEmulator(): Promise<RunningEmulator> {
  return startEmulator({ timing: FAST_TIMING, notice: () => {} });
}

/** The variables a GitLab job or Bitbucket pipe step sets, as the README examples set them. */
export function userVariables(
  emulator: RunningEmulator,
  accessToken: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    API_URL: emulator.url,
    API_TOKEN: DEMO_TOKEN,
    ACCESS_TOKEN: accessToken,
    TEAM: 'My Team',
    PLAN: 'Micro',
    VPN_CONFIG: 'office',
    ...extra,
  };
}

/** A platform API double as the suites see it. */
export interface PlatformDouble {
  calls: RecordedCall[];
  unhandled: unknown[];
}

/** Runs a built entry in the job directory and asserts that no secret reached anything it left behind. */
export async function runCheckedEntry(
  entry: string,
  env: Record<string, string>,
  place: { dir: string; double: PlatformDouble; secrets: string[] },
): Promise<EntryRun> {
  const run = await runEntry(entry, env, place.dir);
  assertNoSecrets({ run, files: filesUnder(place.dir), calls: place.double.calls }, place.secrets);
  return run;
}

/** After each test: the double saw only calls it models, and every Codesphere call kept the contract. */
export function expectCleanCalls(emulator: RunningEmulator, double: PlatformDouble, platform: string): void {
  expect(double.unhandled, `${platform} calls the double does not model`).toEqual([]);
  expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
}

export function jobDirectory(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const workspaces = (emulator: RunningEmulator) => emulator.state().workspaces;
export const workspaceNamed = (emulator: RunningEmulator, name: string) =>
  workspaces(emulator).find((w) => w.name === name);
export const apiRequests = (emulator: RunningEmulator) =>
  emulator.requestLog().filter((entry) => entry.path.startsWith('/api/'));

/** Creates a workspace straight through the Public API, as another run or a person would have. */
export async function createWorkspace(
  emulator: RunningEmulator,
  name: string,
  token: string = DEMO_TOKEN,
): Promise<number> {
  const response = await fetch(`${emulator.url}/api/workspaces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ teamId: 101, name, planId: 8, isPrivateRepo: true, replicas: 1 }),
  });
  const body = (await response.json()) as { id?: number };
  if (!response.ok || typeof body.id !== 'number') {
    throw new Error(`creating ${name} failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return body.id;
}

/** Every file under a directory, as text: dotenv reports, output-variable files, anything written. */
export function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current)) {
      const full = path.join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(dir, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/**
 * No secret in what a user or a later job sees: the log, every file the job wrote, and every body
 * sent to the platform's API (an MR note is public to everyone who can see the MR).
 */
export function assertNoSecrets(
  places: { run: EntryRun; files?: Record<string, string>; calls?: RecordedCall[] },
  secrets: string[],
): void {
  const texts: Record<string, string> = {
    stdout: places.run.stdout,
    stderr: places.run.stderr,
    ...Object.fromEntries(Object.entries(places.files ?? {}).map(([name, text]) => [`file ${name}`, text])),
    'platform API bodies': JSON.stringify((places.calls ?? []).map((call) => call.body)),
  };
  for (const [place, text] of Object.entries(texts)) {
    for (const secret of secrets) {
      expect(text.includes(secret), `a secret (${secret.slice(0, 4)}…) leaked into ${place}`).toBe(false);
      expect(text.includes(encodeURIComponent(secret)), `a URL-encoded secret leaked into ${place}`).toBe(
        false,
      );
    }
  }
}

export async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Makes every workspace that exists now look created `ms` ago (Codesphere's `createdAt`), so prune
 * treats it as older than its recent-workspace margin (shared/workflow/prune.ts).
 */
export function backdateWorkspaces(emulator: RunningEmulator, ms = 60 * 60_000): void {
  for (const workspace of emulator.world.workspaces.values()) {
    workspace.createdAt = new Date(Date.now() - ms).toISOString();
  }
}
