import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import type { ReplicaTunnel } from '../../emulator/tunnels/driver.js';
import { api, call, createWorkspace, eventually, MY_TEAM, startFast, waitRunning } from './helpers.js';

let emulator: RunningEmulator;
const notices: string[] = [];
beforeAll(async () => {
  emulator = await startFast({ notice: (message) => notices.push(message) });
});
afterAll(() => emulator.close());

const validConfig = {
  name: 'branch-office',
  ikeVersion: 'ikev2',
  psk: 'branch-psk',
  ikeProposal: 'aes256-sha256-modp2048',
  espProposal: 'aes256gcm16-modp2048',
  ikeLifetime: 28800,
  espLifetime: 3600,
  peerIp: '203.0.113.10',
  peerSubnets: ['10.77.0.0/16'],
};

async function tunnels(id: number): Promise<ReplicaTunnel[]> {
  return (await call<{ tunnels: ReplicaTunnel[] }>(emulator, 'GET', `/_emulator/workspaces/${id}`)).body
    .tunnels;
}

/** Waits until every replica's tunnel has left connecting/restarting, and returns them. */
function settled(id: number): Promise<ReplicaTunnel[]> {
  return eventually(async () => {
    const list = await tunnels(id);
    return list.length > 0 && list.every((t) => t.tunnel.state === 'up' || t.tunnel.state === 'down')
      ? list
      : undefined;
  });
}

async function execute(id: number, command: string, env?: Record<string, string>) {
  const answer = await api<{ command: string; workingDir: string; output: string; error: string }>(
    emulator,
    'POST',
    `/workspaces/${id}/execute`,
    { body: { command, ...(env ? { env } : {}) } },
  );
  expect(answer.status).toBe(200);
  return answer.body;
}

describe('VPN config administration (/_emulator/teams/{teamId}/vpn-configs)', () => {
  const path = `/_emulator/teams/${MY_TEAM}/vpn-configs`;

  it('creates a valid config (documentation-range peer IP counts as public) and never shows the PSK', async () => {
    const created = await call<Record<string, unknown>>(emulator, 'POST', path, { body: validConfig });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'branch-office', peerIp: '203.0.113.10', psk: '***' });
    const list = await call<Array<{ name: string; psk: string }>>(emulator, 'GET', path);
    expect(list.body.map((c) => c.name)).toContain('branch-office');
    expect(list.text).not.toContain('branch-psk');
    expect((await call(emulator, 'POST', path, { body: validConfig })).status).toBe(409);
  });

  it.each([
    ['a bad CIDR', { peerSubnets: ['10.0.0.0/33'] }, 'peerSubnets.0', /prefix/],
    ['a CIDR with host bits', { peerSubnets: ['10.1.2.3/16'] }, 'peerSubnets.0', /host bits/],
    ['not CIDR at all', { peerSubnets: ['office-lan'] }, 'peerSubnets.0', /CIDR/],
    ['0.0.0.0/0', { peerSubnets: ['10.9.0.0/24', '0.0.0.0/0'] }, 'peerSubnets.1', /all traffic/],
    ['no subnets', { peerSubnets: [] }, 'peerSubnets', /at least one/],
    ['an RFC 1918 peer IP', { peerIp: '192.168.1.1' }, 'peerIp', /must be public.*RFC 1918/],
    ['a 10/8 peer IP', { peerIp: '10.0.0.1' }, 'peerIp', /must be public/],
    ['a loopback peer IP', { peerIp: '127.0.0.1' }, 'peerIp', /loopback/],
    ['a link-local peer IP', { peerIp: '169.254.10.1' }, 'peerIp', /link-local/],
    ['a peer IP that is no address', { peerIp: 'gw.example.com' }, 'peerIp', /not an IPv4 address/],
    ['an empty PSK', { psk: '' }, 'psk', /empty/],
    [
      'an unknown IKE suite',
      { ikeProposal: 'aes256-sha256-modp9999' },
      'ikeProposal',
      /unknown algorithm.*modp9999/,
    ],
    ['an unknown ESP suite', { espProposal: 'rot13-md4' }, 'espProposal', /unknown algorithm/],
    ['an unknown IKE version', { ikeVersion: 'ikev3' }, 'ikeVersion', /ikev1|ikev2/],
  ])('refuses %s with 400 naming the field and the reason', async (_, change, field, reason) => {
    const answer = await call<{ status: number; detail: string }>(emulator, 'POST', path, {
      body: { ...validConfig, name: `bad-${Math.random().toString(36).slice(2, 8)}`, ...change },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain(`${field}:`);
    expect(answer.body.detail).toMatch(reason);
  });

  it('refuses invalid changes to an existing config too, leaving it as it was', async () => {
    const answer = await call<{ detail: string }>(emulator, 'PATCH', `${path}/office`, {
      body: { peerSubnets: ['0.0.0.0/0'] },
    });
    expect(answer.status).toBe(400);
    expect(emulator.world.teams.get(MY_TEAM)?.vpnConfigs.get('office')?.peerSubnets).toEqual([
      '10.250.0.0/24',
    ]);
  });
});

