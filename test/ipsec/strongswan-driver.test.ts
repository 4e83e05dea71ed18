/**
 * The real tunnel driver: strongSwan charons in network namespaces, tunnels to a gateway configured
 * like the seed's ipsec.conf, pings crossing them. Runs as root with strongSwan installed (CI
 * installs it via .ci/install-strongswan and must not skip); elsewhere it skips with a notice.
 * Everything in this file runs serially: it is one driver and one set of namespaces.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySpec } from '../../emulator/tunnels/driver.js';
import {
  createStrongswanDriver,
  type StrongswanTunnelDriver,
} from '../../emulator/tunnels/strongswan/index.js';
import { removeStaleRuns } from '../../emulator/tunnels/strongswan/state-dir.js';
import { installedSa } from '../../emulator/tunnels/strongswan/replica.js';
import { checkGateway } from '../../shared/gateway/index.js';
import { VpnSettingsSchema } from '../../shared/gateway/settings.js';
import { cidrContains, parseCidr, parseIpv4 } from '../../shared/gateway/ipv4.js';
import {
  hq,
  lab,
  labConfig,
  leftovers,
  mustRunReal,
  office,
  officeBadProposal,
  officeWrongPsk,
  pingDuring,
  processAlive,
  realDriverSkipReason,
} from './real-tunnels.js';

const skipReason = realDriverSkipReason();
if (skipReason && !mustRunReal) {
  console.warn(`[test/ipsec] real strongSwan tunnel tests SKIPPED: ${skipReason}`);
}

/** A gateway whose pool holds two addresses, to run out of them. */
const tiny: GatewaySpec = {
  ...hq,
  name: 'tiny',
  publicIp: '198.51.100.3',
  pool: '10.202.0.0/30',
  subnets: ['10.252.0.0/24'],
  hosts: ['10.252.0.5'],
};

const inPool = (ip: string, pool: string) => {
  const cidr = parseCidr(pool);
  const address = parseIpv4(ip);
  return typeof cidr !== 'string' && address !== undefined && cidrContains(cidr, address);
};

