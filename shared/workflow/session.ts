import type { CodesphereApi } from '../codesphere/api.js';
import { connectCodesphere } from '../codesphere/client.js';
import { signIn } from '../codesphere/sign-in.js';
import type { JobInput, JobKind } from '../request/job-input.js';
import type { CoreDeps } from './deps.js';
import { withDefaults } from './deps.js';
import type { Reporter } from '../reporter.js';
import { parseRequest, secretsOf, type DeployRequest } from '../request/schema.js';
import { workspaceName } from './naming.js';

/**
 * What must remain of the budget for a workspace to be created: half the job's budget, at most
 * 30 s. A create that starts later would most likely be abandoned by the wait that follows it
 * ("left in place"); refusing it leaves nothing behind and says why. 30 s is the order of a
 * create plus the first status polls on Codesphere; half the budget keeps short test budgets
 * usable while still refusing a create after most of the time went into lookups and retries.
 */
export function createReserveMs(timeoutMs: number): number {
  return Math.min(30_000, Math.floor(timeoutMs / 2));
}

/**
 * What every job kind starts with: a validated request, masked secrets, an authenticated client,
 * and the preview's workspace name.
 */
export interface Session {
  request: DeployRequest;
  /**
   * The preview's deterministic workspace name (naming.ts): from the change number, else the
   * branch. Empty for prune, which matches a pattern instead.
   */
  workspaceName: string;
  client: CodesphereApi;
  reporter: Reporter;
  deps: CoreDeps;
  startedAt: number;
  /** deps.clock.now() value after which waits give up (timeoutSeconds). */
  deadline: number;
}

export async function openSession(
  input: JobInput,
  kind: JobKind,
  reporter: Reporter,
  partialDeps: Partial<CoreDeps> | undefined,
): Promise<Session> {
  const deps = withDefaults(partialDeps);
  const startedAt = deps.clock.now();
  // Mask first, before validation can fail and long before the first request: even a rejected
  // input's token must never be printed.
  const masked = new Set<string>();
  const mask = (secret: string) => {
    if (secret && !masked.has(secret)) {
      masked.add(secret);
      reporter.mask(secret);
    }
  };
  secretsOf(input).forEach(mask);
  const request = parseRequest(input, kind);
  request.secrets.forEach(mask);

  // One deadline for everything the job does: polls (pipeline.ts), and every request and retry
  // wait of the HTTP layer (codesphere/retry.ts); the adapter's reserve is kept for its last word.
  const budgetMs = request.timeoutMs - Math.max(0, deps.reserveMs ?? 0);
  const deadline = startedAt + budgetMs;
  const http = {
    apiUrl: request.apiUrl,
    deadline: { at: deadline, now: () => deps.clock.now() },
    userAgent: deps.userAgent,
    clock: deps.clock,
    debug: (message: string) => reporter.debug(message),
    secrets: [...masked],
  };
  let token: string;
  if (request.credentials.kind === 'token') {
    token = request.credentials.apiToken;
  } else {
    const { email, password } = request.credentials;
    token = await reporter.group(`Sign in to Codesphere as ${email}`, () =>
      signIn({ ...http, email, password }, mask),
    );
  }
  // The API port (codesphere/api.ts): HTTP by default, a fake in tests. Sign-in is not part of it.
  const connect = deps.codesphere ?? connectCodesphere;
  const client = connect({
    ...http,
    token,
    secrets: [...masked],
    createReserveMs: createReserveMs(budgetMs),
  });
  return { request, workspaceName: previewName(request), client, reporter, deps, startedAt, deadline };
}

/** The request's preview name, or '' when it names no single preview (prune). */
function previewName(request: DeployRequest): string {
  const { kind, platform, repository, changeNumber, branch } = request;
  if (kind === 'prune' || (changeNumber === undefined && branch === undefined)) return '';
  return workspaceName({ platform, repository, changeNumber, branch });
}
