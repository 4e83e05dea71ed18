/**
 * The trust cases on the built entries of all three platforms, against the emulator behind a
 * proxy that answers chosen requests the way a misbehaving server or proxy would: a secret in an
 * encoded form, a JSON credential printed minified, a secret split across log entries or past
 * the line cut, a response value with a line break, a log event that never ends, redirects, and
 * a body over the server's limit. Each asserts on what people and later steps read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startFixtureEmulator } from '../doubles/fixture.js';
import { DEMO_TOKEN } from '../doubles/run-entry.js';
import { PLATFORMS, peopleRead, runJob, type JobOutcome, type Platform } from './platforms.js';
import { logEvent, startTamperProxy, type TamperProxy } from './tamper-proxy.js';

const NUMBER: Record<Platform, number> = { github: 41, gitlab: 42, bitbucket: 43 };
const describeOutcome = (o: JobOutcome) => `exit ${String(o.code)}\n${o.log}`;

/** Every 8-character window of a form; none may appear where people read. */
function leaks(outcome: JobOutcome, forms: string[]): string[] {
  const found: string[] = [];
  for (const [place, text] of Object.entries(peopleRead(outcome))) {
    for (const form of forms) {
      for (let i = 0; i + 8 <= form.length; i++) {
        if (text.includes(form.slice(i, i + 8))) {
          found.push(`${place}: ${form.slice(i, i + 8)}`);
          break;
        }
      }
    }
  }
  return found;
}

