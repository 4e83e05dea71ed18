/**
 * A landscape's services in what the adapters report (docs/landscapes.md): the grid of the note,
 * comment and summary (one row per service: name, replicas, state, URL, health and VPN per
 * replica), and the `services` output: JSON of name -> { url, replicas, state }.
 */
import type { DeployResult } from '../index.js';

type Service = NonNullable<DeployResult['services']>[number];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\r?\n\s*/g, ' ');
}

function perReplica(service: Service, pick: (row: Service['checks'][number]) => string | undefined): string {
  if (service.managed) return '—';
  const parts = service.checks.map((row) => {
    const value = pick(row);
    return value === undefined ? undefined : `${row.replica}: ${value}`;
  });
  return parts.every((p) => p === undefined) ? 'not asked' : parts.map((p) => p ?? '?').join(' · ');
}

/** The services grid as Markdown lines (empty for a single-service preview). */
export function renderServices(result: Pick<DeployResult, 'services'>): string[] {
  const services = result.services ?? [];
  if (services.length === 0) return [];
  return [
    '**Services**',
    '',
    '| Service | Replicas | State | URL | Health per replica | VPN per replica |',
    '| --- | --- | --- | --- | --- | --- |',
    ...services.map(
      (s) =>
        `| ${cell(s.managed ? `${s.name} (managed)` : s.name)} | ${s.replicas} | ${s.state} | ${cell(s.url || '—')} | ` +
        `${cell(perReplica(s, (r) => r.health))} | ${cell(perReplica(s, (r) => r.vpn && '✓ ' + r.vpn))} |`,
    ),
  ];
}

/** The `services` output: `{"web":{"url":"https://…","replicas":2,"state":"running"},…}`; undefined without services. */
export function servicesOutput(result: Pick<DeployResult, 'services'>): string | undefined {
  if (!result.services) return undefined;
  return JSON.stringify(
    Object.fromEntries(
      result.services.map((s) => [s.name, { url: s.url, replicas: s.replicas, state: s.state }]),
    ),
  );
}
