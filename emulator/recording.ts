/**
 * The request log and the contract check: every request the emulator answers is logged (method,
 * path, status, duration on the emulator's clock, the fault that shaped it), and every `/api`
 * exchange is run through the contract validator the caller passed in (the tests pass
 * test/contract/openapi.ts's `validateExchange`; the emulator itself never imports it), its
 * violations kept on the log entry.
 */
import type { RequestLogEntry } from './admin.js';

/** One HTTP exchange as the contract validator sees it (test/contract/openapi.ts `Exchange`). */
export interface Exchange {
  method: string;
  /** The request path, with its `/api` prefix. */
  path: string;
  status: number;
  requestBody?: unknown;
  /** The parsed JSON response body (for an event stream, the events sent). */
  responseBody?: unknown;
}

/** Says which rules of the API contract an exchange breaks (empty: none). */
export type ContractValidator = (exchange: Exchange) => string[];

export type ContractMode = 'record' | 'off';

const MAX_LOG_ENTRIES = 10_000;

/** The request log, capped at the newest MAX_LOG_ENTRIES entries. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(
    /** The validator, or undefined when contract checking is off. */
    readonly validate: ContractValidator | undefined,
  ) {}

  get mode(): ContractMode {
    return this.validate ? 'record' : 'off';
  }

  /** Appends an entry; `started` is when the request arrived (epoch ms). */
  record(entry: Omit<RequestLogEntry, 'seq' | 'at'>, started: number): void {
    this.entries.push({ seq: ++this.seq, at: new Date(started).toISOString(), ...entry });
    if (this.entries.length > MAX_LOG_ENTRIES) this.entries.splice(0, this.entries.length - MAX_LOG_ENTRIES);
  }

  /** The contract violations of one exchange (none when checking is off). */
  check(exchange: Exchange): string[] {
    return this.validate?.(exchange) ?? [];
  }

  /** The live list (admin reads it as it is). */
  list(): RequestLogEntry[] {
    return this.entries;
  }

  violations(): RequestLogEntry[] {
    return this.entries.filter((e) => e.violations?.length);
  }

  clear(): void {
    this.entries = [];
  }
}
