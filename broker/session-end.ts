import type { Aedes, Client } from 'aedes';

/** What a broker does when a session becomes ready and when it ends (see `watchSessions`). */
export interface SessionHooks {
  /** The session got its CONNACK and has not ended: called at most once, always before `ended`. */
  ready(client: Client): void;
  /** The session ended; `wasReady` says whether `ready` was called for it. Called exactly once. */
  ended(client: Client, wasReady: boolean): void;
}

/**
 * Pairs the start and the end of every session aedes registered, so that a count of ready
 * sessions goes up and down exactly once for each (broker.ts counts a device's sessions with it).
 *
 * aedes's own events do not pair:
 *   - `clientDisconnect` fires only while `broker.clients[id]` is set, and a client that closes
 *     while a new connection with the same client id registers deletes the newcomer's entry on
 *     its way out (the newcomer's `registerClient` finds the old client already `closed`, so it
 *     does not wait for it). The newcomer then ends without a `clientDisconnect`. Its connection
 *     stream's `close` cannot be missed, so it is the fallback.
 *   - `clientReady` comes after the CONNACK and after aedes has restored the session's
 *     subscriptions and queued messages; a client that publishes right after its CONNACK can be
 *     closed (ACL, limits) before that, and `clientReady` still fires, after its end. Counted, it
 *     would never be uncounted, and the device would stay "connected" for ever.
 *
 *   aedes signal                         when                              here
 *   -----------------------------------  --------------------------------  ---------------------------
 *   client                               registered (after authenticate)   the session is open
 *   clientReady, session open            CONNACK sent, session restored    ready
 *   clientReady, session already ended   the client was closed meanwhile   ignored
 *   clientDisconnect                     aedes unregistered the client     ended, if it comes first
 *   the client's stream emits `close`    the socket is destroyed (always)  ended, otherwise
 *
 * `clientDisconnect` comes first when it comes (aedes destroys the stream after emitting it), so
 * the end reason aedes left on the client (`_disconnected`, errors) is the same either way.
 */
export function watchSessions(aedes: Aedes, hooks: SessionHooks): void {
  const open = new WeakSet<Client>();
  const ready = new WeakSet<Client>();
  const end = (client: Client) => {
    if (!open.delete(client)) return;
    hooks.ended(client, ready.delete(client));
  };
  aedes.on('client', (client: Client) => {
    open.add(client);
    (client as unknown as { conn: NodeJS.EventEmitter }).conn.once('close', () => end(client));
  });
  aedes.on('clientReady', (client: Client) => {
    if (!open.has(client) || ready.has(client)) return;
    ready.add(client);
    hooks.ready(client);
  });
  aedes.on('clientDisconnect', end);
}
