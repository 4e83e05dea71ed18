/**
 * The private-data inputs and the pure parts of the checks: target parsing (every malformed kind
 * an input error naming privateTargets), hook secrets, preview keys, probe classification, and
 * the pool rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors.js';
import type { JobInput } from '../../shared/request/job-input.js';
import { hookSecrets } from '../../shared/request/private-data-fields.js';
import { parseRequest, secretsOf } from '../../shared/request/schema.js';
import { previewKey } from '../../shared/workflow/preview-hooks.js';
import { classifyProbe, targetCommand } from '../../shared/workflow/private-targets.js';
import { checkVpnPool } from '../../shared/workflow/vpn-pool.js';
import type { Workspace } from '../../shared/codesphere/schemas.js';
import { RecordingReporter } from '../core/helpers.js';

const BASE: JobInput = {
  apiToken: 'csdemo-token-0123456789abcdef',
  team: 'My Team',
  platform: 'github',
  repository: 'acme/shop',
  gitUrl: 'https://github.com/acme/shop.git',
  branch: 'feature',
  changeNumber: '42',
};

function issuesOf(input: Partial<JobInput>): string[] {
  try {
    parseRequest({ ...BASE, ...input }, 'deploy');
    return [];
  } catch (err: unknown) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.field}: ${i.message}`);
  }
}

describe('privateTargets', () => {
  it('reads hosts, host:port and tls://host:port, separated by commas or line breaks', () => {
    const request = parseRequest(
      { ...BASE, privateTargets: '10.250.0.5,\n db.corp:5432\ntls://ldap.corp:636, [fd00::1]:443\n' },
      'deploy',
    );
    expect(request.privateData.targets).toEqual([
      { kind: 'ping', host: '10.250.0.5', label: '10.250.0.5' },
      { kind: 'tcp', host: 'db.corp', port: 5432, label: 'db.corp:5432' },
      { kind: 'tls', host: 'ldap.corp', port: 636, label: 'tls://ldap.corp:636' },
      { kind: 'tcp', host: 'fd00::1', port: 443, label: '[fd00::1]:443' },
    ]);
  });

  it.each([
    ['0.0.0.0/0', /network range/],
    ['10.0.0.0/8', /network range/],
    ['0.0.0.0', /unspecified address/],
    ['[::]:5432', /unspecified address/],
    ['db:0', /port outside 1-65535/],
    ['db:65536', /port outside 1-65535/],
    ['db:54x', /port outside 1-65535/],
    ['a,,b', /entry 2 is empty/],
    ['db\u001b[31m', /control or invisible character/],
    ['db\u202e.corp', /control or invisible character/],
    ['tls://db', /needs a port/],
    ['https://db:443', /scheme other than tls/],
    ['db;rm -rf /', /network range or a path|not a host/],
    ['$(id):22', /not a host/],
    ['db:5432, DB:5432', /listed twice/],
  ])('refuses %j naming privateTargets', (given, problem) => {
    const issues = issuesOf({ privateTargets: given });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^privateTargets: /);
    expect(issues[0]).toMatch(problem);
  });

  it('never accepts a target that could leave the host pattern (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        const issues = issuesOf({ privateTargets: text });
        if (issues.length > 0) return;
        const targets = parseRequest({ ...BASE, privateTargets: text }, 'deploy').privateData.targets;
        // Whatever is accepted ends up in a shell command: letters, digits, '.', '-', ':' only.
        for (const t of targets) {
          expect(t.host).toMatch(/^[A-Za-z0-9.:-]+$/);
          expect(targetCommand(t, 5)).not.toMatch(/[;&|`$]/);
        }
      }),
      { seed: 20_2026, numRuns: 300 },
    );
  });
});

describe('hooks and pool inputs', () => {
  it('vpnPoolSize is a positive whole number; hooks refuse control characters but keep line breaks', () => {
    expect(issuesOf({ vpnPoolSize: '0' })[0]).toMatch(/^vpnPoolSize: got "0"/);
    expect(issuesOf({ vpnPoolSize: '25.5' })[0]).toMatch(/^vpnPoolSize: /);
    expect(issuesOf({ onCreate: 'psql \u0000-c x' })[0]).toMatch(/^onCreate: holds a control/);
    expect(issuesOf({ onDelete: 'x'.repeat(10_001) })[0]).toMatch(/^onDelete: is 10001 characters long/);
    const request = parseRequest(
      { ...BASE, onCreate: 'set -e\n\tpsql -c "select 1"', vpnPoolSize: '254' },
      'deploy',
    );
    expect(request.privateData).toMatchObject({ onCreate: 'set -e\n\tpsql -c "select 1"', vpnPoolSize: 254 });
  });

  it('masks credentials written inline in a hook, and only those', () => {
    const command =
      'PGPASSWORD=s3cr3t-pw psql "postgres://app:url-pass-9@db:5432/app" --api-token=tok-123456 -c "create schema $CODESPHERE_PREVIEW_KEY"; DB_HOST=db.corp x';
    expect(hookSecrets(command).sort()).toEqual(['s3cr3t-pw', 'tok-123456', 'url-pass-9'].sort());
    expect(hookSecrets('PGPASSWORD=$DB_PASSWORD psql')).toEqual([]);
    const request = parseRequest({ ...BASE, onCreate: command }, 'deploy');
    expect(request.secrets).toEqual(expect.arrayContaining(['s3cr3t-pw', 'url-pass-9', 'tok-123456']));
    expect(secretsOf({ onDelete: command })).toEqual(expect.arrayContaining(['s3cr3t-pw', 'url-pass-9']));
  });
});

describe('preview keys', () => {
  it('is pr_N, mr_N or br_ with 10 letters, stable and a safe identifier', () => {
    expect(previewKey('github', 42, 'x')).toBe('pr_42');
    expect(previewKey('gitlab', 7, 'x')).toBe('mr_7');
    expect(previewKey('bitbucket', 9, undefined)).toBe('pr_9');
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (branch) => {
        const key = previewKey('github', undefined, branch);
        expect(key).toMatch(/^br_[a-z]{10}$/);
        expect(previewKey('gitlab', undefined, branch)).toBe(key);
      }),
      { seed: 2026, numRuns: 200 },
    );
  });
});

describe('probe classification', () => {
  it.each([
    ['bash: connect: Connection refused\n', 'command exited with status 1', 'refused'],
    ['', 'command exited with status 124', 'timeout'],
    ['bash: db.corp: Name or service not known\n', 'command exited with status 1', 'dns'],
    ['ping: db.corp: Temporary failure in name resolution\n', 'command exited with status 2', 'dns'],
    ['bash: connect: No route to host\n', 'command exited with status 1', 'no-route'],
    [
      'CONNECTED(00000003)\nverify error:num=10:certificate has expired\n',
      'command exited with status 1',
      'tls',
    ],
    ['1 packets transmitted, 0 received, 100% packet loss\n', 'command exited with status 1', 'timeout'],
  ])('%j -> %s', (output, error, reason) => {
    expect(classifyProbe({ output, error }).reason).toBe(reason);
  });
});

describe('the pool rule', () => {
  const ws = (name: string, replicas: number, vpnConfig: string | null = 'office'): Workspace => ({
    id: name.length,
    teamId: 1,
    name,
    planId: 8,
    isPrivateRepo: true,
    replicas,
    dataCenterId: 1,
    gitUrl: null,
    initialBranch: null,
    vpnConfig,
    restricted: false,
    createdAt: '2026-01-01T00:00:00Z',
  });

  it('counts only the same VPN config, warns at 80 %, and never refuses a preview that does not grow', () => {
    const reporter = new RecordingReporter();
    const base = { previewName: 'shop-#1', vpnConfig: 'office', pool: 10, reporter };
    const workspaces = [ws('a', 4), ws('b', 3, 'lab'), ws('c', 3)];
    expect(checkVpnPool({ ...base, workspaces, wanted: 1 })).toMatchObject({
      used: 8,
      percent: 80,
      warning: true,
    });
    expect(checkVpnPool({ ...base, workspaces, wanted: 0 })).toMatchObject({ used: 7, warning: false });
    expect(() => checkVpnPool({ ...base, workspaces, wanted: 4 })).toThrow(/vpnPoolSize/);
    // Already holding 4: staying at 4 is not refused (its addresses are leased), growing to 5 is.
    const held = [...workspaces, ws('shop-#1', 4)];
    expect(checkVpnPool({ ...base, workspaces: held, wanted: 4 })).toMatchObject({ used: 11, warning: true });
    expect(() => checkVpnPool({ ...base, workspaces: held, wanted: 5 })).toThrow(/"a" \(4\), "c" \(3\)/);
  });
});
