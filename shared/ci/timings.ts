/**
 * Per-phase durations and the health check as one line each, for the change request's comment
 * and the job summary on every platform.
 */
import type { DeployResult, Timings } from '../index.js';

/** Phases in the order a deploy runs them, with the words the comment uses. */
const PHASES: Array<[string, string]> = [
  ['provision', 'provision'],
  ['prepare', 'prepare'],
  ['run', 'run'],
  ['vpnCheck', 'VPN check'],
  ['health', 'health'],
  ['total', 'total'],
];

/** "provision 1.5 s · prepare 3.2 s · … · total 9.8 s"; phases that did not run are left out. */
export function formatTimings(timings: Timings): string {
  return PHASES.filter(([key]) => timings[key] !== undefined)
    .map(([key, label]) => `${label} ${(Math.round((timings[key] ?? 0) / 100) / 10).toFixed(1)} s`)
    .join(' · ');
}

/** "/healthz: HTTP 200 on 2 of 2 replica(s) after 3.1 s", or undefined without a health check. */
export function formatHealthCheck(result: DeployResult): string | undefined {
  const check = result.healthCheck;
  if (!check) return undefined;
  const passed = check.replicas.filter((r) => r.ok);
  const statuses = [...new Set(passed.map((r) => r.reason))].join(', ');
  return `${check.target}: ${statuses || 'ok'} on ${passed.length} of ${check.replicas.length} replica(s) after ${(Math.round(check.elapsedMs / 100) / 10).toFixed(1)} s`;
}
