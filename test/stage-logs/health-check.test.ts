/** The health check against the emulator's app model: passes, fails (refused / 503), slow to start. */
import { describe, expect, it } from 'vitest';

import { ConfigError, deploy, DeploymentError, HealthCheckFailedError } from '../../shared/index.js';
import { baseInput, RecordingReporter, useEmulator, virtualTimeDeps } from '../core/helpers.js';

const ctx = useEmulator();

describe('health check', () => {
  it('passes on every replica and reports status, replicas and time in the result', async () => {
    const reporter = new RecordingReporter();
    const result = await deploy(
      baseInput(ctx.em, { healthCheck: '/healthz', replicas: '2' }),
      reporter,
      virtualTimeDeps(),
    );
    expect(result.healthCheck).toMatchObject({
      target: '/healthz',
      status: 'passed',
      replicas: [
        { replica: 0, ok: true, status: 200 },
        { replica: 1, ok: true, status: 200 },
      ],
    });
    expect(result.timings.health).toBeGreaterThanOrEqual(0);
    expect(reporter.texts('group')).toContain('Health check: /healthz');
    const curls = ctx.em.requestLog().filter((e) => e.method === 'POST' && e.path.endsWith('/execute'));
    expect(curls).toHaveLength(2);
  });

  it('waits for an app that is slow to start, then passes', async () => {
    const reporter = new RecordingReporter();
    const result = await deploy(
      baseInput(ctx.em, { branch: 'slow-start', healthCheck: '3000/ready' }),
      reporter,
      virtualTimeDeps(200),
    );
    expect(result.healthCheck?.status).toBe('passed');
    expect(reporter.texts('info').join('\n')).toMatch(
      /Replica 0: not healthy yet \(curl: \(7\) Failed to connect to localhost port 3000/,
    );
    expect(reporter.texts('info').join('\n')).toMatch(/Replica 0: HTTP 200 after \d/);
  });

  it.each([
    ['never-ready', /replica 0: curl: \(7\) Failed to connect to localhost port 3000/],
    ['unhealthy', /replica 0: HTTP 503 \(not 2xx or 3xx\)/],
  ])(
    'fails when the app on branch %s never answers 2xx/3xx, naming the reason per replica',
    async (branch, reason) => {
      const err = await deploy(
        baseInput(ctx.em, { branch, healthCheck: '/healthz', timeoutSeconds: '60' }),
        new RecordingReporter(),
        virtualTimeDeps(),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeploymentError);
      const message = (err as Error).message;
      expect(message).toContain(
        'Health check failed: http://localhost:3000/healthz did not answer 2xx or 3xx',
      );
      expect(message).toMatch(reason);
      expect(message).toContain('is left in place');
      // The failed outcome is data, carried by the cause: each replica's last answer.
      const outcome = ((err as Error).cause as HealthCheckFailedError).outcome;
      expect(outcome).toMatchObject({ status: 'failed', target: '/healthz' });
      expect(outcome.replicas[0]).toMatchObject({ replica: 0, ok: false });
    },
  );

  it.each(['healthz', '/x y', "/a'b", '70000/x', ':3000/x'])(
    'rejects %j naming the input and what is valid',
    async (value) => {
      const err = await deploy(
        baseInput(ctx.em, { healthCheck: value }),
        new RecordingReporter(),
        virtualTimeDeps(),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/healthCheck/);
      expect((err as Error).message).toContain('expected a path ("/healthz") or port/path ("8080/healthz")');
      expect(ctx.em.state().workspaces).toHaveLength(0);
    },
  );
});
