import type { Aedes } from 'aedes';
import type { Logger } from '../monitor/logger.ts';
import type { LastseenClient } from './lastseen-client.ts';
import type { RegistryReader } from './registry-reader.ts';

/**
 * `lastseen broker` learns of revocations from the registry file (registry-reader.ts), not from
 * the monitor: whether the monitor is up or not, a revoked token, a deactivated SIM or a revoked
 * customer key ends its sessions within `everyMs` of the commit (plus one pass over the clients).
 *
 *   each tick (every `everyMs`)        what happens
 *   ---------------------------------  --------------------------------------------------------
 *   registry not committed to since    nothing (one PRAGMA read)
 *   committed to                       every device and customer session checked again against
 *                                      the secret it logged in with; those no longer valid are
 *                                      closed ("credentials revoked", presence reason `kicked`)
 *
 * The pass costs a primary-key read per session (~3 µs): ~30 ms at 10 000 connected devices,
 * once per commit of the monitor's registry (device changes, state snapshots), at most once a tick.
 */
export function watchRegistry(aedes: Aedes, reader: RegistryReader, log: Logger, everyMs = 500): () => void {
  const tick = () => {
    if (!reader.changed()) return;
    const clients = (aedes as unknown as { clients: Record<string, LastseenClient> }).clients;
    let closed = 0;
    for (const client of Object.values(clients)) {
      const who = client.lastseen;
      const hash = client.lastseenSecretHash;
      if (!who || who.kind === 'monitor' || hash === undefined || client.closed) continue;
      const valid = reader.stillValid(who.kind === 'device' ? { kind: 'device', deviceId: who.deviceId } : { kind: 'customer' }, hash);
      if (valid) continue;
      client.lastseenEndReason = 'credentials revoked';
      client.close();
      closed++;
      log.info(
        { clientId: client.id, username: who.kind === 'device' ? who.deviceId : `customer:${who.customerId}` },
        'MQTT session closed: credentials revoked',
      );
    }
    if (closed > 0) log.info({ closed }, 'sessions closed after a registry change');
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch (err) {
      log.error({ err }, 'registry check failed; retried at the next tick');
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
