import { z } from 'zod';

import { fail, healthCheckField, trimmed, type HealthCheckTarget, type Show } from './fields.js';

/**
 * The landscape inputs (docs/landscapes.md): `profile` (the CI profile, `ci.<profile>.yml`),
 * `stages` (which of prepare, test, run), `replicas` as per-service pairs, and `healthPath` per
 * service. Each parser returns the value or adds one issue saying what was given and what is valid.
 */

export type StageName = 'prepare' | 'test' | 'run';
export const STAGE_ORDER: readonly StageName[] = ['prepare', 'test', 'run'];
export const DEFAULT_STAGES: readonly StageName[] = ['prepare', 'run'];

/** The spec's profile pattern (workspaces-deployLandscape-1, startPipelineStage-1). */
const PROFILE_PATTERN = /^[\w-]+(\.[\w-]+)*$/;
/** The spec's `server` pattern (pipelineStatus): what a service name can be. */
const SERVICE_PATTERN = /^(?:[a-z]|[a-z][-a-z0-9]{0,30}[a-z0-9])$/;
const MAX_REPLICAS = 100;

/** `preview` -> `ci.preview.yml`; empty: `ci.yml` (undefined). */
export const profileField = (show: Show) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    // `ci.preview.yml` written for `preview`: say which word is meant.
    const fromFile = /^ci\.(.+)\.ya?ml$/.exec(text)?.[1];
    if (fromFile !== undefined)
      return fail(ctx, `got ${show(text)}; expected the profile's name ("${fromFile}" for ${text})`);
    if (!PROFILE_PATTERN.test(text))
      return fail(
        ctx,
        `got ${show(text)}; expected a CI profile name of letters, digits, "_", "-" and inner dots (ci.<profile>.yml), or nothing for ci.yml`,
      );
    return text;
  });

/** `prepare,test,run`: a comma list, a subset in that order, ending with run; default prepare,run. */
export const stagesField = (show: Show) =>
  z.unknown().transform((v, ctx): StageName[] => {
    const text = trimmed(v);
    if (text === undefined) return [...DEFAULT_STAGES];
    const expected =
      'a comma list of prepare, test, run in that order, ending with run (default prepare,run)';
    const words = text.split(',').map((w) => w.trim());
    const stages: StageName[] = [];
    for (const word of words) {
      const stage = STAGE_ORDER.find((s) => s === word);
      if (!stage) return fail(ctx, `got ${show(text)}: ${show(word)} is no stage; expected ${expected}`);
      if (stages.includes(stage))
        return fail(ctx, `got ${show(text)}: ${stage} is listed twice; expected ${expected}`);
      const last = stages.at(-1);
      if (last !== undefined && STAGE_ORDER.indexOf(stage) < STAGE_ORDER.indexOf(last))
        return fail(ctx, `got ${show(text)}: ${stage} comes before ${last}; expected ${expected}`);
      stages.push(stage);
    }
    if (stages.at(-1) !== 'run')
      return fail(ctx, `got ${show(text)}: a preview needs its run stage; expected ${expected}`);
    return stages;
  });

/** A number of replicas (as before), or per-service pairs `web=2,api=1`. */
export type ReplicasInput =
  { kind: 'count'; count: number } | { kind: 'services'; services: Record<string, number> };

/**
 * Parses `2` or `web=2,api=1`. A count below 1, a non-digit, an empty or invalid service name and
 * a repeated name are issues naming what was given. Unknown services are the workflow's to find.
 */
export const replicasField = (show: Show) =>
  z.unknown().transform((v, ctx): ReplicasInput | undefined => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    const expected = `a whole number of replicas from 1 to ${MAX_REPLICAS}, or per-service pairs such as web=2,api=1`;
    if (!text.includes('=')) {
      const n = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > MAX_REPLICAS)
        return fail(ctx, `got ${show(v)}; expected ${expected}`);
      return { kind: 'count', count: n };
    }
    const services: Record<string, number> = {};
    for (const pair of text.split(',')) {
      const [rawName = '', rawCount, ...extra] = pair.split('=');
      const name = rawName.trim();
      const count = rawCount?.trim() ?? '';
      if (extra.length > 0 || rawCount === undefined)
        return fail(ctx, `got ${show(text)}: ${show(pair.trim())} is not name=count; expected ${expected}`);
      if (name === '')
        return fail(ctx, `got ${show(text)}: a pair has an empty service name; expected ${expected}`);
      if (!SERVICE_PATTERN.test(name))
        return fail(
          ctx,
          `got ${show(text)}: ${show(name)} is not a service name (a-z, 0-9 and inner "-", as in ci.yml's run section); expected ${expected}`,
        );
      if (Object.hasOwn(services, name))
        return fail(ctx, `got ${show(text)}: service ${name} is listed twice; expected ${expected}`);
      if (!/^\d+$/.test(count))
        return fail(
          ctx,
          `got ${show(text)}: ${name}=${show(count)} is not a whole number; expected ${expected}`,
        );
      const n = Number(count);
      if (n < 1 || n > MAX_REPLICAS)
        return fail(
          ctx,
          `got ${show(text)}: ${name}=${count} is out of range; expected counts from 1 to ${MAX_REPLICAS}`,
        );
      services[name] = n;
    }
    return { kind: 'services', services };
  });

/** The health paths: one for every service, or one per named service. */
export type HealthPaths =
  | { kind: 'all'; target: HealthCheckTarget }
  | { kind: 'services'; services: Record<string, HealthCheckTarget> };

function healthTarget(show: Show, text: string): HealthCheckTarget | string {
  const parsed = healthCheckField(show).safeParse(text);
  if (!parsed.success) return parsed.error.issues[0]?.message ?? 'invalid';
  return parsed.data ?? 'empty';
}

/** `/healthz` (every service) or `web=/healthz,api=/ready`; each path as `healthCheck` takes it. */
export const healthPathField = (show: Show) =>
  z.unknown().transform((v, ctx): HealthPaths | undefined => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    const expected =
      'one path ("/healthz") for every service, or per-service pairs such as web=/healthz,api=/ready';
    if (!/^[a-z][-a-z0-9]*=/.test(text)) {
      const target = healthTarget(show, text);
      if (typeof target === 'string') return fail(ctx, `${target}; expected ${expected}`);
      return { kind: 'all', target };
    }
    const services: Record<string, HealthCheckTarget> = {};
    for (const pair of text.split(',')) {
      const at = pair.indexOf('=');
      const name = at < 0 ? '' : pair.slice(0, at).trim();
      if (name === '' || !SERVICE_PATTERN.test(name))
        return fail(ctx, `got ${show(text)}: ${show(pair.trim())} is not service=path; expected ${expected}`);
      if (Object.hasOwn(services, name))
        return fail(ctx, `got ${show(text)}: service ${name} is listed twice; expected ${expected}`);
      const target = healthTarget(show, pair.slice(at + 1).trim());
      if (typeof target === 'string') return fail(ctx, `${name}: ${target}; expected ${expected}`);
      services[name] = target;
    }
    return { kind: 'services', services };
  });
