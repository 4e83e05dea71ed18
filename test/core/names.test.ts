/**
 * Names users type (team, plan, VPN config, branch) against the emulator: compared in Unicode
 * NFC, a "did you mean" when only case or spaces differ, and control characters refused as input
 * errors before any call.
 */
import { describe, expect, it } from 'vitest';

import { ConfigError, deploy, teardown } from '../../shared/index.js';
import { apiCalls, baseInput, RecordingReporter, useEmulator, virtualTimeDeps } from './helpers.js';

const ctx = useEmulator();

const NFC = 'Équipe Öst';
const NFD = NFC.normalize('NFD');

function renameTeam(id: number, name: string): void {
  const team = ctx.em.world.teams.get(id);
  if (!team) throw new Error(`no team ${id} in the seed`);
  team.name = name;
}

async function configError(run: () => Promise<unknown>): Promise<ConfigError> {
  const err = await run().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('names are compared in NFC', () => {
  it('a team typed decomposed (NFD) finds the team stored precomposed (NFC)', async () => {
    expect(NFD).not.toBe(NFC);
    renameTeam(102, NFC);
    const result = await teardown(
      baseInput(ctx.em, { team: NFD }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result.deleted).toBe(false); // resolved, nothing to delete
  });

  it('a team stored decomposed is found when typed precomposed', async () => {
    renameTeam(102, NFD);
    const result = await teardown(
      baseInput(ctx.em, { team: NFC }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result.deleted).toBe(false);
  });

  it('only case or spaces differ: "did you mean", and nothing is taken silently', async () => {
    renameTeam(102, NFC);
    const err = await configError(() =>
      teardown(
        baseInput(ctx.em, { team: '  équipe   öst'.normalize('NFD') }),
        new RecordingReporter(),
        virtualTimeDeps(),
      ),
    );
    expect(err.issues[0]?.field).toBe('team');
    expect(err.message).toContain(`Did you mean "${NFC}"?`);
  });

  it('a plan differing only in case gets a "did you mean"', async () => {
    const err = await configError(() =>
      deploy(baseInput(ctx.em, { plan: 'boost' }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.message).toContain('Unknown plan "boost". Did you mean "Boost"?');
  });
});

describe('control characters in names are input errors, before any call', () => {
  it.each([
    ['vpnConfig', 'office\n::warning::INJECTED', 'U+000A'],
    ['vpnConfig', 'office\r::error::x', 'U+000D'],
    ['team', 'My\u0000Team', 'U+0000'],
    ['plan', 'Boost\u202e', 'U+202E'],
    ['branch', 'feature\u001b[31mred', 'U+001B'],
    ['baseImage', 'ubuntu\u2028x', 'U+2028'],
    ['vpnConfig', 'office\u200b', 'U+200B'],
    ['plan', 'Bo\u2060ost', 'U+2060'],
    ['team', 'My Team\u200f', 'U+200F'],
  ] as const)('%s %j', async (field, value, code) => {
    const err = await configError(() =>
      deploy(baseInput(ctx.em, { [field]: value }), new RecordingReporter(), virtualTimeDeps()),
    );
    expect(err.issues.map((i) => i.field)).toEqual([field]);
    expect(err.message).toContain(code);
    // eslint-disable-next-line no-control-regex
    expect(err.message).not.toMatch(/[\n\r\u0000\u001b\u2028\u202e]/);
    expect(apiCalls(ctx.em)).toEqual([]);
    expect(ctx.em.world.workspaces.size).toBe(0);
  });
});
