/**
 * The real all-in-one (startTestSystem) with the map wired in front of it, the way the
 * composition root is asked to wire it: the map router under /api, socket.io live events,
 * and web/dist served at /. Every other request goes on to the system's own app.
 * As soon as bin/start.ts mounts the map itself (and exposes its socket.io server as `io`),
 * the tests run against system.url unchanged.
 */

import express from 'express';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Server as SocketServer } from 'socket.io';
import { ManualClock } from '../../../monitor/clock.ts';
import { buildWeb } from '../../../web/build.ts';
import { attachMapLive } from '../../../web/map/live.ts';
import { createMapRouter } from '../../../web/map/router.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

const DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

export interface MapSystem {
  url: string;
  system: TestSystem;
  clock: ManualClock;
  io: SocketServer;
  close(): Promise<void>;
}

export async function startMapSystem(): Promise<MapSystem> {
  // Always from the current source (≈ 0.7 s): a stale web/dist would test old code.
  await buildWeb();
  const clock = new ManualClock(Date.now());
  // bin/start.ts hands `clock.now` to the Registry unbound; a ManualClock needs its `this`.
  clock.now = clock.now.bind(clock);
  const system = await startTestSystem({ clock, config: { tileUrl: '' } });
  // Once bin/start.ts wires the map (router, socket.io as `io`), test the system as shipped.
  const wired = (system as unknown as { io?: SocketServer }).io;
  if (wired) return { url: system.url, system, clock, io: wired, close: () => system.close() };
  const principalOf = (header: string | undefined) => {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    return m ? system.registry.keys.principalFor(m[1]) : null;
  };
  const map = createMapRouter({
    source: {
      all: () => system.liveness.all(),
      name: (id) => system.registry.getDevice(id)?.name ?? null,
      customerName: (id) => system.registry.getCustomer(id)?.name ?? null,
      bus: system.bus,
    },
    authorize: (req) => principalOf(req.headers.authorization),
  });
  const app = express();
  app.use(express.static(DIST));
  app.use('/api', map.router);
  app.use(system.app);
  const http = createServer(app);
  const io = new SocketServer(http);
  const stopLive = attachMapLive(io, { bus: system.bus, authorizeToken: (t) => system.registry.keys.principalFor(t) });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    system,
    clock,
    io,
    async close() {
      stopLive();
      map.close();
      io.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await system.close();
    },
  };
}
