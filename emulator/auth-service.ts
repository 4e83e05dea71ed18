/**
 * Codesphere's sign-in service as the official GitHub action uses it for email/password logins:
 * signIn gives a session id, genAccessToken turns it into an access token that works as a Bearer
 * token on /api. Both always answer HTTP 200; failures are `{"code":"Error","errName","errMessage"}`.
 * Bodies may arrive as text/plain JSON (the official client sends them so). Sessions and access
 * tokens expire (timing `sessionTtlMs`, `accessTokenTtlMs`; see sign-in-store.ts).
 */
import { randomBytes } from 'node:crypto';
import type { World } from './state.js';

type AuthReply =
  { code: 'Ok'; data: Record<string, string> } | { code: 'Error'; errName: string; errMessage: string };

function error(errName: string, errMessage: string): AuthReply {
  return { code: 'Error', errName, errMessage };
}

function field(body: unknown, name: string): string | undefined {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export function handleAuthService(
  world: World,
  path: string,
  body: unknown,
): { status: number; body: unknown } {
  if (path === '/auth-service/signIn') {
    const email = field(body, 'email');
    const password = field(body, 'password');
    if (!email || password === undefined)
      return { status: 200, body: error('BadRequest', 'email and password are required.') };
    const user = [...world.users.values()].find((u) => u.email.toLowerCase() === email.toLowerCase());
    if (!user || user.password !== password) {
      return { status: 200, body: error('InvalidCredentials', 'The email or password is incorrect.') };
    }
    const sessionId = randomBytes(24).toString('hex');
    world.signIns.sessions.issue(sessionId, user.id);
    return { status: 200, body: { code: 'Ok', data: { sessionId } } };
  }
  if (path === '/auth-service/genAccessToken') {
    const sessionId = field(body, 'id');
    const userId = sessionId === undefined ? undefined : world.signIns.sessions.userFor(sessionId);
    if (sessionId === undefined || userId === undefined) {
      return { status: 200, body: error('InvalidSession', 'The session does not exist or has expired.') };
    }
    const accessToken = `csat-${randomBytes(24).toString('hex')}`;
    world.signIns.accessTokens.issue(accessToken, userId);
    return { status: 200, body: { code: 'Ok', data: { sessionId, accessToken } } };
  }
  return { status: 404, body: error('NotFound', `No such sign-in operation: ${path}`) };
}
