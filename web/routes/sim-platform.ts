import express, { Router } from 'express';
import type { Clock } from '../../monitor/clock.ts';
import type { Logger } from '../../monitor/logger.ts';
import { OncePerKey } from '../../monitor/network/once-per-key.ts';
import type { SimPlatform } from '../../monitor/simplatform/index.ts';
import { parsePushEvent } from '../../monitor/simplatform/push-event.ts';
import { checkPushSignature } from '../../monitor/simplatform/push-signature.ts';

/**
 * The SIM platform's Push API receiver (Cisco Control Center style), mounted only when
 * LASTSEEN_SIM_PUSH_SECRET is set. The platform holds no API key of ours: the signature made
 * with the shared secret is its credential (monitor/simplatform/push-signature.ts).
 *
 *   POST /api/sim-platform/events   application/x-www-form-urlencoded, ≤ 64 KiB
 *     signature missing or wrong          401  counted bad_signature, logged once per address
 *     timestamp older/newer than 5 min    401  counted stale
 *     fields or XML unreadable            400  counted malformed, the reason in `error`
 *     the registry cannot write now       503  Retry-After: 30; nothing applied, the platform retries
 *     otherwise                           200  {result: applied | unchanged | duplicate | older | …}
 *
 * 200 is answered only once the event is applied (or known to need nothing): an event the
 * platform sees acknowledged is never lost.
 */
export function simPlatformRoutes(platform: SimPlatform & { pushSecret: string }, clock: Clock, log: Logger): Router {
  const r = Router();
  const toldBadSignature = new OncePerKey(10_000);
  const count = (result: string) => platform.metrics.events.inc({ source: 'push', result });
  r.post('/sim-platform/events', express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 20 }), async (req, res) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      count('malformed');
      res.status(415).json({
        error: 'A SIM platform event is a form (application/x-www-form-urlencoded) with eventId, eventType, timestamp, signature and data.',
      });
      return;
    }
    const fields = (req.body ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const signed = checkPushSignature(
      { timestamp: str(fields.timestamp), signature: str(fields.signature) },
      platform.pushSecret,
      clock.now(),
    );
    if (signed !== 'ok') {
      count(signed);
      const source = req.socket.remoteAddress ?? 'unknown';
      if (signed === 'stale' || toldBadSignature.first(source))
        log.warn({ source, reason: signed, eventId: str(fields.eventId) }, 'SIM platform event refused');
      res.status(401).json({
        error:
          signed === 'stale'
            ? 'The event timestamp is more than 5 minutes from this server’s clock: check both clocks.'
            : 'The signature does not match: the platform and LASTSEEN_SIM_PUSH_SECRET must share the secret.',
      });
      return;
    }
    const event = parsePushEvent(fields);
    if ('reason' in event) {
      count('malformed');
      log.warn({ eventId: str(fields.eventId), eventType: str(fields.eventType), problem: event.message }, 'SIM platform event unreadable');
      res.status(400).json({ error: event.message });
      return;
    }
    let result: string;
    try {
      result = await platform.events.apply(event);
    } catch (err) {
      count('unavailable');
      log.error({ err, eventId: event.id }, 'SIM platform event not applied; the platform is asked to retry');
      res.status(503).set('Retry-After', '30').json({ error: 'The registry cannot store this now. Nothing was applied; send it again.' });
      return;
    }
    count(result);
    res.json({ result });
  });
  return r;
}