describe.runIf(!skipReason || mustRunReal)(
  'strongswan tunnel driver (real IPsec)',
  { timeout: 60_000 },
  () => {
    let driver: StrongswanTunnelDriver;
    let nextId = 100;

    beforeAll(async () => {
      // in CI as root this is where a missing strongSwan fails loudly instead of skipping
      if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
      driver = await createStrongswanDriver([hq, lab, tiny]);
    }, 60_000);

    afterAll(async () => {
      await driver?.close();
    }, 60_000);

    it('brings two replicas up with virtual IPs from the pool, and their pings cross the gateway', async () => {
      const started = Date.now();
      await driver.connect(1, 2, office, hq);
      const tunnels = await driver.settled(1, 15_000);
      console.info(`[test/ipsec] 2 replicas connect -> tunnels up: ${Date.now() - started} ms`);
      const vips = tunnels.map((t) =>
        t.tunnel.state === 'up' ? t.tunnel.virtualIp : `not up: ${JSON.stringify(t.tunnel)}`,
      );
      expect(vips).toHaveLength(2);
      for (const vip of vips) expect(inPool(vip, hq.pool), `${vip} in ${hq.pool}`).toBe(true);
      expect(new Set(vips).size).toBe(2);

      for (const replica of [0, 1]) {
        const ping = await driver.probe(1, replica, '10.250.0.5');
        expect(ping.ok, ping.output).toBe(true);
        expect(ping.output).toMatch(/64 bytes from 10\.250\.0\.5/);
        const tcp = await driver.probe(1, replica, '10.250.0.7:5432');
        expect(tcp).toMatchObject({ ok: true });
        expect(tcp.output).toContain('succeeded');
      }
      const closedPort = await driver.probe(1, 0, '10.250.0.7:5433');
      expect(closedPort.ok).toBe(false);
      expect(closedPort.output).toContain('Connection refused');
      // outside the traffic selectors nothing is routed
      const outside = await driver.probe(1, 0, '10.251.0.5');
      expect(outside.ok).toBe(false);
      expect(outside.output).toContain('Network is unreachable');
    });

    it('connects an IKEv2 config (lab) to its IKEv2 gateway', async () => {
      await driver.connect(2, 1, labConfig, lab);
      const [tunnel] = await driver.settled(2, 15_000);
      expect(tunnel?.tunnel).toMatchObject({ state: 'up' });
      expect((await driver.probe(2, 0, '10.251.0.5')).ok).toBe(true);
    });

    it.each([
      ['office-wrong-psk', 'psk-mismatch', officeWrongPsk],
      ['office-bad-proposal (ESP)', 'esp-proposal-mismatch', officeBadProposal],
      [
        'an IKE proposal hq refuses',
        'ike-proposal-mismatch',
        { ...office, name: 'office-bad-ike', ikeProposal: 'aes128-sha1-modp1024' },
      ],
      [
        'lab (IKEv2) aimed at hq (IKEv1)',
        'ike-version-mismatch',
        { ...labConfig, name: 'lab-at-hq', peerIp: hq.publicIp, peerSubnets: hq.subnets },
      ],
      [
        'a peer IP where no gateway listens',
        'gateway-unreachable',
        { ...office, name: 'nowhere', peerIp: '198.51.100.9' },
      ],
    ] as const)(
      'tells %s apart: down with reason %s, and its probe fails',
      async (_label, reason, config) => {
        const id = nextId++;
        await driver.connect(id, 1, config, undefined);
        const [tunnel] = await driver.settled(id, 15_000);
        expect(tunnel).toMatchObject({ vpnConfig: config.name, tunnel: { state: 'down', reason } });
        const probe = await driver.probe(
          id,
          0,
          config.peerSubnets[0] === '10.251.0.0/24' ? '10.251.0.5' : '10.250.0.5',
        );
        expect(probe.ok).toBe(false);
        await driver.disconnect(id);
        expect(driver.tunnels(id)).toEqual([]);
      },
    );

    it('reports pool-exhausted for the replica that finds no address left', async () => {
      const config = { ...office, name: 'tiny', peerIp: tiny.publicIp, peerSubnets: tiny.subnets };
      await driver.connect(3, 3, config, tiny);
      const tunnels = await driver.settled(3, 15_000);
      const states = tunnels.map((t) => t.tunnel.state);
      expect(states.filter((s) => s === 'up')).toHaveLength(2);
      const down = tunnels.find((t) => t.tunnel.state === 'down');
      expect(down?.tunnel).toMatchObject({ state: 'down', reason: 'pool-exhausted' });
      await driver.disconnect(3);
    });

    it('a probe fails while the tunnel is down and works again after a restart onto a good config', async () => {
      await driver.restart(1, 2, officeWrongPsk, hq);
      const down = await driver.settled(1, 15_000);
      expect(down.map((t) => t.tunnel)).toEqual([
        expect.objectContaining({ state: 'down', reason: 'psk-mismatch' }),
        expect.objectContaining({ state: 'down', reason: 'psk-mismatch' }),
      ]);
      expect((await driver.probe(1, 0, '10.250.0.5')).ok).toBe(false);
      await driver.restart(1, 2, office, hq);
      const up = await driver.settled(1, 15_000);
      expect(up.map((t) => t.tunnel.state)).toEqual(['up', 'up']);
      expect((await driver.probe(1, 1, '10.250.0.5')).ok).toBe(true);
    });

    it('a VPN config change restarts the daemons: measured interruption, then up with the new settings', async () => {
      const netns = driver.replicaNamespace(1, 0);
      expect(netns).toBeDefined();
      const pidsBefore = driver.daemonPids().replicas;
      const changed = { ...office, espLifetime: 1800 };
      const gap = await pingDuring(netns ?? '', '10.250.0.5', 4, async () => {
        await driver.restart(1, 2, changed, hq);
        await driver.settled(1, 15_000);
      });
      console.info(
        `[test/ipsec] in-place restart (VPN config change): ${gap.replies}/${gap.sent} replies, longest gap ${gap.longestGapS.toFixed(3)} s`,
      );
      expect(driver.tunnels(1).map((t) => t.tunnel.state)).toEqual(['up', 'up']);
      const pidsAfter = driver.daemonPids().replicas;
      expect(pidsAfter['w1r0']).not.toBe(pidsBefore['w1r0']);
      expect(gap.replies).toBeGreaterThan(0);
      expect(gap.longestGapS).toBeGreaterThan(0);
    });

    it('the gateway runs the ipsec.conf the helper prints, and the checker agrees with the real outcome', () => {
      const running = fs.readFileSync(path.join(driver.stateDir, 'gw-hq', 'etc', 'ipsec.conf'), 'utf8');
      expect(running).toContain('rightsourceip=10.200.0.0/24');
      const settings = (config: typeof office) => VpnSettingsSchema.parse({ ...config, replicas: 2 });
      // office came up for real above; office-bad-proposal and office-wrong-psk were refused for real
      expect(checkGateway(settings(office), { text: running }).mismatches).toEqual([]);
      expect(
        checkGateway(settings(officeBadProposal), { text: running }).mismatches.map((m) => m.kind),
      ).toEqual(['esp-proposal']);
      const secrets = fs.readFileSync(path.join(driver.stateDir, 'gw-hq', 'etc', 'ipsec.secrets'), 'utf8');
      expect(
        checkGateway(settings(officeWrongPsk), { text: running, secrets }).mismatches.map((m) => m.kind),
      ).toEqual(['psk']);
    });

    it('keeps the PSKs out of logs and command lines (only the 0600 secrets files hold them)', () => {
      const psks = [office.psk, officeWrongPsk.psk, labConfig.psk];
      const files = (fs.readdirSync(driver.stateDir, { recursive: true }) as string[])
        .map((file) => path.join(driver.stateDir, file))
        .filter((file) => fs.statSync(file).isFile() && !file.endsWith('ipsec.secrets'));
      expect(files.some((file) => file.endsWith('charon.log'))).toBe(true);
      for (const file of files) {
        const text = fs.readFileSync(file, 'utf8');
        for (const psk of psks) expect(text.includes(psk), `${psk} in ${file}`).toBe(false);
      }
      const secrets = path.join(driver.stateDir, 'gw-hq', 'etc', 'ipsec.secrets');
      expect(fs.statSync(secrets).mode & 0o077).toBe(0);
      const pids = driver.daemonPids();
      for (const pid of [...Object.values(pids.replicas), ...Object.values(pids.gateways).flat()]) {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        for (const psk of psks) expect(cmdline).not.toContain(psk);
      }
    });

    it('leaves nothing behind: namespaces, daemons and the state directory are gone after close()', async () => {
      const pids = driver.daemonPids();
      const all = [...Object.values(pids.replicas), ...Object.values(pids.gateways).flat()];
      expect(all.length).toBeGreaterThan(3);
      expect(all.every(processAlive)).toBe(true);
      expect(leftovers(driver.prefix, driver.stateDir).length).toBeGreaterThan(0);
      await driver.close();
      expect(all.filter(processAlive)).toEqual([]);
      expect(leftovers(driver.prefix, driver.stateDir)).toEqual([]);
    });
  },
);

