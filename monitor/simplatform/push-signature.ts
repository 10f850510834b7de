import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'ok' | 'bad_signature' | 'stale';

/** How far an event's timestamp may be from our clock: the platform's retries are minutes apart. */
export const PUSH_WINDOW_MS = 5 * 60_000;

/**
 * Control Center's Push API signs each event with the shared secret: `signature` is
 * Base64(HMAC-SHA1(secret, timestamp)), the `timestamp` field as sent. The signature covers the
 * timestamp only, not `data`, so on its own it proves the sender knew the secret, recently:
 *
 *   signature                 timestamp                          result
 *   ------------------------  ---------------------------------  -------------
 *   missing or not matching   any                                bad_signature
 *   matching                  not a date, or > window from now   stale
 *   matching                  within the window                  ok
 *
 * What the signature does not cover is covered around it: the receiver is served over TLS
 * (so `data` cannot be changed on the way), an event id is applied once, and a SIM's state
 * only moves forward in time (./events.ts). Compared in constant time.
 */
export function checkPushSignature(
  f: { timestamp?: string; signature?: string },
  secret: string,
  now: number,
  windowMs = PUSH_WINDOW_MS,
): SignatureCheck {
  if (!f.signature || f.timestamp === undefined) return 'bad_signature';
  const expected = pushSignature(f.timestamp, secret);
  const given = Buffer.from(f.signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
  const at = Date.parse(f.timestamp);
  if (Number.isNaN(at) || Math.abs(now - at) > windowMs) return 'stale';
  return 'ok';
}

/** The signature a platform sends for `timestamp` (also what tests and simulators sign with). */
export function pushSignature(timestamp: string, secret: string): Buffer {
  return Buffer.from(createHmac('sha1', secret).update(timestamp, 'utf8').digest('base64'), 'utf8');
}
