/**
 * What the core's entry points return (shared/index.ts): plain data an adapter turns into its
 * platform's outputs, notes and summaries.
 */
import type { DeployedVpnCheck, PassedHealthCheck, TargetGrid } from '../outcomes.js';
import type { ServiceResult } from './landscape.js';
import type { VpnPoolUsage } from './vpn-pool.js';

export type { TeardownResult } from '../outcomes.js';
export type { ServiceResult, TargetGrid, VpnPoolUsage };

export interface Timings {
  /** Milliseconds per phase: resolve, apply, provision, prepare, run, vpnCheck, health, total. */
  [phase: string]: number;
}

export interface DeployResult {
  workspaceId: number;
  name: string;
  /** https://<devDomain> */
  url: string;
  vpnConfig: string | null;
  /** `updated` also for an update that changed nothing and for a zero-downtime VPN switch. */
  action: 'created' | 'updated';
  /** What changed on an update ("vpnConfig: office -> lab", "env: 2 set (A, B)"); empty otherwise. */
  changes: string[];
  /** The private targets' grid (service × replica × target), when privateTargets was given. */
  privateTargets?: TargetGrid | undefined;
  /** Whether onCreate ran in this deploy or had already run on this workspace. */
  onCreate?: 'ran' | 'already-ran' | undefined;
  /** The gateway pool's use with this preview, when vpnPoolSize was given. */
  vpnPool?: VpnPoolUsage | undefined;
  /** Passed, or skipped with the reason (a failed VPN check fails the deploy instead). */
  vpnCheck: DeployedVpnCheck;
  /** The health check's result per replica, when one was asked for (a failed one throws instead). */
  healthCheck?: PassedHealthCheck | undefined;
  /** A landscape's services: name, replicas, state, URL, and the checks per replica (docs/landscapes.md). */
  services?: ServiceResult[] | undefined;
  timings: Timings;
}

export interface PruneResult {
  dryRun: boolean;
  /** Workspaces deleted (or, in a dry run, that would be). */
  pruned: Array<{ workspaceId: number; name: string; reason: string }>;
  /** Previews of this repository that stay. */
  kept: Array<{ workspaceId: number; name: string }>;
}