describe('tunnels per replica', () => {
  it.each([
    ['office', 'up', ''],
    ['lab', 'up', ''],
    ['office-wrong-psk', 'down', 'psk-mismatch'],
    ['office-bad-proposal', 'down', 'esp-proposal-mismatch'],
  ])('%s: every replica connects, then is %s %s', async (vpnConfig, state, reason) => {
    // States are evaluated against the clock when read: a long window makes `connecting` observable
    // on any machine, and shortening it afterwards lets the tunnel settle at once.
    emulator.setTiming({ tunnelConnectMs: 60_000 });
    const ws = await createWorkspace(emulator, { vpnConfig, replicas: 2 });
    try {
      const first = await tunnels(ws.id);
      expect(first.map((t) => t.tunnel.state)).toEqual(['connecting', 'connecting']);
    } finally {
      emulator.setTiming({ tunnelConnectMs: 40 });
    }
    const final = await settled(ws.id);
    expect(final).toHaveLength(2);
    for (const t of final) {
      expect(t.vpnConfig).toBe(vpnConfig);
      expect(t.tunnel.state).toBe(state);
      if (reason) expect(t.tunnel).toMatchObject({ reason, detail: expect.any(String) as unknown });
    }
    if (state === 'up') {
      const ips = final.map((t) => (t.tunnel.state === 'up' ? t.tunnel.virtualIp : ''));
      expect(new Set(ips).size).toBe(2); // each replica its own virtual IP from the pool
    }
  });

  it('a config pointing at no gateway is down: gateway-unreachable', async () => {
    await call(emulator, 'POST', `/_emulator/teams/${MY_TEAM}/vpn-configs`, {
      body: { ...validConfig, name: 'nowhere', peerIp: '203.0.113.99' },
    });
    const ws = await createWorkspace(emulator, { vpnConfig: 'nowhere' });
    expect((await settled(ws.id))[0]?.tunnel).toMatchObject({ state: 'down', reason: 'gateway-unreachable' });
  });

  it('restarts the tunnels when PATCH changes the workspace vpnConfig', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office-wrong-psk', replicas: 2 });
    expect((await settled(ws.id)).map((t) => t.tunnel.state)).toEqual(['down', 'down']);
    emulator.setTiming({ tunnelRestartMs: 60_000 });
    try {
      expect(
        (await api(emulator, 'PATCH', `/workspaces/${ws.id}`, { body: { vpnConfig: 'office' } })).status,
      ).toBe(200);
      expect((await tunnels(ws.id)).map((t) => t.tunnel.state)).toEqual(['restarting', 'restarting']);
    } finally {
      emulator.setTiming({ tunnelRestartMs: 40 });
    }
    const after = await settled(ws.id);
    expect(after.map((t) => [t.vpnConfig, t.tunnel.state])).toEqual([
      ['office', 'up'],
      ['office', 'up'],
    ]);
  });

  it('restarts the tunnels of every connected workspace when a config changes', async () => {
    const path = `/_emulator/teams/${MY_TEAM}/vpn-configs/office-wrong-psk`;
    const a = await createWorkspace(emulator, { vpnConfig: 'office-wrong-psk' });
    const b = await createWorkspace(emulator, { vpnConfig: 'office-wrong-psk', replicas: 2 });
    const bystander = await createWorkspace(emulator, { vpnConfig: 'lab' });
    await settled(a.id);
    await settled(b.id);
    await settled(bystander.id);
    emulator.setTiming({ tunnelRestartMs: 60_000 });
    try {
      const fixed = await call<{ restartedWorkspaces: number[] }>(emulator, 'PATCH', path, {
        body: { psk: 'office-psk-7f3a9c2e' },
      });
      expect(fixed.status).toBe(200);
      expect(fixed.body.restartedWorkspaces).toEqual(expect.arrayContaining([a.id, b.id]) as unknown);
      expect(fixed.body.restartedWorkspaces).not.toContain(bystander.id);
      expect((await tunnels(a.id)).map((t) => t.tunnel.state)).toEqual(['restarting']);
      expect((await tunnels(b.id)).map((t) => t.tunnel.state)).toEqual(['restarting', 'restarting']);
      expect((await tunnels(bystander.id))[0]?.tunnel.state).toBe('up');
    } finally {
      emulator.setTiming({ tunnelRestartMs: 40 });
    }
    for (const ws of [a, b]) expect((await settled(ws.id)).every((t) => t.tunnel.state === 'up')).toBe(true);
    // Put it back so the seeded meaning of office-wrong-psk holds for other tests.
    await call(emulator, 'PATCH', path, { body: { psk: 'not-the-office-psk' } });
    expect((await settled(a.id))[0]?.tunnel).toMatchObject({ state: 'down', reason: 'psk-mismatch' });
  });

  it('disconnects when the workspace is deleted, and frees its virtual IPs', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'lab' });
    await settled(ws.id);
    await api(emulator, 'DELETE', `/workspaces/${ws.id}`);
    expect(emulator.driver.tunnels(ws.id)).toEqual([]);
  });

  it('answers the API at once and records a failing driver operation instead of failing the request', async () => {
    const original = emulator.driver.connect.bind(emulator.driver);
    emulator.driver.connect = () => Promise.reject(new Error('charon did not start'));
    let ws: { id: number };
    try {
      ws = await createWorkspace(emulator, { vpnConfig: 'office' });
    } finally {
      emulator.driver.connect = original;
    }
    await emulator.world.settle();
    const state = await call<{ driverErrors: string[] }>(emulator, 'GET', '/_emulator/state');
    expect(state.body.driverErrors).toContain(`connect workspace ${ws.id} (office): charon did not start`);
    expect(notices).toContain(
      `emulator: tunnel driver failed: connect workspace ${ws.id} (office): charon did not start`,
    );
  });

  it('refuses to delete a config still in use', async () => {
    await createWorkspace(emulator, { vpnConfig: 'lab' });
    const answer = await call<{ detail: string }>(
      emulator,
      'DELETE',
      `/_emulator/teams/${MY_TEAM}/vpn-configs/lab`,
    );
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toMatch(/used by workspace/);
  });
});

