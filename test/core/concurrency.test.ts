/** Runs for the same change request at the same time converge: one workspace, or none after a teardown. */
import { describe, expect, it } from 'vitest';

import { deploy, teardown } from '../../shared/index.js';
import { baseInput, RecordingReporter, useEmulator, virtualTimeDeps, workspacesNamed } from './helpers.js';

const ctx = useEmulator();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('concurrency', () => {
  it(
    'ten deploys of the same PR at once end with one workspace, each reporting it',
    { timeout: 30_000 },
    async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          deploy(baseInput(ctx.em, { vpnConfig: 'office' }), new RecordingReporter(), virtualTimeDeps()),
        ),
      );
      const [ws, ...others] = workspacesNamed(ctx.em, 'shop-#42');
      expect(others).toEqual([]);
      expect(new Set(results.map((r) => r.workspaceId))).toEqual(new Set([ws?.id]));
      expect(results.filter((r) => r.action === 'created')).toHaveLength(1);
    },
  );

  it.each([
    ['teardown first', 0, 40],
    ['deploy first, teardown mid-deploy', 60, 0],
    ['both at once', 0, 0],
  ])(
    'a teardown racing a deploy leaves nothing once both finish (%s)',
    async (_name, teardownDelay, deployDelay) => {
      // Real time for teardown: its race window is what is being tested.
      const [deployed, tornDown] = await Promise.allSettled([
        pause(deployDelay).then(() => deploy(baseInput(ctx.em), new RecordingReporter(), virtualTimeDeps())),
        pause(teardownDelay).then(() => teardown(baseInput(ctx.em), new RecordingReporter())),
      ]);
      expect(tornDown.status).toBe('fulfilled');
      if (deployed.status === 'rejected')
        expect(String(deployed.reason)).toContain('was deleted while this deploy was running');
      expect(workspacesNamed(ctx.em, 'shop-#42')).toEqual([]);
    },
    20_000,
  );
});
