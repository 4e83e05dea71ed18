/**
 * URL rules shared by the input (request/), the API client (codesphere/) and the CI helpers (ci/):
 * one loopback test, one credential stripper.
 */

/**
 * Whether `hostname` (as `URL.hostname` gives it, IPv6 in brackets or not) is this machine:
 * `localhost`, `::1` or 127.0.0.0/8. Plain http is accepted only there (the API token would
 * otherwise travel unencrypted).
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * A (clone) URL with any user and password removed, for the workspace and for logs: CI platforms
 * hand over clone URLs with a job token as user info. Not a URL: everything up to an "@" in the
 * authority is dropped, so no token survives either way.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  }
}
