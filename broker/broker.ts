import { Aedes, type AedesOptions, type Client } from 'aedes';
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../monitor/clock.ts';
import type { Ingest } from '../monitor/ingest/ingest.ts';
import type { LivenessTracker } from '../monitor/liveness/tracker.ts';
import type { Logger } from '../monitor/logger.ts';
import type { Metrics } from '../monitor/metrics.ts';
import { hashToken } from '../monitor/registry/tokens.ts';
import type { CommitBarrier } from '../monitor/ingest/commit-barrier.ts';
import { MAX_HEARTBEAT_BYTES } from '../monitor/ingest/heartbeat.ts';
import { HeartbeatPacing } from '../monitor/ingest/pacing.ts';
import type { RateLimiter } from '../monitor/security/rate-limiter.ts';
import type { LoginGuard } from '../monitor/security/login-guard.ts';
import { authorize } from '../web/authz.ts';
import { mayPublish, maySubscribe } from './acl.ts';
import { clientIdProblem } from './client-id.ts';
import { guardConnections } from './connection-guard.ts';
import { type FramePacket, readHeartbeatFrames } from './heartbeat-frames.ts';
import { canWrite, PubackBatch, writePuback } from './puback.ts';
import type { LastseenClient } from './lastseen-client.ts';
import { presenceMessage, presenceReason, type PresenceEvent } from './presence.ts';
import { watchSessions } from './session-end.ts';
import type { BrokerLogins } from './registry-reader.ts';
import { heartbeatTopic, HeartbeatRouting } from './routing.ts';
import { rememberKeySession, trackRevocable } from './session-closing.ts';
import { topicProblem } from './topic-names.ts';

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3. */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/** A QoS 1 heartbeat waiting for its device's budget: its PUBACK unwritten, its socket unread. */
interface HeldPublish {
  client: LastseenClient;
  packet: HeartbeatPacket;
  done: (err: Error | null) => void;
}

/** The fields of an incoming PUBLISH (or a Last Will, which has no `cmd`) the heartbeat path reads. */
interface HeartbeatPacket {
  cmd?: string;
  payload: Buffer | string;
  qos: number;
  retain?: boolean;
  messageId?: number;
}

export interface BrokerDeps {
  /** Who may log in: the registry (all-in-one) or its file read by `lastseen broker` (registry-reader.ts). */
  registry: BrokerLogins;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  guard: LoginGuard;
  /**
   * All-in-one: the monitor in this process takes the heartbeats (`ingest`, PUBACK held by
   * `barrier` until durable) and the connection events (`liveness`). Without them (`split`),
   * heartbeats are routed to the monitor's subscription and connections announced as presence events.
   */
  ingest?: Ingest;
  liveness?: LivenessTracker;
  /** Holds QoS 1 PUBACKs until the heartbeat is durable (store or spool). */
  barrier?: CommitBarrier;
  split?: SplitBroker;
  /** Connections per source address that may wait to log in at once (connection-guard.ts); default 1000. */
  preauthPerAddress?: number;
  /** The per-device heartbeat budget; without it heartbeats are not paced. */
  limiter?: RateLimiter;
  /** QoS 1 heartbeats one device may hold waiting for that budget (pacing.ts); default 4 096. */
  heldLimit?: number;
}

/**
 * `lastseen broker`: the broker alone, its monitor in another process logged in as `monitor`.
 *
 *   heartbeat QoS 1 of a device   published to subscribers (the monitor's persistent session
 *                                 queues it while the monitor is away), then PUBACK to the device
 *   device's first/last session   presence event (presence.ts) on `$SYS/brokers/{node}/clients/…`
 *   login as monitor.username     the monitor: password monitor.token, client id monitor.clientId
 *                                 only; that client id is refused to everyone else (no takeover)
 */
export interface SplitBroker {
  /** The `{node}` of the presence topics. */
  node: string;
  monitor: { username: string; token: string; clientId: string };
}

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(hashToken(a), 'hex');
  const y = Buffer.from(hashToken(b), 'hex');
  return timingSafeEqual(x, y);
}

/** The client's address: the TCP socket's, or for MQTT over WebSocket the HTTP request's. */
function sourceOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress ?? client.req?.socket?.remoteAddress ?? 'unknown';
}

function authError(message: string, returnCode: number) {
  return Object.assign(new Error(message), { returnCode });
}

