import { CodesphereDeployError } from './errors.js';
import { redact } from './reporter.js';

/**
 * Turns any thrown value into one line (or a few) a user can act on, for an adapter's single
 * failure handler. Core errors already carry complete, secret-free messages; anything else
 * (a bug, a non-Error throw) is described by type and redacted with the secrets the adapter
 * knows, because foreign messages can echo URLs or inputs.
 */
export function describeError(err: unknown, secrets: Iterable<string> = []): string {
  const text = rawDescription(err);
  return redact(text, secrets);
}

function rawDescription(err: unknown): string {
  if (err instanceof CodesphereDeployError) return err.message;
  if (err instanceof Error) {
    const message = err.message.trim() || '(no message)';
    return `Unexpected ${err.name}: ${message}`;
  }
  if (typeof err === 'string') return err.trim() || 'Unknown error (an empty string was thrown)';
  if (err === undefined || err === null) return `Unknown error (${String(err)} was thrown)`;
  try {
    return `Unknown error: ${JSON.stringify(err)}`;
  } catch {
    return 'Unknown error (an unprintable value was thrown)';
  }
}

/** The message of a caught value, for warnings and wrapped errors that quote a cause as it is. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
