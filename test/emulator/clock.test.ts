/**
 * The emulator's injectable clock: the VirtualClock itself, and the parts of the emulator that
 * must follow it (the simulated tunnel driver, the log stream's pacing) rather than real time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, type RunningEmulator } from '../../emulator/index.js';
import { api, createWorkspace, runVirtualUntilRunning, startFast } from './helpers.js';

describe('VirtualClock', () => {
  it('stands still until advanced, then wakes sleeps in order of their due time at that time', async () => {
    const clock = new VirtualClock(1_000);
    const woke: Array<[string, number]> = [];
    const sleeper = (name: string, ms: number) =>
      clock.sleep(ms).then(() => void woke.push([name, clock.now()]));
    const all = Promise.all([sleeper('b', 30), sleeper('a', 10), sleeper('c', 30), sleeper('late', 100)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(clock.now()).toBe(1_000);
    expect(woke).toEqual([]);
    await clock.advance(50);
    expect(woke).toEqual([
      ['a', 1_010],
      ['b', 1_030],
      ['c', 1_030],
    ]);
    expect(clock.now()).toBe(1_050);
    expect(clock.pending).toBe(1);
    await clock.advance(50);
    await all;
    expect(woke.at(-1)).toEqual(['late', 1_100]);
  });

  it('wakes a sleep that sleeps again within the same advance', async () => {
    const clock = new VirtualClock(0);
    const ticks: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(10);
        ticks.push(clock.now());
      }
    })();
    await clock.sleeping(1);
    await clock.advance(45);
    expect(ticks).toEqual([10, 20, 30, 40]);
    await clock.advance(5);
    await loop;
    expect(ticks).toEqual([10, 20, 30, 40, 50]);
  });

  it('fails a wait for a sleep that never comes instead of hanging, and refuses to go back', async () => {
    const clock = new VirtualClock(0);
    await expect(clock.sleeping(1, 50)).rejects.toThrow(/1 sleep\(s\) expected, 0 waiting/);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('the emulator on a VirtualClock', () => {
  const clock = new VirtualClock();
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startFast({ clock });
  });
  afterAll(() => emulator.close());

  it('connects simulated tunnels on the emulator clock (connecting until tunnelConnectMs has passed)', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office' });
    const states = () => emulator.driver.tunnels(ws.id).map((t) => t.tunnel.state);
    // Real time passes, virtual time does not: still connecting.
    await new Promise((resolve) => setTimeout(resolve, 2 * emulator.world.timing.tunnelConnectMs));
    expect(states()).toEqual(['connecting']);
    await clock.advance(emulator.world.timing.tunnelConnectMs);
    expect(states()).toEqual(['up']);
  });

  it('stamps createdAt and the request log with the emulator clock', async () => {
    const ws = await createWorkspace(emulator);
    expect(Date.parse(String(ws.createdAt))).toBe(clock.now());
    expect(emulator.requestLog().at(-1)?.at).toBe(new Date(clock.now()).toISOString());
  });

  it('paces a log stream on the emulator clock: the step ends when virtual time reaches its end', async () => {
    const ws = await createWorkspace(emulator);
    await runVirtualUntilRunning(emulator, clock, ws.id);
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
    let ended = false;
    const stream = fetch(`${emulator.url}/api/workspaces/${ws.id}/logs/prepare/0`, {
      headers: { authorization: 'Bearer csdemo-token-0123456789abcdef' },
    })
      .then((response) => response.text())
      .finally(() => (ended = true));
    await clock.sleeping(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ended).toBe(false);
    const { stageQueueMs, stageMs } = emulator.world.timing;
    for (let i = 0; i < 20 && !ended; i++) await clock.advance(stageQueueMs + stageMs);
    const text = await stream;
    expect(text).toMatch(/event: data/);
    expect(ended).toBe(true);
  });
});
