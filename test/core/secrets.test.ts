/**
 * Everything the core says (reporter calls, error messages, results) is captured across
 * successful and failing runs, and no secret may appear in any of it. Secrets are masked
 * before the first request.
 */
import { describe, expect, it } from 'vitest';

import { deploy, describeError, prune, teardown } from '../../shared/index.js';
import {
  baseInput,
  DEMO_EMAIL,
  DEMO_PASSWORD,
  DEMO_TOKEN,
  RecordingReporter,
  useEmulator,
  virtualTimeDeps,
} from './helpers.js';

const ctx = useEmulator();

const ENV_SECRETS = {
  DB_PASSWORD: 'db-pass-9f8e7d6c',
  VPN_PSK: 'office-psk-7f3a9c2e',
  API_KEY: 'key-0a1b2c3d4e',
};
const GIT_TOKEN = 'glpat-abcdefghijklmnop';
const env = [...Object.entries(ENV_SECRETS).map(([k, v]) => `${k}=${v}`), 'PORT=3000'].join('\n');

const WRONG_PASSWORD = 'wrong-pass-123';
/** Every secret the runs below are given (the sign-ins' access tokens come on top). */
const GIVEN_SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GIT_TOKEN, WRONG_PASSWORD, ...Object.values(ENV_SECRETS)];

type Deps = ReturnType<typeof virtualTimeDeps>;
type Em = typeof ctx.em;

/** Passing and failing runs that between them hand every secret to every part of the core. */
function secretRuns(em: Em, reporter: RecordingReporter, deps: Deps): Array<() => Promise<unknown>> {
  const password = { apiToken: undefined, email: DEMO_EMAIL, password: DEMO_PASSWORD };
  const gitUrl = `https://oauth2:${GIT_TOKEN}@gitlab.example.com/acme/shop.git`;
  const deployWith = (input: Parameters<typeof baseInput>[1]) => deploy(baseInput(em, input), reporter, deps);
  return [
    // password sign-in, a token in the git URL, a VPN check
    () => deployWith({ ...password, env, gitUrl, vpnConfig: 'office', vpnCheck: '10.250.0.5' }),
    // API token, an update with a VPN switch
    () => deployWith({ env, vpnConfig: 'lab' }),
    () => deployWith({ ...password, password: WRONG_PASSWORD }),
    () => deployWith({ env, team: 'Nope' }),
    () => deployWith({ env: `${env}\nbroken line ${ENV_SECRETS.DB_PASSWORD}` }),
    async () => {
      em.arm({ kind: 'server-error', path: '/api/workspaces/team/*', count: 20 });
      try {
        return await deployWith({ env });
      } finally {
        em.faults.clear();
      }
    },
    async () => {
      em.world.failStages.add('prepare');
      try {
        return await deployWith({ ...password, env, changeNumber: '43' });
      } finally {
        em.world.failStages.clear();
      }
    },
    () => deployWith({ env, vpnConfig: 'office-wrong-psk', vpnCheck: '10.250.0.5:22', changeNumber: '44' }),
    () => prune(baseInput(em, { ...password, openChangeNumbers: [], dryRun: 'true' }), reporter, deps),
    () => teardown(baseInput(em, { ...password }), reporter, deps),
  ];
}

describe('secrets', () => {
  it(
    'never reach the reporter, errors or results, across passing and failing runs',
    { timeout: 60_000 },
    async () => {
      const reporter = new RecordingReporter();
      const thrown: string[] = [];
      const results: string[] = [];
      for (const run of secretRuns(ctx.em, reporter, virtualTimeDeps())) {
        try {
          results.push(JSON.stringify(await run()));
        } catch (err) {
          thrown.push(describeError(err), JSON.stringify(err), String((err as Error).stack));
        }
      }
      expect(thrown.length).toBeGreaterThanOrEqual(10);
      expect(thrown.join('\n')).toContain('VPN check failed'); // the failing runs did fail, with messages
      expect(results.length).toBeGreaterThanOrEqual(4);
      expect(reporter.maxDepth).toBe(1); // groups are never nested

      const masked = reporter.masked();
      for (const secret of GIVEN_SECRETS) expect(masked, `masked ${secret.slice(0, 4)}…`).toContain(secret);
      const accessTokens = masked.filter((m) => !GIVEN_SECRETS.includes(m));
      expect(accessTokens.length).toBeGreaterThanOrEqual(2); // session id and access token of the sign-ins

      const everything = [reporter.shown(), ...thrown, ...results].join('\n');
      for (const secret of [...GIVEN_SECRETS, ...accessTokens])
        expect(everything.includes(secret), `leaked ${secret.slice(0, 4)}…`).toBe(false);
    },
  );

  it('masks every credential before the first request', async () => {
    const { em } = ctx;
    const order: string[] = [];
    const reporter = new RecordingReporter();
    const originalMask = reporter.mask.bind(reporter);
    reporter.mask = (secret) => {
      order.push(`mask:${secret}`);
      originalMask(secret);
    };
    const seen = em.requestLog().length;
    const probe = new RecordingReporter();
    // Requests are observed through the group callback: the first group runs the first request.
    reporter.group = async (name, fn) => {
      order.push(`requests-so-far:${em.requestLog().length - seen}`);
      return probe.group(name, fn);
    };
    await deploy(
      baseInput(em, { apiToken: undefined, email: DEMO_EMAIL, password: DEMO_PASSWORD, env }),
      reporter,
      virtualTimeDeps(),
    );
    const firstGroup = order.findIndex((o) => o.startsWith('requests-so-far'));
    expect(order[firstGroup]).toBe('requests-so-far:0');
    const beforeRequests = order.slice(0, firstGroup);
    expect(beforeRequests).toEqual(
      expect.arrayContaining([
        `mask:${DEMO_PASSWORD}`,
        ...Object.values(ENV_SECRETS).map((s) => `mask:${s}`),
      ]),
    );
  });

  it('an apiUrl carrying credentials is refused without quoting them, whatever else is wrong with it', async () => {
    const { em } = ctx;
    const secret = 'hunter2-url-secret';
    const urls = [
      `http://deploy:${secret}@codesphere.example.com`, // plain http outside loopback
      `ftp://deploy:${secret}@codesphere.com`, // not http(s)
      `https://deploy:${secret}@exa mple.com/`, // not a URL at all
      `deploy:${secret}@codesphere.com`, // no scheme
      `https://codesphere.com/?access_token=${secret}`, // a query
      `https://codesphere.com/#${secret}`, // a fragment
    ];
    for (const apiUrl of urls) {
      const reporter = new RecordingReporter();
      const err = await deploy(baseInput(em, { apiUrl }), reporter, virtualTimeDeps()).catch(
        (e: unknown) => e,
      );
      const message = describeError(err);
      expect(message, apiUrl).toContain('Invalid input "apiUrl"');
      expect(`${message}\n${reporter.shown()}`, apiUrl).not.toContain(secret);
    }
    expect([...em.world.workspaces.values()].filter((w) => w.name.startsWith('shop'))).toEqual([]);
  });
});
