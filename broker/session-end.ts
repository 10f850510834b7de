import type { Aedes, Client } from 'aedes';

/**
 * Calls `ended(client)` exactly once for every client aedes registered, when its session ends.
 *
 * aedes's own `clientDisconnect` is not enough: it fires only while `broker.clients[id]` is set,
 * and a client that closes while a new connection with the same client id registers deletes the
 * newcomer's entry on its way out (the newcomer's `registerClient` finds the old client already
 * `closed`, so it does not wait for it). The newcomer then ends without a `clientDisconnect`, and
 * a device reconnecting quickly after the broker closed it would stay "connected" for ever.
 * Its connection stream's `close` cannot be missed, so it is the fallback:
 *
 *   signal                                 when                               used
 *   -------------------------------------  ---------------------------------  -----------------
 *   clientDisconnect                       aedes unregistered the client      first, if it comes
 *   the client's stream emits `close`      the socket is destroyed (always)   otherwise
 *
 * `clientDisconnect` comes first when it comes (aedes destroys the stream after emitting it), so
 * the end reason aedes left on the client (`_disconnected`, errors) is the same either way.
 */
export function onSessionEnd(aedes: Aedes, ended: (client: Client) => void): void {
  const open = new WeakSet<Client>();
  const end = (client: Client) => {
    if (!open.delete(client)) return;
    ended(client);
  };
  aedes.on('client', (client: Client) => {
    open.add(client);
    (client as unknown as { conn: NodeJS.EventEmitter }).conn.once('close', () => end(client));
  });
  aedes.on('clientDisconnect', end);
}
