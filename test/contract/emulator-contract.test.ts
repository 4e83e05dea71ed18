/**
 * The emulator against Codesphere's OpenAPI spec: a flow through every implemented operation,
 * every exchange validated by the emulator itself (contract: 'record'), zero violations allowed;
 * every 4xx/5xx body is the {status,title,detail,traceId} envelope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setDefaultValidator, startEmulator, type RunningEmulator } from '../../emulator/index.js';
import {
  findOperation,
  problemEnvelopeViolations,
  specAvailable,
  specMissingNotice,
  validateExchange,
} from './openapi.js';

if (!specAvailable) console.warn(specMissingNotice);

const TOKEN = 'csdemo-token-0123456789abcdef';

/** The operations the emulator implements (operationIds from the spec). */
const IMPLEMENTED = [
  'teams-listTeams',
  'teams-getTeam',
  'metadata-getWorkspacePlans',
  'metadata-getDatacenters',
  'workspaces-listWorkspaces',
  'workspaces-createWorkspace',
  'workspaces-getWorkspace',
  'workspaces-updateWorkspace',
  'workspaces-deleteWorkspace',
  'workspaces-getWorkspaceStatus',
  'workspaces-listEnvVars',
  'workspaces-setEnvVar',
  'workspaces-deleteEnvVar',
  'workspaces-gitHead',
  'workspaces-gitPull',
  'workspaces-gitPull-1',
  'workspaces-gitPull-2',
  'workspaces-startPipelineStage',
  'workspaces-startPipelineStage-1',
  'workspaces-stopPipelineStage',
  'workspaces-pipelineStatus',
  'workspaces-executeCommand',
  'workspaces-deployLandscape',
  'workspaces-deployLandscape-1',
  'workspaces-teardownLandscape',
];

