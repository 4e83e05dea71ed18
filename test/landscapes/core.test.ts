/**
 * Landscapes through the core against the emulator (in process): the profile on every stage and
 * landscape call, the order (stages, landscape deploy, scale, run), a failed test stage that stops
 * the pipeline, a failed replica named, per-service scale and checks, and the bad `replicas`
 * values refused before anything is created.
 */
import { describe, expect, it } from 'vitest';

import { ConfigError, deploy, DeploymentError, teardown } from '../../shared/index.js';
import { apiCalls, baseInput, RecordingReporter, useEmulator, virtualTimeDeps } from '../core/helpers.js';

const ctx = useEmulator();
const landscape = (overrides: Parameters<typeof baseInput>[1] = {}) =>
  baseInput(ctx.em, { branch: 'landscape', plan: 'Pro', vpnConfig: 'office', ...overrides });
const paths = () =>
  apiCalls(ctx.em).map((c) => `${c.method} ${c.path.replace(/\/api\/workspaces\/\d+/, '')}`);

describe('landscape deploy', () => {
  it('starts every stage and the landscape deploy with the profile, in order, and reports each service', async () => {
    const result = await deploy(
      landscape({
        profile: 'preview',
        stages: 'prepare,test,run',
        vpnCheck: '10.250.0.5',
        healthPath: '/healthz',
      }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const calls = paths().filter((p) => /start|landscape|scale/.test(p));
    expect(calls).toEqual([
      'POST /pipeline/prepare/start/preview',
      'POST /pipeline/test/start/preview',
      'POST /landscape/deploy/preview',
      'POST /pipeline/run/start/preview',
    ]);
    expect(result.services?.map((s) => [s.name, s.replicas, s.state, s.managed])).toEqual([
      ['web', 1, 'running', false],
      ['api', 1, 'running', false],
      ['db', 1, 'running', true],
    ]);
    expect(result.services?.[1]?.url).toMatch(/^https:\/\/\d+-3000\.2\.codesphere\.com\/api$/);
    expect(result.services?.[0]?.checks).toEqual([
      { replica: 0, health: 'HTTP 200', vpn: '10.250.0.5 reachable' },
    ]);
  });

  it('scales per service after the deploy and checks every replica of every service', async () => {
    const result = await deploy(
      landscape({ replicas: 'web=2,api=3', vpnCheck: '10.250.0.5' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const order = paths().filter((p) => /landscape|scale|run\/start/.test(p));
    expect(order).toEqual(['POST /landscape/deploy', 'PATCH /landscape/scale', 'POST /pipeline/run/start']);
    expect(result.services?.filter((s) => !s.managed).map((s) => [s.name, s.replicas])).toEqual([
      ['web', 2],
      ['api', 3],
    ]);
    const probes = ctx.em.requestLog().filter((e) => e.method === 'POST' && e.path.endsWith('/execute'));
    // One cat of ci.yml, then one ping from each of the 5 service replicas.
    expect(probes).toHaveLength(6);
    const workspace = [...ctx.em.world.workspaces.values()][0];
    expect(ctx.em.world.driver.tunnels(workspace?.id ?? 0)).toHaveLength(5);
  });

  it('stops at a failed test stage: the landscape is never deployed and run never starts', async () => {
    const err = await deploy(
      landscape({ branch: 'landscape-test-fails', stages: 'prepare,test,run' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentError);
    const message = (err as Error).message;
    expect(message).toContain('test stage failed on api replica 0');
    expect(message).toContain('npm ERR! ERESOLVE unable to resolve dependency tree');
    expect(paths().filter((p) => /landscape|run\/start/.test(p))).toEqual([]);
  });

  it('names the failed replica of the run stage with its log tail', async () => {
    const reporter = new RecordingReporter();
    const err = await deploy(landscape({ branch: 'landscape-run-fails' }), reporter, virtualTimeDeps()).catch(
      (e: unknown) => e,
    );
    const message = (err as Error).message;
    expect(message).toContain('run stage failed on web replica 1');
    expect(message).toContain('line(s) of the run log of web:');
    expect(message).toContain('npm ERR! ERESOLVE unable to resolve dependency tree');
    // The run logs were followed per service (logs/run/0/server/{server}).
    expect(reporter.texts('info').join('\n')).toContain('│ web: $ npm start');
  });

  it('a profile the repository lacks is an input error naming profile and the profiles it has', async () => {
    const err = await deploy(
      landscape({ profile: 'staging' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Invalid input "profile": got "staging".*Profiles: preview/s);
  });

  it('an unknown service in replicas is an input error naming replicas and the services', async () => {
    const err = await deploy(
      landscape({ replicas: 'web=2,worker=1' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /Invalid input "replicas": names "worker", which the landscape does not have; its services: web, api/,
    );
  });

  it.each([
    ['web=0', 'out of range'],
    ['web=x', 'is not a whole number'],
    ['=2', 'empty service name'],
    ['web=1,web=2', 'listed twice'],
    ['web=2,Api=1', 'is not a service name'],
  ])('refuses replicas %s before any create', async (replicas, why) => {
    const err = await deploy(landscape({ replicas }), new RecordingReporter(), virtualTimeDeps()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('replicas');
    expect((err as Error).message).toContain(why);
    expect(apiCalls(ctx.em).filter((c) => c.method === 'POST')).toEqual([]);
  });

  it('teardown removes the workspace with its managed services', async () => {
    await deploy(landscape(), new RecordingReporter(), virtualTimeDeps());
    expect(ctx.em.state().managedServices).toHaveLength(1);
    await teardown(landscape(), new RecordingReporter(), virtualTimeDeps());
    expect(ctx.em.state().managedServices).toEqual([]);
    expect(ctx.em.state().workspaces).toEqual([]);
  });
});