/**
 * The embedded aedes broker with lastseen's login, topic ACL and connection events.
 * Heartbeats are ingested in `authorizePublish`, before aedes acknowledges a QoS 1 publish, so
 * the ingest path can later hold the PUBACK until the heartbeat is durable.
 */
export async function createBroker(deps: BrokerDeps): Promise<Aedes> {
  const { registry, metrics, log, clock, guard, split } = deps;
  const local =
    deps.ingest && deps.liveness && deps.barrier ? { ingest: deps.ingest, liveness: deps.liveness, barrier: deps.barrier } : null;
  if (!local && !split) throw new Error('createBroker: give the monitor (ingest, liveness, barrier) or the split options');
  // Sessions per device: a device counts as connected while any of its sessions is.
  const sessions = new Map<string, number>();
  // The PUBACKs of one commit, one write per socket (puback.ts).
  const pubacks = new PubackBatch();
  if (local) local.barrier.onBatchEnd(() => pubacks.end());
  const keySessions = new Set<LastseenClient>();
  const routing = new HeartbeatRouting();

  /**
   * A device's heartbeat, paced by its budget (monitor/ingest/pacing.ts):
   *
   *   within budget, nothing held before it   take it now (below); a QoS 1 one beyond 128 taken in
   *                                           this event-loop turn waits for the next (held, as below)
   *   over budget, QoS 1 publish              held: no PUBACK, no further read of this socket (aedes
   *                                           parses the next read only when `done` is called), until
   *                                           the budget refills; then taken and acknowledged
   *   over budget, device holds heldLimit     connection closed without PUBACK, counted; the device's
   *                                           own retry carries it and everything held behind it
   *   over budget, QoS 0 (never acknowledged) refused `rate_limited`, counted
   *   larger than a heartbeat may be          taken now: it is refused `too_large` without a budget
   *   a Last Will                             taken now: one per connection, and its client is gone
   */
  const pacing =
    local && deps.limiter
      ? new HeartbeatPacing<HeldPublish>({
          limiter: deps.limiter,
          clock,
          metrics,
          log,
          heldLimit: deps.heldLimit,
          bytesOf: (held) => held.packet.payload.length,
          release: (deviceId, held) => {
            // Closed since it was held (credentials revoked, keepalive, the device gave up): never
            // acknowledged, so not taken either — a revoked device's heartbeats do not land late.
            if (held.client.closed) {
              metrics.heartbeatsUnacknowledged.inc({ reason: 'connection_closed' });
              return;
            }
            // The socket went unread because we chose not to read it: that is not the client's
            // silence, so its keepalive (1.5 × the CONNECT's) restarts here (aedes refreshes it per packet read).
            (held.client as unknown as { _keepaliveTimer?: NodeJS.Timeout | null })._keepaliveTimer?.refresh();
            take(held.client, deviceId, held.packet, held.done);
          },
        })
      : null;

  const heartbeat = (client: LastseenClient, deviceId: string, packet: HeartbeatPacket, done: (err: Error | null) => void) => {
    if (!local) return route(client, packet, done);
    if (client.lastseenHeldOverflow === true && packet.cmd === 'publish') {
      // Read from the same socket as the one that overflowed, before aedes closed it: not taken either.
      metrics.heartbeatsUnacknowledged.inc({ reason: 'held_limit' });
      done(new Error('connection closing: too many heartbeats waiting for the per-device budget'));
      return;
    }
    if (
      pacing === null ||
      packet.cmd !== 'publish' ||
      packet.payload.length > MAX_HEARTBEAT_BYTES ||
      pacing.pass(deviceId, packet.qos > 0)
    ) {
      take(client, deviceId, packet, done);
      return;
    }
    if (packet.qos === 0) {
      local.ingest.rateLimited(deviceId);
      done(null);
      return;
    }
    if (pacing.hold(deviceId, { client, packet, done }) === 'held') return;
    // MQTT 3.1.1 has no negative PUBACK: an error here makes aedes close the connection; the
    // heartbeats this connection still holds are let go, unacknowledged, when its session ends.
    metrics.mqttRefused.inc({ reason: 'held_limit' });
    client.lastseenHeldOverflow = true;
    client.lastseenEndReason = 'too many heartbeats waiting for the per-device budget';
    done(new Error(`device ${deviceId} holds ${pacing.heldOf(deviceId)} heartbeats waiting for the per-device budget`));
  };

  /**
   * Ingest a heartbeat, then let aedes acknowledge it. A rejected heartbeat is
   * counted and logged by ingest; the connection stays up (docs/contract.md §4). The PUBACK (PUBREC) is
   * written after `done` (by aedes) or just before it (acknowledge below): for an accepted QoS 1
   * (2) heartbeat, only once it is durable. The device retransmits anything unacknowledged after
   * a crash.
   */
  const take = (client: LastseenClient, deviceId: string, packet: HeartbeatPacket, done: (err: Error | null) => void) => {
    const { ingest, barrier } = local!;
    const result = ingest.heartbeat(deviceId, packet.payload as Buffer);
    if (packet.qos > 0 && result.ok && !result.duplicate) {
      barrier.wait((err) => {
        if (err) {
          log.error({ err, deviceId }, 'heartbeat not durable; PUBACK withheld, the device will retransmit');
          // Withholding the PUBACK on failure means closing the session (MQTT 3.1.1 has no NACK).
          done(err);
          return;
        }
        acknowledge(client, deviceId, packet, done, pubacks);
      });
      return;
    }
    acknowledge(client, deviceId, packet, done, null);
  };

  /**
   * Let aedes go on with the publish: for an unrouted QoS 1 heartbeat of a live session the
   * PUBACK is written here (puback.ts, its table; corked with the rest of its commit's when
   * `batch` is given, sent at the batch's end) and aedes sees a QoS 0 publish with nothing
   * left to do; otherwise aedes acknowledges (and routes) as usual.
   */
  const acknowledge = (
    client: LastseenClient,
    deviceId: string,
    packet: HeartbeatPacket,
    done: (err: Error | null) => void,
    batch: PubackBatch | null,
  ) => {
    if (
      packet.qos === 1 &&
      packet.cmd === 'publish' &&
      typeof packet.messageId === 'number' &&
      packet.retain !== true &&
      !routing.mustRoute(deviceId) &&
      canWrite(client)
    ) {
      // Before the PUBACK's callback: aedes's QoS 0 branch must not acknowledge it again.
      packet.qos = 0;
      writePuback(client, packet.messageId, done, batch);
      return;
    }
    done(null);
  };

  /**
   * `lastseen broker`: a heartbeat goes to its subscribers (the monitor). aedes 1.x writes a
   * QoS 1 PUBACK before it hands the message to the subscribers' sessions; here the order is the
   * other way round, so a PUBACK means "queued for the monitor's session" (in this process's
   * memory: see README, Deployments, for what a broker restart loses). aedes then sees a QoS 0
   * publish that `routedHere` answers at once.
   */
  const routedHere = new WeakSet<object>();
  const route = (client: LastseenClient, packet: HeartbeatPacket, done: (err: Error | null) => void) => {
    if (
      packet.qos !== 1 ||
      packet.cmd !== 'publish' ||
      typeof packet.messageId !== 'number' ||
      packet.retain === true ||
      !canWrite(client)
    ) {
      return done(null);
    }
    const messageId = packet.messageId;
    const topic = (packet as { topic?: string }).topic ?? client.lastseenHeartbeatTopic!;
    aedes.publish({ cmd: 'publish', topic, payload: packet.payload as Buffer, qos: 1, retain: false, dup: false }, (err) => {
      if (err) return done(err);
      routedHere.add(packet);
      packet.qos = 0;
      writePuback(client, messageId, done);
    });
  };

  /**
   * What aedes's publish handler does once authorizePublish said yes, for the heartbeat frames
   * read without it (heartbeat-frames.ts): a QoS 1 publish still marked QoS 1 (nobody wrote its
   * PUBACK: its client is not writable, or it must be routed) gets aedes's PUBACK or its
   * "connection closed", then every publish goes to `broker.publish` (answered at once by the
   * routing filters below when nobody is to receive it).
   */
  const finishPublish = (client: LastseenClient, packet: FramePacket, done: (err?: Error | null) => void) => {
    // No named closure per message here: tsx (esbuild's keepNames) wraps each one created in
    // `__name`, an Object.defineProperty per call (~1 µs a heartbeat in the P1 profile).
    const broker = aedes as unknown as { publish: PublishFn };
    if (packet.qos !== 1) return broker.publish(packet, client, done);
    if (!canWrite(client)) return void setImmediate(done, new Error('connection closed'));
    writePuback(client, packet.messageId ?? 0, (err) => (err ? done(err) : broker.publish(packet, client, done)));
  };

  /** A device's first session opened, or its last one ended: liveness here, or a presence event for the monitor. */
  const announce = (e: PresenceEvent) => {
    if (local) {
      if (e.kind === 'connected') local.liveness.connection(e.username, 'connected', e.at);
      else if (e.reason === 'normal') local.liveness.connection(e.username, 'disconnected', e.at);
      else local.liveness.connection(e.username, 'lost', e.at, endReasons.get(e) ?? 'connection closed without DISCONNECT');
      return;
    }
    const { topic, payload } = presenceMessage(split!.node, e);
    aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err) => {
      if (err) log.error({ err, topic }, 'presence event not published');
    });
  };
  /** The text behind a presence reason, for liveness (the all-in-one's "why it was lost"). */
  const endReasons = new WeakMap<PresenceEvent, string>();

  /** A client id must belong to the identity that logged in (client-id.ts); refusals are counted and logged. */
  const clientIdAllowed = (client: LastseenClient, owner: string): boolean => {
    const problem = clientIdProblem(owner, client.lastseenRequestedId ?? client.id, client.clean);
    if (problem === null) return true;
    metrics.authFailures.inc({ interface: 'mqtt', reason: 'client_id' });
    log.warn(
      { username: owner, clientId: client.lastseenRequestedId, source: sourceOf(client), problem },
      'MQTT login refused: client id of another identity',
    );
    return false;
  };

  /** Topic names and filters with U+0000 or ill-formed UTF-8 (topic-names.ts) close the connection. */
  const badTopic = (client: LastseenClient | null, topic: string, action: string): Error | null => {
    const problem = topicProblem(topic);
    if (problem === null) return null;
    metrics.mqttRefused.inc({ reason: 'invalid_topic' });
    log.warn({ clientId: client?.id, topic, problem, action }, 'MQTT topic refused: U+0000 or ill-formed UTF-8');
    return new Error(`${action} topic refused: ${problem}`);
  };

  const opts: AedesOptions = {
    // Without it one subscriber that stops reading stalls delivery to everyone (aedes docs).
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    heartbeatInterval: 60_000,

    preConnect(client, packet, done) {
      (client as LastseenClient).lastseenRequestedId = packet.clientId;
      done(null, true);
    },

    authenticate(client, username, password, done) {
      const c = client as LastseenClient;
      const user = username ?? '';
      const pass = password?.toString('utf8') ?? '';
      const source = sourceOf(client);
      if (guard.isBlocked(source, user, pass)) {
        metrics.authFailures.inc({ interface: 'mqtt', reason: 'source_blocked' });
        return done(authError('too many failed logins from this address', NOT_AUTHORIZED), null);
      }
      const failed = (reason: string) => {
        if (guard.fail(source, user)) log.warn({ source, username: user }, 'blocked after repeated failed logins');
        metrics.authFailures.inc({ interface: 'mqtt', reason });
      };
      if (split) {
        const m = split.monitor;
        const requested = c.lastseenRequestedId ?? client.id;
        if (user === m.username) {
          if (!sameSecret(pass, m.token)) {
            failed('bad_monitor_token');
            log.warn({ username: user, source }, 'MQTT login refused: wrong monitor token (LASTSEEN_MONITOR_TOKEN)');
            return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), null);
          }
          if (requested !== m.clientId) {
            metrics.authFailures.inc({ interface: 'mqtt', reason: 'client_id' });
            log.warn({ clientId: requested, want: m.clientId }, 'MQTT login refused: the monitor must use LASTSEEN_BROKER_CLIENT_ID');
            return done(authError('identifier rejected', IDENTIFIER_REJECTED), null);
          }
          c.lastseen = { kind: 'monitor' };
          guard.succeeded(user, pass);
          return done(null, true);
        }
        // The monitor's session (and the heartbeats queued in it) is no one else's to take over.
        if (requested === m.clientId) {
          metrics.authFailures.inc({ interface: 'mqtt', reason: 'client_id' });
          log.warn({ username: user, clientId: requested, source }, "MQTT login refused: the monitor's client id");
          return done(authError('identifier rejected', IDENTIFIER_REJECTED), null);
        }
        // Kept to check the session again when the registry changes (registry-watch.ts).
        c.lastseenSecretHash = hashToken(pass);
      }
      if (user.startsWith('customer:')) {
        const customerId = user.slice('customer:'.length);
        const principal = pass ? registry.keys.principalFor(pass) : null;
        if (principal && authorize(principal, 'alert:subscribe', customerId) === 'allow') {
          if (!clientIdAllowed(c, user)) return done(authError('identifier rejected', IDENTIFIER_REJECTED), null);
          c.lastseen = { kind: 'customer', customerId };
          c.lastseenKeyId = principal.keyId;
          rememberKeySession(keySessions, c);
          guard.succeeded(user, pass);
          return done(null, true);
        }
        failed('bad_key');
        log.warn({ username: user, clientId: client.id }, 'MQTT login refused: wrong API key for customer');
        return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), null);
      }
      const auth = registry.authenticateDevice(user, pass);
      if (!auth.ok) {
        failed(auth.reason);
        log.warn({ username: user, clientId: client.id, reason: auth.reason }, 'MQTT login refused');
        const code = auth.reason === 'bad_token' ? BAD_USERNAME_OR_PASSWORD : NOT_AUTHORIZED;
        return done(authError(auth.reason, code), null);
      }
      if (!clientIdAllowed(c, auth.device.id)) return done(authError('identifier rejected', IDENTIFIER_REJECTED), null);
      guard.succeeded(user, pass);
      c.lastseen = { kind: 'device', deviceId: auth.device.id, customerId: auth.device.customerId };
      c.lastseenHeartbeatTopic = heartbeatTopic(auth.device.id);
      const deviceId = auth.device.id;
      readHeartbeatFrames(c, {
        topic: c.lastseenHeartbeatTopic,
        take: (packet, done) => heartbeat(c, deviceId, packet, done),
        finish: (packet, done) => finishPublish(c, packet, done),
      });
      done(null, true);
    },

    authorizePublish(client, packet, done) {
      const c = client as LastseenClient | null;
      // The hot path: a device publishing to its own heartbeat topic (mayPublish holds for it).
      if (c?.lastseenHeartbeatTopic !== undefined && packet.topic === c.lastseenHeartbeatTopic) {
        return heartbeat(c, (c.lastseen as { deviceId: string }).deviceId, packet as HeartbeatPacket, done);
      }
      const invalid = badTopic(c, packet.topic, 'publish');
      if (invalid) return done(invalid);
      const who = c?.lastseen;
      if (!who || !mayPublish(who, packet.topic)) {
        metrics.mqttDenied.inc({ action: 'publish' });
        log.warn({ clientId: client?.id, topic: packet.topic }, 'MQTT publish refused by ACL');
        // MQTT 3.1.1 has no negative PUBACK: aedes closes the offender's connection.
        return done(new Error(`not allowed to publish to ${packet.topic}`));
      }
      // Any other topic of its own (status, …): routed by aedes as published.
      done(null);
    },

    authorizeSubscribe(client, sub, done) {
      const invalid = badTopic(client as LastseenClient, sub.topic, 'subscribe');
      // MQTT-1.5.3-1: ill-formed UTF-8 closes the connection (aedes does so on an error).
      if (invalid) return done(invalid, null);
      const who = (client as LastseenClient).lastseen;
      if (!who || !maySubscribe(who, sub.topic)) {
        metrics.mqttDenied.inc({ action: 'subscribe' });
        log.warn({ clientId: client.id, topic: sub.topic }, 'MQTT subscription refused by ACL');
        // A null subscription is a SUBACK failure (0x80); the client stays connected.
        return done(null, null);
      }
      if (who.kind === 'device') routing.subscribed(who.deviceId, sub.topic);
      done(null, sub);
    },
  };

  const aedes = await Aedes.createBroker(opts);
  // Registered but not yet counted in `sessions` (that happens when ready, after the CONNACK).
  const connecting = new Set<LastseenClient>();
  // Every registered client leaves it when ready or at the end of its session (watchSessions below).
  aedes.on('client', (client: LastseenClient) => void connecting.add(client));
  trackRevocable(aedes, { keySessions, connecting, readySessions: (id) => sessions.get(id) ?? 0 });
  guardConnections(aedes, { perAddress: deps.preauthPerAddress ?? 1000, metrics, log, clock });
  if (local) skipUnwatchedHeartbeats(aedes, routing);
  else skipRoutedHeartbeats(aedes, routedHere);

  aedes.on('clientError', (client: LastseenClient, err: Error) => {
    client.lastseenEndReason ??= err.message;
  });
  aedes.on('keepaliveTimeout', (client: LastseenClient) => {
    client.lastseenEndReason = 'keepalive timeout';
  });

  // Only sessions that got their CONNACK are counted, and each is uncounted once when it ends
  // (session-end.ts pairs the two, also for a client closed before aedes calls it ready).
  watchSessions(aedes, {
    ready: (client: LastseenClient) => {
      connecting.delete(client);
      metrics.mqttConnections.inc();
      const who = client.lastseen;
      if (who?.kind !== 'device') return;
      const n = (sessions.get(who.deviceId) ?? 0) + 1;
      sessions.set(who.deviceId, n);
      if (n === 1)
        announce({
          kind: 'connected',
          clientId: client.id,
          username: who.deviceId,
          at: clock.now(),
          ipaddress: sourceOf(client),
          keepalive: (client as unknown as { keepalive?: number }).keepalive ?? 0,
          cleanStart: client.clean,
        });
    },
    ended: (client: LastseenClient, wasReady) => {
      connecting.delete(client);
      const who = client.lastseen;
      if (who?.kind === 'device' && pacing !== null && pacing.heldOf(who.deviceId) > 0) {
        pacing.discard(who.deviceId, (held) => held.client === client, client.lastseenHeldOverflow ? 'held_limit' : 'connection_closed');
      }
      if (!wasReady) return;
      metrics.mqttConnections.dec();
      if (who?.kind !== 'device') return;
      const n = (sessions.get(who.deviceId) ?? 1) - 1;
      if (n > 0) {
        sessions.set(who.deviceId, n);
        return;
      }
      sessions.delete(who.deviceId);
      // aedes sets _disconnected only when a DISCONNECT packet arrived: a clean goodbye.
      const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true;
      const e: PresenceEvent = {
        kind: 'disconnected',
        clientId: client.id,
        username: who.deviceId,
        at: clock.now(),
        ipaddress: sourceOf(client),
        reason: presenceReason(clean, client.lastseenEndReason),
      };
      if (!clean) endReasons.set(e, client.lastseenEndReason ?? 'connection closed without DISCONNECT');
      announce(e);
    },
  });

  aedes.on('connectionError', (client: Client, err: Error) => {
    log.debug({ clientId: client?.id, err: err.message }, 'MQTT connection error before login');
  });

  if (pacing !== null) aedes.once('closed', () => pacing.stop());
  return aedes;
}

