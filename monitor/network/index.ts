import type { Registry as PromRegistry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { AccountingServer } from './accounting-server.ts';
import { radiusMetrics } from './metrics.ts';
import { nasSecrets } from './nas-secrets.ts';
import { SessionBook, type LivenessFeed, type SessionView } from './session-book.ts';
import { SessionStore } from './session-store.ts';
import type { SimLookup } from './sim-match.ts';
import type { SimSession } from './session-state.ts';

export type { SessionView } from './session-book.ts';
export type { SimSession } from './session-state.ts';

export interface NetworkFeatureDeps {
  /** The RADIUS accounting port (0 = a free one), or null for no listener (sessions from a SIM platform only). */
  port: number | null;
  /** Where the session book is kept across restarts (`sessions.db`), or null to keep it in memory only. */
  sessionsFile: string | null;
  host: string;
  secret: string | null;
  clients: Record<string, string>;
  sims: SimLookup;
  liveness: LivenessFeed;
  clock: Clock;
  log: Logger;
  metrics: PromRegistry;
}

/**
 * "What the network knows": RADIUS accounting from the packet gateway (and the sessions a SIM
 * platform reports) joined to devices. Constructing only assigns; `start` restores the saved
 * sessions and binds the UDP port, `stop` closes it and saves the sessions.
 */
export function createNetworkFeature(d: NetworkFeatureDeps) {
  const book = new SessionBook(d.liveness);
  const saved = d.sessionsFile ? new SessionStore(d.sessionsFile, book, d.log) : null;
  const server = new AccountingServer({
    secretFor: nasSecrets(d.clients, d.secret),
    sims: d.sims,
    book,
    clock: d.clock,
    log: d.log,
    metrics: radiusMetrics(d.metrics),
  });
  let port: number | null = null;
  return {
    book,
    server,
    async start(): Promise<number | null> {
      saved?.start();
      if (d.port === null) return null;
      port = await server.listen(d.port, d.host);
      d.log.info({ radiusPort: port }, 'RADIUS accounting is listening');
      return port;
    },
    async stop(): Promise<void> {
      if (port !== null) await server.close();
      saved?.stop();
    },
    get port() {
      return port;
    },
    /** The device's SIM session as the API shows it. */
    sessionView: (id: string): SessionView => book.view(id, d.clock.now()),
    /** The raw state, for diagnosis (pure: it gets a copy). */
    sessionOf: (id: string): SimSession | null => {
      const s = book.get(id);
      return s ? structuredClone(s) : null;
    },
    /** Other SIMs that lost carrier on the same cell around this one's Stop (./session-book.ts). */
    lostCarrierNeighbours: (id: string, windowMs: number) => book.lostCarrierNeighbours(id, windowMs),
  };
}
export type NetworkFeature = ReturnType<typeof createNetworkFeature>;
