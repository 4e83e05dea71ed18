import { z } from 'zod';

/**
 * Response bodies of the Public API operations the core uses, as codesphere-openapi.json declares
 * them: unknown fields dropped (Codesphere's additions never break a run), a missing or retyped
 * field fails naming the operation. Values that become output (URLs, names, host names, ids) are
 * checked for their format too, and a failure names its field (`0.devDomain: is not a host name`).
 * Each schema is built on its first parse (`z.lazy`): start-up work the first request would
 * otherwise wait for, and most runs parse only a few of these answers.
 */

/** Text shown on one line: no line break, no control or format character (bidi overrides). */
const ONE_LINE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;
const oneLine = () => z.string().regex(ONE_LINE, { error: 'holds a line break or control character' });

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 63 at most each. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const hostName = () =>
  z.string().regex(HOST_NAME, {
    error: 'is not a host name (dot-separated labels of letters, digits and hyphens)',
  });

/** An env variable's name, as the spec's pattern has it (workspaces-listEnvVars). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** A replica's server, as the spec's pattern has it (workspaces-getPipelineStatus). */
const SERVER_NAME = /^(?:[a-z]|[a-z][-a-z0-9]{0,30}[a-z0-9])$/;
/** A git commit id: SHA-1 or SHA-256 in hex. */
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
const id = () => z.number().int().nonnegative();

export const teamSchema = z.lazy(() =>
  z.object({
    id: id(),
    defaultDataCenterId: id(),
    name: oneLine(),
    role: z.number().int().optional(),
  }),
);
export type Team = z.infer<typeof teamSchema>;

export const planSchema = z.lazy(() =>
  z.object({
    id: id(),
    priceUsd: z.number(),
    title: oneLine(),
    deprecated: z.boolean(),
    characteristics: z.object({ onDemand: z.boolean() }),
    maxReplicas: z.number().int().min(1),
  }),
);
export type Plan = z.infer<typeof planSchema>;

export const workspaceSchema = z.lazy(() =>
  z.object({
    id: id(),
    teamId: id(),
    name: oneLine(),
    planId: id(),
    isPrivateRepo: z.boolean(),
    replicas: z.number().int().min(1),
    baseImage: oneLine().optional(),
    dataCenterId: id(),
    gitUrl: oneLine().nullable(),
    initialBranch: oneLine().nullable(),
    vpnConfig: oneLine().nullable(),
    restricted: z.boolean(),
    devDomain: hostName().optional(),
    createdAt: oneLine(),
  }),
);
export type Workspace = z.infer<typeof workspaceSchema>;

export const workspaceStatusSchema = z.lazy(() => z.object({ isRunning: z.boolean() }));

export const envVarSchema = z.lazy(() =>
  z.object({ name: z.string().regex(ENV_NAME, { error: 'is not an env variable name' }), value: z.string() }),
);

export const gitHeadSchema = z.lazy(() =>
  z.object({ head: z.string().regex(COMMIT, { error: 'is not a commit id (40 or 64 hex digits)' }) }),
);

export const stageStateSchema = z.lazy(() => z.enum(['waiting', 'running', 'success', 'failure', 'aborted']));
export type StageState = z.infer<typeof stageStateSchema>;

export const stageReplicaSchema = z.lazy(() =>
  z.object({
    state: stageStateSchema,
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    steps: z.array(z.object({ state: stageStateSchema })),
    replica: oneLine(),
    server: z.string().regex(SERVER_NAME, { error: 'is not a server name' }),
  }),
);
export type StageReplica = z.infer<typeof stageReplicaSchema>;

export const executeResultSchema = z.lazy(() =>
  z.object({
    command: z.string(),
    workingDir: z.string(),
    output: z.string(),
    error: z.string(),
  }),
);
export type ExecuteResult = z.infer<typeof executeResultSchema>;

/** The sign-in service answers HTTP 200 either way; `code` says which. */
export const signInSchema = z.lazy(() =>
  z.discriminatedUnion('code', [
    z.object({
      code: z.literal('Ok'),
      data: z.object({ sessionId: z.string().regex(/^\S+$/, { error: 'is not a session id' }) }),
    }),
    z.object({ code: z.literal('Error'), errName: z.string().optional(), errMessage: z.string().optional() }),
  ]),
);

export const accessTokenSchema = z.lazy(() =>
  z.discriminatedUnion('code', [
    z.object({
      code: z.literal('Ok'),
      data: z.object({ accessToken: z.string().regex(/^[\x21-\x7e]+$/, { error: 'is not a token' }) }),
    }),
    z.object({ code: z.literal('Error'), errName: z.string().optional(), errMessage: z.string().optional() }),
  ]),
);