describe('execute: probes through the tunnel', () => {
  it('ping and nc to gateway hosts succeed through an up tunnel', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office' });
    await waitRunning(emulator, ws.id);
    await settled(ws.id);
    const ping = await execute(ws.id, 'ping -c 3 -W 2 10.250.0.5');
    expect(ping).toMatchObject({
      command: 'ping -c 3 -W 2 10.250.0.5',
      workingDir: expect.any(String) as unknown,
      error: '',
    });
    expect(ping.output).toContain(' 0% packet loss');
    const nc = await execute(ws.id, 'nc -z -w 3 10.250.0.7 5432');
    expect(nc.error).toBe('');
    expect(nc.output).toContain('succeeded');
    const devTcp = await execute(ws.id, "timeout 3 bash -c 'echo > /dev/tcp/10.250.0.7/5432'");
    expect(devTcp.error).toBe('');
  });

  it('fails: a closed port, an unknown host in the subnet, and private addresses outside the peer subnets', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office' });
    await waitRunning(emulator, ws.id);
    await settled(ws.id);
    const closed = await execute(ws.id, 'nc -zv 10.250.0.7 22');
    expect(closed.error).not.toBe('');
    expect(closed.output).toContain('Connection refused');
    const silent = await execute(ws.id, 'ping -c 1 10.250.0.99');
    expect(silent.error).not.toBe('');
    expect(silent.output).toContain('100% packet loss');
    for (const outside of ['10.251.0.5', '192.168.0.1', '172.16.0.1']) {
      const result = await execute(ws.id, `ping -c 1 ${outside}`);
      expect(result.error, outside).not.toBe('');
      expect(result.output).toMatch(/unreachable/i);
    }
  });

  it('fails through a down tunnel with the probe output and a non-empty error', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office-bad-proposal' });
    await waitRunning(emulator, ws.id);
    await settled(ws.id);
    const ping = await execute(ws.id, 'ping -c 1 10.250.0.5');
    expect(ping.error).toMatch(/status 1/);
    expect(ping.output).toContain('100% packet loss');
    const nc = await execute(ws.id, 'nc -z -w 2 10.250.0.7 5432');
    expect(nc.output).toContain('timed out');
  });

  it('fails without a VPN config at all (nothing is routed)', async () => {
    const ws = await createWorkspace(emulator);
    await waitRunning(emulator, ws.id);
    expect((await execute(ws.id, 'ping -c 1 10.250.0.5')).error).not.toBe('');
  });

  it('probes from the replica named in env CODESPHERE_REPLICA', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office', replicas: 2 });
    await waitRunning(emulator, ws.id);
    await settled(ws.id);
    const seen: string[] = [];
    const original = emulator.driver.probe.bind(emulator.driver);
    emulator.driver.probe = (id, replica, target) => {
      seen.push(`${id}/${replica}/${target}`);
      return original(id, replica, target);
    };
    try {
      await execute(ws.id, 'ping -c 1 10.250.0.5', { CODESPHERE_REPLICA: '1' });
      await execute(ws.id, 'ping -c 1 10.250.0.5');
    } finally {
      emulator.driver.probe = original;
    }
    expect(seen).toEqual([`${ws.id}/1/10.250.0.5`, `${ws.id}/0/10.250.0.5`]);
    const bad = await api<{ detail: string }>(emulator, 'POST', `/workspaces/${ws.id}/execute`, {
      body: { command: 'true', env: { CODESPHERE_REPLICA: '5' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('CODESPHERE_REPLICA');
  });

  it('answers other commands plausibly: echo, env, git, unknown commands', async () => {
    const ws = await createWorkspace(emulator, { env: [{ name: 'GREETING', value: 'hello' }] });
    await waitRunning(emulator, ws.id);
    expect(await execute(ws.id, 'echo "preview ready"')).toMatchObject({
      output: 'preview ready\n',
      error: '',
    });
    expect((await execute(ws.id, 'printenv GREETING')).output).toBe('hello\n');
    expect((await execute(ws.id, 'echo $GREETING && false && echo never')).output).toBe('hello\n');
    const head = (await api<{ head: string }>(emulator, 'GET', `/workspaces/${ws.id}/git/head`)).body.head;
    expect((await execute(ws.id, 'git rev-parse HEAD')).output).toBe(`${head}\n`);
    const unknown = await execute(ws.id, 'frobnicate --now');
    expect(unknown.output).toContain('command not found');
    expect(unknown.error).toMatch(/127/);
  });
});
