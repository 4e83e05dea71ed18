/**
 * shared/ci/console-reporter.ts and the adapters' run() with fakes: redaction of every line, GitLab
 * sections, debug gating, and one failure line / exit code 1 for anything thrown.
 */
import { describe, expect, it } from 'vitest';
import { run as runBitbucket } from '../../bitbucket-pipe/src/main.js';
import { run as runGitLab, type CoreApi } from '../../gitlab-image/src/main.js';
import { ConsoleReporter } from '../../shared/ci/console-reporter.js';
import { plainText } from '../doubles/run-entry.js';

function sink() {
  const sink = { text: '', write: (chunk: string) => (sink.text += chunk) };
  return sink;
}

describe('ConsoleReporter', () => {
  it('redacts every masked secret, in every form, from every kind of line', async () => {
    const out = sink();
    const reporter = new ConsoleReporter({ stdout: out, debug: true });
    reporter.mask('s3cr3t/+token');
    reporter.mask('  padded-secret  ');
    reporter.info('token s3cr3t/+token');
    reporter.warning('encoded s3cr3t%2F%2Btoken');
    reporter.error('padded-secret inside\nand on line two: s3cr3t/+token');
    reporter.debug('debug s3cr3t/+token');
    await reporter.group('group s3cr3t/+token', () => Promise.resolve());
    reporter.success('done s3cr3t/+token');
    reporter.failure('failed s3cr3t/+token');
    expect(out.text).not.toMatch(/s3cr3t|padded-secret/);
    expect(out.text.match(/\*\*\*/g)?.length).toBe(8);
    // Multi-line messages read as one block under their prefix.
    expect(out.text).toContain('ERROR: *** inside\n       and on line two: ***');
  });

  it('ends a multi-line failure on one ✖ line with its headline, after the full message', () => {
    const out = sink();
    new ConsoleReporter({ stdout: out }).failure('VPN check failed: host down\nprobe output\nworkspace left');
    expect(out.text).toBe(
      'ERROR: VPN check failed: host down\n       probe output\n       workspace left\n✖ VPN check failed: host down\n',
    );
  });

  it('prints debug lines only when asked', () => {
    const quiet = sink();
    new ConsoleReporter({ stdout: quiet }).debug('hidden');
    expect(quiet.text).toBe('');
  });

  it('writes balanced GitLab sections with timestamps and safe ids, even when the phase throws', async () => {
    const out = sink();
    let now = 1_700_000_000_000;
    const reporter = new ConsoleReporter({ stdout: out, sections: 'gitlab', now: () => (now += 2000) });
    await reporter.group('Resolve team, plan & VPN config', () => Promise.resolve(reporter.info('inside')));
    await expect(reporter.group('Fails', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const lines = out.text.split('\n');
    expect(lines[0]).toBe(
      '\u001b[0Ksection_start:1700000002:resolve_team_plan_vpn_config_1\r\u001b[0KResolve team, plan & VPN config',
    );
    expect(lines[1]).toBe('inside');
    expect(lines[2]).toBe('\u001b[0Ksection_end:1700000004:resolve_team_plan_vpn_config_1\r\u001b[0K');
    expect(out.text.match(/section_start:/g)).toHaveLength(2);
    expect(out.text.match(/section_end:\d+:fails_2\r/g)).toHaveLength(1);
  });
});

const gitlabEnv = {
  CI_PROJECT_PATH: 'acme/shop',
  CI_PROJECT_URL: 'https://gitlab.example.com/acme/shop',
  CI_COMMIT_BRANCH: 'main',
  CI_COMMIT_REF_NAME: 'main',
  API_TOKEN: 'token-abcdef-123456',
  TEAM: 'My Team',
  NO_COLOR: '1',
};
const bitbucketEnv = {
  BITBUCKET_WORKSPACE: 'acme',
  BITBUCKET_REPO_SLUG: 'shop',
  BITBUCKET_BRANCH: 'main',
  API_TOKEN: 'token-abcdef-123456',
  TEAM: 'My Team',
  NO_COLOR: '1',
};

/** A core that throws `value` as is: non-Errors included, which is the point of these tests. */
function throwingCore(value: unknown): CoreApi {
  const fail = async () => {
    await Promise.resolve();
    throw value;
  };
  return { deploy: fail, teardown: fail, prune: fail };
}

describe.each([
  { platform: 'gitlab', run: runGitLab, env: gitlabEnv },
  { platform: 'bitbucket', run: runBitbucket, env: bitbucketEnv },
])('$platform run(): one failure handler for anything thrown', ({ run, env }) => {
  it.each([
    { thrown: new Error('an Error'), expected: 'an Error' },
    { thrown: 'a plain string', expected: 'a plain string' },
    { thrown: { code: 42 }, expected: '{"code":42}' },
    { thrown: undefined, expected: 'undefined' },
  ])('$expected -> exit 1 and exactly one ✖ line', async ({ thrown, expected }) => {
    const out = sink();
    const code = await run(env, {
      core: throwingCore(thrown),
      stdout: out,
      stderr: out,
      cwd: '/nonexistent',
      clock: { now: () => Date.now(), sleep: () => Promise.resolve() },
    });
    expect(code).toBe(1);
    const failures = plainText(out.text)
      .split('\n')
      .filter((line) => line.startsWith('✖'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain(expected);
  });

  it('never prints a secret a thrown value carries', async () => {
    const out = sink();
    const code = await run(env, {
      core: throwingCore(new Error('request failed with Authorization: Bearer token-abcdef-123456')),
      stdout: out,
      stderr: out,
      cwd: '/nonexistent',
      clock: { now: () => Date.now(), sleep: () => Promise.resolve() },
    });
    expect(code).toBe(1);
    expect(out.text).not.toContain('token-abcdef-123456');
  });
});
