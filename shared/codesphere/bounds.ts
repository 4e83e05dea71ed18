/**
 * The bounds every HTTP stack of the project keeps: how much of an answer is read, how large a
 * request may be, how large one log-stream event may grow, and where credentials may follow a
 * redirect. README, "Reliability", lists the figures.
 */

/** A response body read by the Codesphere client or the CI platforms' helper (bytes, 8 MiB). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** A request body the Codesphere API accepts (bytes, 1 MiB; larger ones are answered 413). */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** One log-stream event, fields and line breaks included (characters, 1 Mi); larger ones are skipped. */
export const MAX_EVENT_CHARS = 1024 * 1024;
/** An error body read to quote from (bytes, 64 KiB); the quote itself is cut shorter. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** `1,048,576 bytes (1 MiB)` for messages. */
export function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  const unit =
    mib >= 1 ? `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`;
  return `${bytes.toLocaleString('en-US')} bytes (${unit})`;
}

/**
 * The one redirect rule for credentials: they follow a redirect to the request's own origin
 * (scheme, host and port), never to another. The Codesphere client and the log streams follow
 * redirects by hand and send the token only where this holds; the CI platforms' helper follows
 * none (its tokens ride in custom headers).
 */
export function credentialsFollow(origin: string, target: URL): boolean {
  return target.origin === origin;
}

/**
 * Reads at most `maxBytes` of a fetch Response's body as UTF-8 and cancels the rest. Returns the
 * text and whether anything was left unread.
 */
export async function readTextCapped(
  response: Response,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), truncated: false };
      const room = maxBytes - read;
      if (value.byteLength > room) {
        text += decoder.decode(value.subarray(0, room));
        await reader.cancel();
        return { text, truncated: true };
      }
      read += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}
