/**
 * The emulator's log streams over real HTTP, as the spec describes them: text/event-stream with
 * `data` and `problem` events, errors as problem events in a 200 stream, each event contract-checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { api, createWorkspace, DEMO_TOKEN, startFast, waitRunning } from './helpers.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startFast();
});
afterAll(async () => {
  const violations = emulator.contractViolations();
  await emulator.close();
  if (emulator.contract === 'record') expect(violations).toEqual([]);
});

/** Reads a whole SSE answer into its events (the stream ends when the step has finished). */
async function events(
  path: string,
): Promise<{ status: number; type: string; list: Array<{ event: string; data: unknown }> }> {
  const response = await fetch(`${emulator.url}/api${path}`, {
    headers: { authorization: `Bearer ${DEMO_TOKEN}` },
  });
  const text = await response.text();
  const list = text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return { event, data: JSON.parse(data) as unknown };
    });
  return { status: response.status, type: response.headers.get('content-type') ?? '', list };
}

describe('log streams', () => {
  it("streams a prepare step's lines as data events of {timestamp, kind, data} and ends with the step", async () => {
    const ws = await createWorkspace(emulator);
    await waitRunning(emulator, ws.id);
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
    const answer = await events(`/workspaces/${ws.id}/logs/prepare/0`);
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^text\/event-stream/);
    const entries = answer.list.flatMap((e) =>
      e.event === 'data' ? (e.data as Array<{ data: string; kind: string }>) : [],
    );
    expect(entries.map((e) => e.data)).toEqual([
      '$ npm ci',
      'added 312 packages, and audited 313 packages in 4s',
      'found 0 vulnerabilities',
    ]);
    expect(entries.every((e) => e.kind === 'I')).toBe(true);
  });

  it('answers errors as problem events: unknown workspace (404), step out of range and not started (400)', async () => {
    const missing = await events('/workspaces/999999/logs/prepare/0');
    expect(missing.status).toBe(200);
    expect(missing.list).toEqual([
      { event: 'problem', data: expect.objectContaining({ status: 404 }) as unknown },
    ]);

    const ws = await createWorkspace(emulator);
    await waitRunning(emulator, ws.id);
    const notStarted = await events(`/workspaces/${ws.id}/logs/prepare/0`);
    expect(notStarted.list).toEqual([
      { event: 'problem', data: expect.objectContaining({ status: 400 }) as unknown },
    ]);
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
    const outOfRange = await events(`/workspaces/${ws.id}/logs/prepare/7`);
    expect(outOfRange.list).toEqual([
      {
        event: 'problem',
        data: expect.objectContaining({
          status: 400,
          detail: expect.stringContaining('has 2 step(s)') as unknown,
        }) as unknown,
      },
    ]);
  });

  it("ends a failing step with the package manager's error tail on stderr (kind E)", async () => {
    const ws = await createWorkspace(emulator);
    await waitRunning(emulator, ws.id);
    emulator.world.workspaces.get(ws.id)?.failStages.add('prepare');
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
    const answer = await events(`/workspaces/${ws.id}/logs/prepare/1`);
    const entries = answer.list.flatMap((e) =>
      e.event === 'data' ? (e.data as Array<{ data: string; kind: string }>) : [],
    );
    expect(entries.at(-1)).toMatchObject({ kind: 'E', data: expect.stringContaining('npm ERR!') as unknown });
    expect(entries.filter((e) => e.kind === 'E')).toHaveLength(4);
  });
});
