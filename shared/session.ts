import { CodesphereClient } from './codesphere/client.js';
import { signIn } from './codesphere/sign-in.js';
import type { JobInput, JobKind } from './contract.js';
import type { CoreDeps } from './deps.js';
import { withDefaults } from './deps.js';
import type { Reporter } from './reporter.js';
import { parseRequest, secretsOf, type DeployRequest } from './request.js';

/** What every job kind starts with: a validated request, masked secrets, an authenticated client. */
export interface Session {
  request: DeployRequest;
  client: CodesphereClient;
  reporter: Reporter;
  deps: CoreDeps;
  startedAt: number;
  /** deps.now() value after which waits give up (timeoutSeconds). */
  deadline: number;
}

export async function openSession(
  input: JobInput,
  kind: JobKind,
  reporter: Reporter,
  partialDeps: Partial<CoreDeps> | undefined,
): Promise<Session> {
  const deps = withDefaults(partialDeps);
  const startedAt = deps.now();
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

  const http = {
    apiUrl: request.apiUrl,
    userAgent: deps.userAgent,
    sleep: (ms: number) => deps.sleep(ms),
    debug: (message: string) => reporter.debug(message),
    secrets: [...masked],
  };
  const client = new CodesphereClient(http);
  if (request.credentials.kind === 'token') {
    client.setToken(request.credentials.apiToken);
  } else {
    const { email, password } = request.credentials;
    const token = await reporter.group(`Sign in to Codesphere as ${email}`, () =>
      signIn({ ...http, email, password }, mask),
    );
    client.setToken(token);
  }
  return { request, client, reporter, deps, startedAt, deadline: startedAt + request.timeoutMs };
}
