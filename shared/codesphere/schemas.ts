import { z } from 'zod';

/**
 * Response bodies of the Public API operations the core uses, as codesphere-openapi.json
 * declares them (required fields required, the rest optional). Unknown fields are dropped, so
 * additions on Codesphere's side never break a run; a missing or retyped field fails loudly,
 * naming the operation.
 *
 * Each schema is built on its first parse (`z.lazy`), not when the module is loaded: building
 * zod objects is start-up work the action's first request would otherwise wait for, and most
 * runs parse only a few of these answers. Parsing, results and issues are the same.
 */

export const teamSchema = z.lazy(() =>
  z.object({
    id: z.number().int().nonnegative(),
    defaultDataCenterId: z.number().int().nonnegative(),
    name: z.string(),
    role: z.number().int().optional(),
  }),
);
export type Team = z.infer<typeof teamSchema>;

export const planSchema = z.lazy(() =>
  z.object({
    id: z.number().int().nonnegative(),
    priceUsd: z.number(),
    title: z.string(),
    deprecated: z.boolean(),
    characteristics: z.object({ onDemand: z.boolean() }),
    maxReplicas: z.number().int().min(1),
  }),
);
export type Plan = z.infer<typeof planSchema>;

export const workspaceSchema = z.lazy(() =>
  z.object({
    id: z.number().int().nonnegative(),
    teamId: z.number().int().nonnegative(),
    name: z.string(),
    planId: z.number().int().nonnegative(),
    isPrivateRepo: z.boolean(),
    replicas: z.number().int().min(1),
    baseImage: z.string().optional(),
    dataCenterId: z.number().int().nonnegative(),
    gitUrl: z.string().nullable(),
    initialBranch: z.string().nullable(),
    vpnConfig: z.string().nullable(),
    restricted: z.boolean(),
    devDomain: z.string().optional(),
    createdAt: z.string(),
  }),
);
export type Workspace = z.infer<typeof workspaceSchema>;

export const workspaceStatusSchema = z.lazy(() => z.object({ isRunning: z.boolean() }));

export const envVarSchema = z.lazy(() => z.object({ name: z.string(), value: z.string() }));

export const gitHeadSchema = z.lazy(() => z.object({ head: z.string() }));

export const stageStateSchema = z.lazy(() => z.enum(['waiting', 'running', 'success', 'failure', 'aborted']));
export type StageState = z.infer<typeof stageStateSchema>;

export const stageReplicaSchema = z.lazy(() =>
  z.object({
    state: stageStateSchema,
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    steps: z.array(z.object({ state: stageStateSchema })),
    replica: z.string(),
    server: z.string(),
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
    z.object({ code: z.literal('Ok'), data: z.object({ sessionId: z.string().min(1) }) }),
    z.object({ code: z.literal('Error'), errName: z.string().optional(), errMessage: z.string().optional() }),
  ]),
);

export const accessTokenSchema = z.lazy(() =>
  z.discriminatedUnion('code', [
    z.object({ code: z.literal('Ok'), data: z.object({ accessToken: z.string().min(1) }) }),
    z.object({ code: z.literal('Error'), errName: z.string().optional(), errMessage: z.string().optional() }),
  ]),
);
