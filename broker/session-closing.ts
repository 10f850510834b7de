import type { Aedes } from 'aedes';
import type { CredentialChange } from '../monitor/registry/credential-changes.ts';
import { endsSession } from '../monitor/security/session-revocation.ts';
import type { LastseenClient } from './lastseen-client.ts';

/**
 * What `closeSessions` needs of a broker's own bookkeeping: the sessions opened with an API key
 * (MQTT `customer:` logins, a few hundred at most), the clients between registration and
 * clientReady, and how many ready sessions each device has. Scanning every client instead costs
 * ~1.2 s at a million connected devices (Object.values over aedes's client table, measured on
 * Node 20), a stall of the whole broker.
 */
export interface RevocableSessions {
  keySessions: Set<LastseenClient>;
  connecting: Set<LastseenClient>;
  readySessions: (deviceId: string) => number;
}

const revocable = new WeakMap<Aedes, RevocableSessions>();

/** Called once by createBroker with the broker's own bookkeeping. */
export function trackRevocable(aedes: Aedes, own: RevocableSessions): void {
  revocable.set(aedes, own);
}

/** Hold a `customer:` session for revocation; closed ones are dropped here and when revoking. */
export function rememberKeySession(set: Set<LastseenClient>, client: LastseenClient): void {
  if (set.size >= 1_000) for (const c of set) if (c.closed) set.delete(c);
  set.add(client);
}

/**
 * Close every MQTT session a credential change ends (../monitor/security/session-revocation.ts);
 * returns how many were closed.
 *
 *   change                  sessions looked at
 *   ----------------------  ---------------------------------------------------------------
 *   key_revoked             the key sessions
 *   customer_deleted        the key sessions (a customer with devices cannot be deleted)
 *   device_token_changed,   the client whose id is the device id (the usual choice), the
 *   sim_blocked             clients still connecting, and all clients only when those did not
 *                           account for every ready session of the device
 */
export function closeSessions(aedes: Aedes, change: CredentialChange): number {
  const own = revocable.get(aedes);
  if (!own) return 0;
  const clients = (aedes as unknown as { clients: Record<string, LastseenClient> }).clients;
  let n = 0;
  const end = (client: LastseenClient) => {
    client.lastseenEndReason = 'credentials revoked';
    client.close();
    n++;
  };
  // People sign in to the web, not to MQTT: their changes end no MQTT session.
  if (change.kind === 'user_removed' || change.kind === 'session_ended') return 0;
  if (change.kind === 'key_revoked' || change.kind === 'customer_deleted') {
    for (const client of own.keySessions) {
      const who = client.lastseen;
      if (client.closed || who?.kind !== 'customer') own.keySessions.delete(client);
      else if (endsSession(change, { keyId: client.lastseenKeyId, customerId: who.customerId })) {
        own.keySessions.delete(client);
        end(client);
      }
    }
    return n;
  }
  const ends = (client: LastseenClient | undefined): client is LastseenClient => {
    const who = client?.lastseen;
    return who?.kind === 'device' && !client!.closed && endsSession(change, { deviceId: who.deviceId, customerId: who.customerId });
  };
  const ready = own.readySessions(change.deviceId);
  let readyEnded = 0;
  const named = clients[change.deviceId];
  if (ends(named)) {
    if (!own.connecting.has(named)) readyEnded++;
    end(named);
  }
  for (const client of own.connecting) if (ends(client)) end(client);
  if (readyEnded >= ready) return n;
  for (const client of Object.values(clients)) if (ends(client)) end(client);
  return n;
}