describe.skipIf(!specAvailable)('emulator conforms to codesphere-openapi.json', () => {
  let emulator: RunningEmulator;
  const errors: Array<{ path: string; status: number; body: unknown }> = [];

  async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
    const response = await fetch(`${emulator.url}/api${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (response.status >= 400)
      errors.push({ path: `${method} ${path}`, status: response.status, body: parsed });
    return { status: response.status, body: parsed as Record<string, unknown> };
  }

  async function until(check: () => Promise<boolean>) {
    for (let i = 0; i < 300 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  }

  beforeAll(async () => {
    emulator = await startEmulator({
      contract: 'record',
      validate: validateExchange,
      timing: { provisioningMs: 80, stageQueueMs: 10, stageMs: 30, tunnelConnectMs: 20, tunnelRestartMs: 20 },
    });
    expect(emulator.contract).toBe('record');

    await call('GET', '/teams');
    await call('GET', '/teams/101');
    await call('GET', '/teams/103'); // another user's team: 404
    await call('GET', '/metadata/workspace-plans');
    await call('GET', '/metadata/datacenters');
    await call('GET', '/workspaces/team/101');
    await call('GET', '/workspaces/team/103'); // not visible: 400
    const created = await call('POST', '/workspaces', {
      teamId: 101,
      name: 'contract-#1',
      planId: 20,
      isPrivateRepo: true,
      replicas: 2,
      gitUrl: 'https://github.com/acme/shop.git',
      initialBranch: 'main',
      cloneDepth: 1,
      vpnConfig: 'office',
      restricted: false,
      env: [{ name: 'NODE_ENV', value: 'preview' }],
    });
    const id = created.body.id as number;
    await call('POST', '/workspaces', {
      teamId: 101,
      name: 'contract-#1',
      planId: 20,
      isPrivateRepo: true,
      replicas: 1,
    });
    await call('POST', '/workspaces', {
      teamId: 101,
      name: 'c2',
      planId: 20,
      isPrivateRepo: true,
      replicas: 1,
      vpnConfig: 'nope',
    });
    await call('POST', '/workspaces', {
      teamId: 101,
      name: 'c3',
      planId: 5,
      isPrivateRepo: true,
      replicas: 1,
    });
    emulator.setTiming({ provisioningMs: 60_000 }); // hold it in provisioning, whatever the machine's speed
    await call('GET', `/workspaces/${id}/git/head`); // not running yet: 400
    await call('GET', `/workspaces/${id}/status`);
    emulator.setTiming({ provisioningMs: 0 });
    await until(async () => (await call('GET', `/workspaces/${id}/status`)).body.isRunning === true);
    await call('GET', `/workspaces/${id}`);
    await call('GET', '/workspaces/999999'); // 404
    await call('GET', '/teams', undefined, null); // 401
    await call('PATCH', `/workspaces/${id}`, { vpnConfig: 'lab', replicas: 1 });
    await call('PATCH', `/workspaces/${id}`, { vpnConfig: 'nope' });
    await call('PATCH', `/workspaces/${id}`, { vpnConfig: null, storageMib: null, sharedVaultName: null });
    await call('PUT', `/workspaces/${id}/env-vars`, [{ name: 'API_URL', value: 'https://example.test' }]);
    await call('GET', `/workspaces/${id}/env-vars`);
    await call('DELETE', `/workspaces/${id}/env-vars`, ['API_URL']);
    await call('GET', `/workspaces/${id}/git/head`);
    await call('POST', `/workspaces/${id}/git/pull`);
    await call('POST', `/workspaces/${id}/git/pull/origin`);
    await call('POST', `/workspaces/${id}/git/pull/origin/feature-x`);
    await call('POST', `/workspaces/${id}/pipeline/prepare/start`);
    await call('GET', `/workspaces/${id}/pipeline/prepare`);
    await until(async () => {
      const status = await call('GET', `/workspaces/${id}/pipeline/prepare`);
      return (status.body as unknown as Array<{ state: string }>)[0]?.state === 'success';
    });
    await call('POST', `/workspaces/${id}/pipeline/test/start/ci.preview`);
    await call('POST', `/workspaces/${id}/pipeline/test/stop`);
    await call('GET', `/workspaces/${id}/pipeline/test`);
    await call('POST', `/workspaces/${id}/pipeline/run/start`);
    await call('GET', `/workspaces/${id}/pipeline/run`);
    await call('POST', `/workspaces/${id}/execute`, {
      command: 'ping -c 1 10.250.0.5',
      workingDir: '/home/user/app',
      env: {},
    });
    await call('POST', `/workspaces/${id}/execute`, { command: 'echo ok' });
    await call('POST', `/workspaces/${id}/landscape/deploy`);
    await call('POST', `/workspaces/${id}/landscape/deploy/preview`);
    await call('DELETE', `/workspaces/${id}/landscape/teardown`);
    await call('DELETE', `/workspaces/${id}`);
  });
  afterAll(() => emulator?.close());

  it('served every implemented operation', () => {
    const served = new Set(emulator.requestLog().map((e) => findOperation(e.method, e.path)?.operationId));
    expect(IMPLEMENTED.filter((op) => !served.has(op))).toEqual([]);
  });

  it('recorded zero contract violations (GET /_emulator/contract-violations)', async () => {
    const response = await fetch(`${emulator.url}/_emulator/contract-violations`);
    const report = (await response.json()) as { mode: string; count: number; violations: unknown[] };
    expect(report).toEqual({ mode: 'record', count: 0, violations: [] });
    expect(emulator.requestLog().length).toBeGreaterThan(40);
  });

  it('answered error statuses the flow expects, each in the problem envelope', () => {
    expect(errors.map((e) => e.status).sort()).toEqual([400, 400, 400, 400, 400, 400, 401, 404, 404]);
    for (const error of errors)
      expect(problemEnvelopeViolations(error.status, error.body), error.path).toEqual([]);
  });
});

describe.skipIf(!specAvailable)('the contract checker itself catches departures', () => {
  const workspace = {
    teamId: 1,
    name: 'x',
    planId: 20,
    isPrivateRepo: true,
    replicas: 1,
    id: 5,
    dataCenterId: 2,
    userId: 1,
    gitUrl: null,
    initialBranch: null,
    sourceWorkspaceId: null,
    welcomeMessage: null,
    vpnConfig: null,
    restricted: false,
    collectTraces: false,
    persistentLogs: false,
    createdAt: '2026-01-01T00:00:00.000Z',
  };

  it('accepts a conforming exchange', () => {
    expect(
      validateExchange({ method: 'GET', path: '/api/workspaces/5', status: 200, responseBody: workspace }),
    ).toEqual([]);
  });

  it.each([
    [
      'a missing required response field',
      {
        method: 'GET',
        path: '/api/workspaces/5',
        status: 200,
        responseBody: { ...workspace, vpnConfig: undefined },
      },
      /vpnConfig/,
    ],
    [
      'a wrong type',
      {
        method: 'GET',
        path: '/api/workspaces/5',
        status: 200,
        responseBody: { ...workspace, replicas: '1' },
      },
      /replicas/,
    ],
    [
      'a bad date-time',
      {
        method: 'GET',
        path: '/api/workspaces/5',
        status: 200,
        responseBody: { ...workspace, createdAt: 'yesterday' },
      },
      /format/,
    ],
    [
      'an undocumented status',
      { method: 'GET', path: '/api/teams', status: 404, responseBody: {} },
      /not documented/,
    ],
    [
      'an unknown operation',
      { method: 'GET', path: '/api/workspaces/5/vpn', status: 200 },
      /no such operation/,
    ],
    [
      'a bad request body',
      {
        method: 'POST',
        path: '/api/workspaces',
        status: 200,
        requestBody: { teamId: 'one' },
        responseBody: workspace,
      },
      /request body/,
    ],
    [
      'a body where the spec has none',
      {
        method: 'PATCH',
        path: '/api/workspaces/5',
        status: 200,
        requestBody: {},
        responseBody: { ok: true },
      },
      /no body/,
    ],
    [
      'a problem with a wrong status field',
      {
        method: 'GET',
        path: '/api/workspaces/5',
        status: 404,
        responseBody: { status: 400, title: 'x', traceId: 'y' },
      },
      /status/,
    ],
  ])('flags %s', (_, exchange, pattern) => {
    const violations = validateExchange(exchange);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.join('\n')).toMatch(pattern);
  });

  it('flags a problem body without traceId or with extra fields', () => {
    expect(problemEnvelopeViolations(400, { status: 400, title: 'Bad Request', detail: 'x' })).toContain(
      'traceId is missing or empty',
    );
    expect(
      problemEnvelopeViolations(400, { status: 400, title: 'B', detail: 'x', traceId: 't', error: 1 }),
    ).toEqual(['unexpected fields: error']);
  });
});

describe('the validator is passed in, not found by the emulator', () => {
  it('runs the given validator on every /api exchange (and only those), whatever the environment', async () => {
    const seen: string[] = [];
    const em = await startEmulator({
      validate: (exchange) => {
        seen.push(`${exchange.method} ${exchange.path} ${exchange.status}`);
        return exchange.status === 200 ? ['made-up rule'] : [];
      },
    });
    try {
      expect(em.contract).toBe('record');
      await fetch(`${em.url}/api/teams`, { headers: { authorization: `Bearer ${TOKEN}` } });
      await fetch(`${em.url}/api/teams/103`, { headers: { authorization: `Bearer ${TOKEN}` } });
      await fetch(`${em.url}/_emulator/state`);
      expect(seen).toEqual(['GET /api/teams 200', 'GET /api/teams/103 404']);
      expect(em.contractViolations().map((e) => [e.path, e.violations])).toEqual([
        ['/api/teams', ['made-up rule']],
      ]);
    } finally {
      await em.close();
    }
  });

  it("records nothing with contract 'off', and refuses 'record' without a validator", async () => {
    const off = await startEmulator({ contract: 'off', validate: () => ['never asked'] });
    try {
      expect(off.contract).toBe('off');
      await fetch(`${off.url}/api/teams`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(off.contractViolations()).toEqual([]);
    } finally {
      await off.close();
    }
    setDefaultValidator(undefined);
    try {
      await expect(startEmulator({ contract: 'record' })).rejects.toThrow(/needs a validator/);
    } finally {
      if (specAvailable) setDefaultValidator(validateExchange);
    }
  });
});
