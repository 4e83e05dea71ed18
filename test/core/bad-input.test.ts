/** Bad input against the emulator: a clear ConfigError naming what exists, and nothing created. */
import { describe, expect, it } from 'vitest';

import { ConfigError, deploy, teardown, prune } from '../../shared/index.js';
import {
  apiCalls,
  baseInput,
  DEMO_EMAIL,
  RecordingReporter,
  useEmulator,
  virtualTimeDeps,
} from './helpers.js';

const ctx = useEmulator();

async function failure(run: () => Promise<unknown>): Promise<ConfigError> {
  const err = await run().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

function createdNothing() {
  const { em } = ctx;
  expect([...em.world.workspaces.values()].filter((w) => w.name.startsWith('shop'))).toEqual([]);
}

describe('bad input', () => {
  it('unknown team: lists the teams these credentials can see', async () => {
    const err = await failure(() =>
      deploy(baseInput(ctx.em, { team: 'My Teem' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.message).toBe(
      'Invalid input "team": Unknown team "My Teem". Teams these credentials can see: My Team (id 101), Platform Team (id 102)',
    );
    createdNothing();
  });

  it("another user's team is invisible, by name and by id", async () => {
    const err = await failure(() =>
      deploy(baseInput(ctx.em, { team: 'Other Team' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.message).toContain('Unknown team "Other Team"');
    const byId = await failure(() =>
      teardown(baseInput(ctx.em, { team: '999' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(byId.message).toContain('no team with id 999 is visible');
  });

  it('a team or plan "id" beyond the safe integers is looked up as given, never as a rounded id', async () => {
    const err = await failure(() =>
      deploy(baseInput(ctx.em, { team: '99999999999999999999' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.message).toContain('"99999999999999999999"');
    expect(err.message).not.toMatch(/1e\+20|100000000000000000000/);
    createdNothing();
  });

  it('unknown plan, wrong onDemand and too many replicas: says what is available', async () => {
    const unknown = await failure(() =>
      deploy(baseInput(ctx.em, { plan: 'Bost' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(unknown.message).toBe(
      'Invalid input "plan": Unknown plan "Bost". Available always-on plans: Micro, Boost, Pro',
    );
    const onDemand = await failure(() =>
      deploy(
        baseInput(ctx.em, { plan: 'Micro', onDemand: 'true' }),
        new RecordingReporter(),
        virtualTimeDeps(),
      ),
    );
    expect(onDemand.message).toContain('Micro exists as an always-on plan: set onDemand to false');
    expect(onDemand.message).toContain('Available on-demand plans: Boost, Pro');
    const legacy = await failure(() =>
      deploy(baseInput(ctx.em, { plan: '5' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(legacy.message).toContain('plan 5 (Legacy) is deprecated');
    const replicas = await failure(() =>
      deploy(baseInput(ctx.em, { plan: 'Micro', replicas: '2' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(replicas.message).toBe('Invalid input "replicas": got 2; plan Micro allows at most 1');
    createdNothing();
  });

  it('unknown team and plan together are reported together', async () => {
    const err = await failure(() =>
      deploy(baseInput(ctx.em, { team: 'Nope', plan: 'Nope' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.issues.map((i) => i.field)).toEqual(['team', 'plan']);
  });

  it('unknown VPN config: the create is refused, the message names the team, nothing is left', async () => {
    const err = await failure(() =>
      deploy(baseInput(ctx.em, { vpnConfig: 'ofice' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.message).toBe(
      'Invalid input "vpnConfig": VPN config "ofice" does not exist in team "My Team": create it in the team\'s VPN settings or fix the name.',
    );
    createdNothing();
  });

  it('unknown VPN config on an update: the PATCH is refused and the workspace keeps its config', async () => {
    const { em } = ctx;
    await deploy(baseInput(em, { vpnConfig: 'office' }), new RecordingReporter(), virtualTimeDeps());
    const err = await failure(() =>
      deploy(baseInput(em, { vpnConfig: 'nope' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.message).toContain('VPN config "nope" does not exist in team "My Team"');
    expect([...em.world.workspaces.values()].find((w) => w.name === 'shop-#42')?.vpnConfig).toBe('office');
  });

  it.each([
    ['malformed env line', { env: 'OK=1\nnot an assignment' }, 'env', 'line 2 is not NAME=value'],
    ['bad URL', { apiUrl: 'codesphere dot com' }, 'apiUrl', 'expected an https URL'],
    [
      'http on a non-loopback host',
      { apiUrl: 'http://codesphere.example.com' },
      'apiUrl',
      'plain http is refused',
    ],
    ['missing credentials', { apiToken: undefined }, 'apiToken', 'missing credentials'],
  ])('%s: refused before any request', async (_name, overrides, field, text) => {
    const { em } = ctx;
    const err = await failure(() =>
      deploy(baseInput(em, overrides), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.issues.map((i) => i.field)).toEqual([field]);
    expect(err.message).toContain(text);
    expect(apiCalls(em)).toEqual([]);
  });

  it('wrong password: the sign-in refusal is a clear input error', async () => {
    const { em } = ctx;
    const err = await failure(() =>
      deploy(
        baseInput(em, { apiToken: undefined, email: DEMO_EMAIL, password: 'wrong-password-1' }),
        new RecordingReporter(),
        virtualTimeDeps(),
      ),
    );
    expect(err.message).toContain(`Codesphere refused the sign-in of "${DEMO_EMAIL}"`);
    expect(err.message).toContain('check email and password');
    expect(err.message).not.toContain('wrong-password-1');
    expect(apiCalls(em).every((c) => c.path.startsWith('/auth-service/'))).toBe(true);
  });

  it('an invalid token is an ApiError that says to check the token, without the token', async () => {
    const { em } = ctx;
    const err = await deploy(
      baseInput(em, { apiToken: 'csdemo-token-invalid-99' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toContain('HTTP 401');
    expect((err as Error).message).toContain('Check the API token');
    expect((err as Error).message).not.toContain('csdemo-token-invalid-99');
  });

  it('prune without open numbers or TTL says what it needs', async () => {
    const err = await failure(() => prune(baseInput(ctx.em), new RecordingReporter(), virtualTimeDeps()));
    expect(err.issues.map((i) => i.field)).toEqual(['openChangeNumbers']);
  });
});