// The platforms run side by side, each on its own emulator and proxy: a run is mostly waiting
// (polls, the note's pause), so the three overlap. One platform's cases run one after the other.
describe.concurrent.each(PLATFORMS)('%s', (platform) => {
  let emulator: RunningEmulator;
  let proxy: TamperProxy;
  beforeAll(async () => {
    emulator = await startFixtureEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  describe.sequential('one case after another', () => {
    beforeEach(async () => {
      await emulator.reset();
      proxy = await startTamperProxy(emulator.url);
    });
    afterEach(async () => {
      await proxy.close();
    });

    const job = (extra: { env?: string; apiToken?: string } = {}) =>
      runJob(platform, {
        apiUrl: proxy.url,
        apiToken: extra.apiToken ?? DEMO_TOKEN,
        number: NUMBER[platform],
        branch: `trust-${platform}`,
        ...(extra.env === undefined ? {} : { env: extra.env }),
      });

    it("a proxy's error page echoing the token JSON-escaped: masked in the log, the note and the error", async () => {
      const token = 'csdemo"\\/+%=-7Qx9Zz-tok';
      proxy.rules.push({
        method: 'GET',
        path: /^\/api\/teams$/,
        handle: (req, res) => {
          const echoed = JSON.stringify({ headers: { authorization: req.headers.authorization ?? '' } });
          res
            .writeHead(400, { 'content-type': 'text/html' })
            .end(`<html><body><pre>${echoed}</pre></body></html>`);
        },
      });
      const outcome = await job({ apiToken: token });
      expect(outcome.code, describeOutcome(outcome)).toBe(1);
      expect(outcome.log).toContain('listTeams');
      expect(leaks(outcome, [token, JSON.stringify(token).slice(1, -1)])).toEqual([]);
    }, 60_000);

    it('a build printing secrets split across entries, past the line cut and as minified JSON: masked', async () => {
      const key = {
        type: 'service_account',
        private_key_id: '5f1c0a8e9b7d4c3e2a1f0e9d8c7b6a5f4e3d2c1b',
        private_key:
          '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nq2Xz9YhJ3kLmN8pQrStUvWxYz0AbCdEfGhIjKlMnOpQrStUv\n-----END PRIVATE KEY-----\n',
        client_email: 'deployer@acme-prod.iam.gserviceaccount.com',
      };
      const pretty = JSON.stringify(key, null, 2);
      const env = `DB_PASSWORD=Sup3rSecretV4lue!\nGCP_SA_KEY='${pretty}'`;
      proxy.rules.push({
        method: 'GET',
        path: /\/logs\/prepare\/0$/,
        count: 1,
        handle: (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(logEvent(['$ ./configure', 'export DB_PASSWORD=Sup3rSec']));
          res.write(logEvent(['retV4lue! done', `${'x'.repeat(1_991)}Sup3rSecretV4lue! and more`]));
          res.write(logEvent([JSON.stringify(key)]));
          res.end();
        },
      });
      const outcome = await job({ env });
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(outcome.log).toContain('export DB_PASSWORD=***');
      expect(outcome.log, describeOutcome(outcome)).toContain('*** done');
      // Masked first (the 17-character secret became ***), cut after: the line is 3 characters over.
      expect(outcome.log).toContain(`${'x'.repeat(10)}*** and m … (3 characters cut)`);
      // The minified key is itself a registered form of the JSON secret: the whole line is starred.
      expect(outcome.log).toMatch(/^│ \*\*\*$/m);
      const keyLines = key.private_key.split('\n').filter((line) => line.length >= 8);
      expect(leaks(outcome, ['Sup3rSecretV4lue!', key.private_key_id, ...keyLines])).toEqual([]);
    }, 60_000);

    it('a devDomain with a line break: refused, naming the operation and the field; nothing injected', async () => {
      const inject = (body: string) => body.replace(/("devDomain":")([^"]*)"/g, '$1$2\\nINJECTED=1"');
      proxy.rules.push({
        path: /^\/api\/workspaces(\/team\/\d+|\/\d+)?$/,
        handle: async (_req, res, { upstream }) => {
          const answer = await upstream();
          res.writeHead(answer.status, { 'content-type': 'application/json' }).end(inject(answer.body));
        },
      });
      const outcome = await job();
      expect(outcome.code, describeOutcome(outcome)).toBe(1);
      expect(outcome.log).toMatch(/createWorkspace[^\n]*devDomain: is not a host name/);
      expect(outcome.outputs).not.toContain('INJECTED');
      expect(`${outcome.notes}\n${outcome.outputs}\n${outcome.summary}`).not.toMatch(/^INJECTED=1/m);
      // What was created is said, by name, so the next run adopts it or a teardown removes it.
      expect(outcome.log).toMatch(/may exist|left|exists/i);
    }, 60_000);

    it('a log event that never ends: skipped past 1 Mi characters, said in the log, the deploy goes on', async () => {
      proxy.rules.push({
        method: 'GET',
        path: /\/logs\/prepare\/0$/,
        count: 1,
        handle: (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(logEvent(['before the flood']));
          res.write('event: data\ndata: [{"timestamp":"2026-12-06T10:00:00.000Z","kind":"I","data":"');
          const block = 'y'.repeat(64 * 1024);
          let sent = 0;
          const pump = () => {
            while (sent < 3 * 1024 * 1024 && res.write(block)) sent += block.length;
            if (sent < 3 * 1024 * 1024) res.once('drain', pump);
          };
          pump();
        },
      });
      const outcome = await job();
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(outcome.log).toContain('before the flood');
      expect(outcome.log, describeOutcome(outcome)).toMatch(/an event over 1,048,576 characters/);
    }, 60_000);

    it('a redirect to another origin: the token does not follow (the call fails 401)', async () => {
      proxy.rules.push({
        method: 'GET',
        path: /^\/api\/teams$/,
        count: 1,
        handle: (req, res, { origin }) => {
          const other = origin.replace('127.0.0.1', 'localhost');
          res.writeHead(307, { location: `${other}${req.url ?? ''}` }).end();
        },
      });
      const outcome = await job();
      const redirected = proxy.seen.filter((s) => s.path === '/api/teams' && s.host.startsWith('localhost'));
      expect(redirected.length, describeOutcome(outcome)).toBeGreaterThan(0);
      expect(redirected.every((s) => !s.authorized)).toBe(true);
      expect(outcome.code).toBe(1);
      expect(outcome.log).toMatch(/listTeams failed \(HTTP 401\)/);
    }, 60_000);

    it('redirects within the origin: the API and the log streams keep the token', async () => {
      const moved = (req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(307, { location: `${req.url ?? ''}?moved=1` }).end();
      };
      proxy.rules.push(
        { method: 'GET', path: /^\/api\/teams$/, count: 1, handle: moved },
        { method: 'GET', path: /\/logs\/prepare\/\d+$/, count: 2, handle: moved },
      );
      const outcome = await job();
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(outcome.log).not.toMatch(/log of step \d+ is not available|401/);
    }, 60_000);

    it('10,000 env variables: the body limit is said before the create, naming env', async () => {
      const env = Array.from({ length: 10_000 }, (_, i) => `V${String(i).padStart(4, '0')}=1`).join('\n');
      const outcome = await job({ env });
      expect(outcome.code, describeOutcome(outcome)).toBe(1);
      // Each platform names the input as its users set it (`env`, `ENV`).
      expect(outcome.log, describeOutcome(outcome)).toMatch(
        /Invalid input "(env|ENV)": 20,000 workspace variables \(the declared ones and one marker each\)/,
      );
      expect(outcome.log).toContain('1,048,576 bytes (1 MiB)');
      expect(proxy.seen.filter((s) => s.method === 'POST' && s.path === '/api/workspaces')).toEqual([]);
      expect(emulator.state().workspaces).toEqual([]);
    }, 60_000);
  });
});
