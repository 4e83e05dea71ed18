/**
 * The job flags come from the core's input table: every planned flag the table has is a flag, and
 * one it lacks (an older core) is listed as unsupported, so the CLI refuses it instead of ignoring it.
 */
import { describe, expect, it } from 'vitest';
import { flagName, inputFlags, PLANNED_FLAGS, unsupportedFlags } from '../../cli/src/flags.js';
import { PASS_THROUGH_VARIABLES } from '../../shared/ci/index.js';

describe('job flags', () => {
  it('this core has every planned flag, each mapped to its input field', () => {
    expect(unsupportedFlags()).toEqual([]);
    const byName = new Map(inputFlags().map((flag) => [flag.name, flag.field]));
    expect(byName.get('profile')).toBe('profile');
    expect(byName.get('private-targets')).toBe('privateTargets');
    expect(byName.get('vpn-pool-size')).toBe('vpnPoolSize');
    expect(byName.has('env')).toBe(false); // ENV is --env-file
  });

  it('a planned flag whose variable the table lacks is unsupported', () => {
    const { PROFILE: _profile, VPN_POOL_SIZE: _pool, ...older } = PASS_THROUGH_VARIABLES;
    expect(unsupportedFlags(inputFlags(older))).toEqual(['profile', 'vpn-pool-size']);
    expect(PLANNED_FLAGS.every((name) => flagName(name.toUpperCase().replace(/-/g, '_')) === name)).toBe(
      true,
    );
  });
});
