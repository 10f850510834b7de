import { Router } from 'express';
import { z } from 'zod';
import { type MqttIdentity, mayPublish, maySubscribe } from '../../broker/acl.ts';
import type { Metrics } from '../../monitor/metrics.ts';
import type { Logger } from '../../monitor/logger.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import type { LoginGuard } from '../../monitor/security/login-guard.ts';
import { authorize } from '../authz.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';

/**
 * Authentication and authorization for brokers that call out (LASTSEEN_BROKER_AUTH=http): EMQX's
 * HTTP authenticator and authorizer, VerneMQ webhooks, mosquitto-go-auth's HTTP backend. The
 * broker asks, lastseen answers from its registry with the same rules as its own broker
 * (broker/acl.ts), so a device logs in with its token and publishes only under its own topics.
 *
 *   POST /api/broker/authn {username, password, clientid?, peerhost?}
 *     device id + its token (SIM active)              → { result: "allow", is_superuser: false }
 *     customer:{id} + an API key of that customer      → { result: "allow", is_superuser: false }
 *     anything else, or a blocked address              → { result: "deny" }   (counted, logged)
 *   POST /api/broker/authz {username, topic, action: publish | subscribe}
 *     as broker/acl.ts decides for that identity       → { result: "allow" | "deny" }
 *     an unknown username                              → { result: "deny" }
 *
 * The answer is always 200 with a result, as EMQX expects; a bad request body is 400. The
 * caller is the broker, holding an API key with role admin (action `broker:auth`): the key is
 * the broker's, not a device's, and revoking it stops every answer at once.
 */
const authnBody = z.object({
  username: z.string().max(256).default(''),
  password: z.string().max(1024).default(''),
  clientid: z.string().max(256).optional(),
  peerhost: z.string().max(64).optional(),
});
const authzBody = z.object({
  username: z.string().max(256),
  topic: z.string().min(1).max(65535),
  action: z.enum(['publish', 'subscribe']),
});

export interface BrokerAuthDeps {
  registry: Registry;
  guard: LoginGuard;
  metrics: Metrics;
  log: Logger;
}

export function brokerAuthRoutes({ registry, guard, metrics, log }: BrokerAuthDeps): Router {
  const r = Router();

  r.post('/broker/authn', (req, res) => {
    check(req, 'broker:auth');
    const body = parse(authnBody, req.body);
    const source = body.peerhost ?? 'unknown';
    const deny = (reason: string) => {
      if (guard.fail(source, body.username)) log.warn({ source, username: body.username }, 'blocked after repeated failed logins');
      metrics.authFailures.inc({ interface: 'broker_http', reason });
      log.warn({ username: body.username, clientId: body.clientid, source, reason }, 'broker login refused');
      res.json({ result: 'deny' });
    };
    if (guard.isBlocked(source, body.username, body.password)) {
      metrics.authFailures.inc({ interface: 'broker_http', reason: 'source_blocked' });
      return void res.json({ result: 'deny' });
    }
    if (body.username.startsWith('customer:')) {
      const customerId = body.username.slice('customer:'.length);
      const principal = body.password ? registry.keys.principalFor(body.password) : null;
      if (!principal || authorize(principal, 'alert:subscribe', customerId) !== 'allow') return deny('bad_key');
    } else {
      const auth = registry.authenticateDevice(body.username, body.password);
      if (!auth.ok) return deny(auth.reason);
    }
    guard.succeeded(body.username, body.password);
    res.json({ result: 'allow', is_superuser: false });
  });

  r.post('/broker/authz', (req, res) => {
    check(req, 'broker:auth');
    const body = parse(authzBody, req.body);
    const who = identityOf(registry, body.username);
    const allowed = who !== null && (body.action === 'publish' ? mayPublish(who, body.topic) : maySubscribe(who, body.topic));
    if (!allowed) metrics.mqttDenied.inc({ action: body.action });
    res.json({ result: allowed ? 'allow' : 'deny' });
  });

  return r;
}

/** The identity a username stands for at the broker, as broker/broker.ts gives it at login. */
function identityOf(registry: Registry, username: string): MqttIdentity | null {
  if (username.startsWith('customer:')) {
    const customerId = username.slice('customer:'.length);
    return registry.getCustomer(customerId) ? { kind: 'customer', customerId } : null;
  }
  const d = registry.getDevice(username);
  if (!d || d.simState === 'deactivated' || d.simState === 'retired') return null;
  return { kind: 'device', deviceId: d.id, customerId: d.customerId };
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new HttpError(
      400,
      `The broker's request is not one lastseen understands: ${r.error.issues[0]?.message ?? 'invalid'}.`,
      'invalid_body',
    );
  return r.data;
}
