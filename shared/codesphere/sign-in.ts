import { ConfigError } from '../errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { accessTokenSchema, signInSchema } from './schemas.js';

/**
 * Email/password login the way Codesphere's own web app and the official GitHub action do it:
 * `POST {apiUrl}/auth-service/signIn` for a session, then `POST .../genAccessToken` for a
 * token that works as a Bearer token on the Public API. The service answers HTTP 200 with
 * `code: "Error"` on failure, so the `code` decides, not the status.
 * Every credential it yields is passed to `mask` before it is used or returned.
 */
export async function signIn(
  options: Omit<HttpClientOptions, 'baseUrl'> & { apiUrl: string; email: string; password: string },
  mask: (secret: string) => void,
): Promise<string> {
  const http = new HttpClient({
    ...options,
    baseUrl: `${options.apiUrl}/auth-service`,
    secrets: [...(options.secrets ?? []), options.password],
  });
  // A second session is harmless, so both calls may be repeated after a lost response.
  const session = await http.call({
    name: 'signIn',
    method: 'POST',
    path: '/signIn',
    body: { email: options.email, password: options.password },
    response: signInSchema,
    idempotent: true,
    sensitiveResponse: true,
  });
  if (session.code === 'Error') throw refused(options.email, session.errName, session.errMessage);
  mask(session.data.sessionId);

  const token = await http.call({
    name: 'genAccessToken',
    method: 'POST',
    path: '/genAccessToken',
    body: { id: session.data.sessionId },
    response: accessTokenSchema,
    idempotent: true,
    sensitiveResponse: true,
  });
  if (token.code === 'Error') throw refused(options.email, token.errName, token.errMessage);
  mask(token.data.accessToken);
  return token.data.accessToken;
}

function refused(email: string, errName: string | undefined, errMessage: string | undefined): ConfigError {
  const reason = [errName, errMessage].filter(Boolean).join(': ') || 'no reason given';
  return ConfigError.single(
    'password',
    `Codesphere refused the sign-in of ${JSON.stringify(email)} (${reason}); check email and password, or use an API token (apiToken)`,
  );
}