describe.runIf(!skipReason || mustRunReal)(
  'strongswan driver: recovery after a crashed run',
  { timeout: 60_000 },
  () => {
    it('the cleanup pass at start removes a killed run’s daemons, namespaces and state, and nothing else', async () => {
      if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
      const live = await createStrongswanDriver([]); // a live run (this process) that must survive
      const fixture = path.join(import.meta.dirname, 'fixtures', 'crashing-run.ts');
      // one process (no tsx wrapper), so SIGKILL really leaves its children orphaned
      const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const ready = await new Promise<{ prefix: string; stateDir: string; pids: number[] }>(
        (resolve, reject) => {
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const line = /^READY (.*)$/m.exec(out);
            if (line?.[1])
              resolve(JSON.parse(line[1]) as { prefix: string; stateDir: string; pids: number[] });
          });
          child.on('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
        },
      );
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      // the crash left everything behind
      expect(ready.pids.length).toBeGreaterThanOrEqual(3);
      expect(ready.pids.filter(processAlive)).toEqual(ready.pids);
      expect(leftovers(ready.prefix, ready.stateDir).length).toBeGreaterThan(3);

      const removed = await removeStaleRuns();
      expect(removed).toContain(path.basename(ready.stateDir));
      expect(ready.pids.filter(processAlive)).toEqual([]);
      expect(leftovers(ready.prefix, ready.stateDir)).toEqual([]);
      expect(leftovers(live.prefix, live.stateDir)).toHaveLength(2); // its bridge namespace and state dir
      await live.close();
      expect(leftovers(live.prefix, live.stateDir)).toEqual([]);
    });
  },
);

describe.runIf(!skipReason || mustRunReal)(
  'strongswan driver: gateways configured with the printed swanctl.conf',
  { timeout: 60_000 },
  () => {
    it('replicas come up through it, and a refused ESP proposal is still told apart', async () => {
      if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
      const driver = await createStrongswanDriver([hq], { gatewayConfig: 'swanctl.conf' });
      try {
        await driver.connect(1, 2, office, hq);
        await driver.connect(2, 1, officeBadProposal, hq);
        expect((await driver.settled(1, 15_000)).map((t) => t.tunnel.state)).toEqual(['up', 'up']);
        expect((await driver.probe(1, 1, '10.250.0.5')).ok).toBe(true);
        expect((await driver.settled(2, 15_000))[0]?.tunnel).toMatchObject({
          state: 'down',
          reason: 'esp-proposal-mismatch',
        });
      } finally {
        await driver.close();
      }
      expect(leftovers(driver.prefix, driver.stateDir)).toEqual([]);
    });
  },
);

// SA polling reads charon's `list-sas` answer: pure, so it runs everywhere (no root, no strongSwan).
describe('installedSa (the SA polling step)', () => {
  const ike = (state: string, vips: string[] = ['10.8.0.10']) => ({
    gw: {
      'local-vips': vips,
      'child-sas': { 'lan-1': { state, 'install-time': '30' } },
    },
  });

  it('finds the installed CHILD_SA and its virtual IP, dated by its install time', () => {
    const before = Date.now();
    const up = installedSa([ike('INSTALLED')], undefined);
    expect(up?.virtualIp).toBe('10.8.0.10');
    const since = Date.parse(up?.since ?? '');
    expect(since).toBeGreaterThanOrEqual(before - 30_000 - 1000);
    expect(since).toBeLessThanOrEqual(Date.now() - 30_000 + 1000);
  });

  it('keeps the earlier since while the tunnel stays up', () => {
    expect(installedSa([ike('INSTALLED')], '2026-01-01T00:00:00.000Z')).toEqual({
      virtualIp: '10.8.0.10',
      since: '2026-01-01T00:00:00.000Z',
    });
  });

  it('is undefined while rekeying or without a virtual IP', () => {
    expect(installedSa([ike('REKEYING')], undefined)).toBeUndefined();
    expect(installedSa([ike('INSTALLED', [])], undefined)).toBeUndefined();
    expect(installedSa([], undefined)).toBeUndefined();
  });
});
