/**
 * Armed faults, consumed by the next matching Public API / sign-in requests. Tests arm them over
 * HTTP (`POST /_emulator/faults`; adapters run as separate processes) or through the returned
 * emulator object; both go through `FaultBook.arm`, validated by one schema.
 */
import { z } from 'zod';

export const faultSchema = z.object({
  /**
   * rate-limit: 429 with Retry-After; server-error: a 5xx problem; latency: delay then answer;
   * lose-response: the request is processed (e.g. the workspace is created), then the socket is
   * destroyed before any response; drop: the socket is destroyed without processing.
   * lose-create-response is lose-response preset to POST /api/workspaces.
   */
  kind: z.enum(['rate-limit', 'server-error', 'latency', 'lose-response', 'lose-create-response', 'drop']),
  /** How many matching requests it affects (default 1). */
  count: z.int().min(1).default(1),
  /** Only requests with this method (any when absent). */
  method: z.string().optional(),
  /** Only paths matching this glob (`*` within a segment, `**` across segments), with or without `/api`. */
  path: z.string().optional(),
  retryAfterSeconds: z.int().min(0).default(1),
  status: z.int().min(500).max(599).default(503),
  latencyMs: z.int().min(0).default(1000),
});
export type FaultInput = z.input<typeof faultSchema>;
export type Fault = z.output<typeof faultSchema> & { id: number; remaining: number };

export interface FaultDecision {
  latencyMs: number;
  /** The fault that decides the outcome (at most one per request). */
  outcome?: Fault;
  applied: Fault[];
}

function globToRegex(glob: string): RegExp {
  const escaped = glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${escaped}/?$`);
}

export class FaultBook {
  private armed: Fault[] = [];
  private nextId = 1;

  arm(input: FaultInput): Fault {
    const parsed = faultSchema.parse(input);
    const preset = parsed.kind === 'lose-create-response';
    const fault: Fault = {
      ...parsed,
      kind: preset ? 'lose-response' : parsed.kind,
      method: parsed.method ?? (preset ? 'POST' : undefined),
      path: parsed.path ?? (preset ? '/api/workspaces' : undefined),
      id: this.nextId++,
      remaining: parsed.count,
    };
    this.armed.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.armed.map((f) => ({ ...f }));
  }

  clear(): void {
    this.armed = [];
  }

  /** Consumes the faults matching this request and says what to do with it. */
  take(method: string, path: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, applied: [] };
    for (const fault of this.armed) {
      if (fault.method && fault.method.toUpperCase() !== method.toUpperCase()) continue;
      if (fault.path) {
        const regex = globToRegex(fault.path);
        if (!regex.test(path) && !regex.test(path.replace(/^\/api(?=\/)/, ''))) continue;
      }
      if (fault.kind === 'latency') {
        decision.latencyMs += fault.latencyMs;
      } else if (decision.outcome) {
        continue; // one outcome per request; later faults wait for the next match
      } else {
        decision.outcome = fault;
      }
      fault.remaining--;
      decision.applied.push(fault);
    }
    this.armed = this.armed.filter((f) => f.remaining > 0);
    return decision;
  }
}
