/**
 * The call budget, as exact call lists (the core bench prints the same per path): a create
 * costs 6 Codesphere operations besides polls and the prepare steps' log streams; a redeploy with
 * nothing to do costs at most 7 calls in all. Each call listed is needed for a guarantee (find
 * by name before creating, one create, the pipeline); nothing re-reads what a response told.
 */
import { describe, expect, it } from 'vitest';

import { deploy } from '../../shared/index.js';
import { baseInput, RecordingReporter, useEmulator, virtualTimeDeps } from './helpers.js';
import type { RunningEmulator } from '../../emulator/index.js';

const ctx = useEmulator();

const POLL = /\/(status|pipeline\/(prepare|run))$/;
const STREAM = /\/logs\//;

/** The Public API calls after `seq`, ids as {id}: polls, log streams, and the rest in order. */
function callsAfter(em: RunningEmulator, seq: number) {
  const calls = em.requestLog().filter((e) => e.seq > seq && e.path.startsWith('/api/'));
  const polls = calls.filter((c) => c.method === 'GET' && POLL.test(c.path));
  const streams = calls.filter((c) => c.method === 'GET' && STREAM.test(c.path));
  const operations = calls
    .filter((c) => !polls.includes(c) && !streams.includes(c))
    .map((c) => `${c.method} ${c.path.slice('/api'.length).replace(/\/\d+(?=\/|$)/g, '/{id}')}`);
  // The team and plan lookups run in parallel: their order is the network's.
  operations.splice(0, 2, ...operations.slice(0, 2).sort());
  return { total: calls.length, polls: polls.length, streams: streams.length, operations };
}

const lastSeq = (em: RunningEmulator) => em.requestLog().at(-1)?.seq ?? 0;

describe('Codesphere calls per deploy path', () => {
  it('create: 6 operations besides polls and log streams, no re-read at the end', async () => {
    const { em } = ctx;
    const seq = lastSeq(em);
    await deploy(baseInput(em, { env: 'A=1' }), new RecordingReporter(), virtualTimeDeps());
    const calls = callsAfter(em, seq);
    expect(calls.operations).toEqual([
      'GET /metadata/workspace-plans',
      'GET /teams',
      'GET /workspaces/team/{id}',
      'POST /workspaces',
      'POST /workspaces/{id}/pipeline/prepare/start',
      'POST /workspaces/{id}/pipeline/run/start',
    ]);
  });

  it('a redeploy with nothing to do: at most 7 calls in all, no pull, no pipeline restart', async () => {
    const { em } = ctx;
    await deploy(baseInput(em, { env: 'A=1' }), new RecordingReporter(), virtualTimeDeps());
    const commit = em.world.remoteHead('https://github.com/acme/shop.git', 'feature/login');
    const seq = lastSeq(em);
    const result = await deploy(
      baseInput(em, { env: 'A=1', commit }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const calls = callsAfter(em, seq);
    expect(result).toMatchObject({ action: 'updated', changes: [] });
    expect(calls.operations).toEqual([
      'GET /metadata/workspace-plans',
      'GET /teams',
      'GET /workspaces/team/{id}',
      'GET /workspaces/{id}/env-vars',
      'GET /workspaces/{id}/git/head',
    ]);
    expect(calls.total).toBeLessThanOrEqual(7);
  });
});
