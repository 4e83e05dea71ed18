/**
 * A refused redirect is its own kind of error on both HTTP clients that carry a token: the CI
 * platforms' helper (shared/ci/http.ts) follows none, and says so with a RedirectRefusedError that
 * names only the target's origin. (The Codesphere client's refusals: test/core/http.test.ts.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { requestJson } from '../../shared/ci/http.js';
import { CodesphereDeployError, PlatformApiError, RedirectRefusedError } from '../../shared/errors.js';

const TOKEN = 'glpat-SECRETtoken0123456789';
const servers: http.Server[] = [];

async function serve(handler: http.RequestListener): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const deps = { sleep: () => Promise.resolve() };

describe('the platform helper refuses every redirect as its own kind', () => {
  it.each([301, 302, 303, 307, 308])(
    'HTTP %i: not followed, names the origin only, no secret',
    async (status) => {
      const target = await serve((_req, res) => res.writeHead(200).end('[]'));
      const origin = await serve((_req, res) =>
        res
          .writeHead(status, {
            location: `${target.url.replace('//', `//u:${TOKEN}@`)}/api/v4/x?private_token=${TOKEN}`,
          })
          .end(),
      );
      const err = await requestJson(
        {
          operation: 'list open merge requests',
          url: `${origin.url}/api/v4/projects/1/merge_requests`,
          headers: { 'PRIVATE-TOKEN': TOKEN },
          schema: z.array(z.unknown()),
        },
        deps,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedirectRefusedError);
      expect(err).toBeInstanceOf(CodesphereDeployError);
      expect(err).not.toBeInstanceOf(PlatformApiError);
      expect(err).toMatchObject({
        operation: 'list open merge requests',
        status,
        target: target.url,
        refusal: 'not-followed',
      });
      expect((err as Error).message).toContain(`redirected (HTTP ${status}) to ${target.url}; not followed`);
      const everything = JSON.stringify({
        ...(err as object),
        message: (err as Error).message,
        stack: (err as Error).stack,
      });
      expect(everything).not.toContain(TOKEN);
      // Sent once, never to the target: the token stayed home.
      expect(origin.hits).toHaveLength(1);
      expect(target.hits).toEqual([]);
    },
  );
});
