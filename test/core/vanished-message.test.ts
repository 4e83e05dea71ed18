/**
 * A deploy whose workspace is deleted under it by something other than a close (prune past
 * `pruneTtlHours`, a person in Codesphere's UI) while its change request is still open: the
 * message must say what is known, not claim a teardown of the change request ran (never "a
 * teardown ran at the same time" when none did).
 */
import { describe, expect, it } from 'vitest';

import { deploy } from '../../shared/index.js';
import { WorkspaceGoneError } from '../../shared/errors.js';
import {
  baseInput,
  DEMO_TOKEN,
  RecordingReporter,
  useEmulator,
  virtualTimeDeps,
  workspacesNamed,
} from './helpers.js';

const ctx = useEmulator();

describe('a workspace deleted under a running deploy of an open change request', () => {
  it('fails saying the workspace was deleted, without claiming a teardown of the change request ran', async () => {
    // Provisioning outlasts the create call however loaded the machine, so the deploy must wait.
    ctx.em.setTiming({ provisioningMs: 2_000 });
    const deps = virtualTimeDeps();
    let deleted = false;
    const clock = deps.clock;
    deps.clock = {
      now: () => clock.now(),
      sleep: async (ms) => {
        // At the deploy's first wait the workspace exists: delete it as a person (or prune) would.
        const ws = workspacesNamed(ctx.em, 'shop-#42')[0];
        if (!deleted && ws) {
          deleted = true;
          const res = await fetch(`${ctx.em.url}/api/workspaces/${ws.id}`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${DEMO_TOKEN}` },
          });
          expect(res.ok).toBe(true);
        }
        return clock.sleep(ms);
      },
    };
    const reporter = new RecordingReporter();
    const failure = await deploy(baseInput(ctx.em), reporter, {
      ...deps,
      changeRequests: { state: () => Promise.resolve('open') },
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(deleted).toBe(true);
    expect(failure).toBeInstanceOf(WorkspaceGoneError);
    const message = String((failure as Error).message);
    expect(message).toContain('was deleted while this deploy was running');
    expect(message).not.toMatch(/a teardown for this change request ran/);
    expect(workspacesNamed(ctx.em, 'shop-#42')).toEqual([]);
  }, 30_000);
});