type PublishFn = (packet: { topic: string; retain?: boolean }, client: LastseenClient | null, done?: (err?: Error | null) => void) => void;

/**
 * A device's heartbeat has been ingested in authorizePublish; aedes's own publish (packet copy,
 * offline-subscriber lookup, mqemitter fan-out, `publish` event) runs only when routing.ts says
 * someone may receive it. aedes calls `broker.publish(packet, client, done)` after the PUBACK.
 */
function skipUnwatchedHeartbeats(aedes: Aedes, routing: HeartbeatRouting): void {
  const broker = aedes as unknown as { publish: PublishFn };
  const publish = broker.publish;
  broker.publish = function (this: unknown, packet, client, done) {
    if (
      client !== null &&
      typeof client === 'object' &&
      client.lastseenHeartbeatTopic !== undefined &&
      packet.retain !== true &&
      packet.topic === client.lastseenHeartbeatTopic &&
      !routing.mustRoute((client.lastseen as { deviceId: string }).deviceId)
    ) {
      done?.(null);
      return;
    }
    return publish.call(this, packet, client, done);
  };
}

/** `lastseen broker`: the heartbeats `route` in createBroker already published are not published again. */
function skipRoutedHeartbeats(aedes: Aedes, routed: WeakSet<object>): void {
  const broker = aedes as unknown as { publish: PublishFn };
  const publish = broker.publish;
  broker.publish = function (this: unknown, packet, client, done) {
    if (routed.has(packet)) {
      done?.(null);
      return;
    }
    return publish.call(this, packet, client, done);
  };
}

/** Close the broker and all its client connections. */
export function closeBroker(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}
