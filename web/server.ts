import type { Aedes } from 'aedes';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Express } from 'express';
import { MAX_WEBSOCKET_MESSAGE } from '../broker/packet-limits.ts';

/**
 * The HTTP listener: the express app, plus MQTT over WebSocket at /mqtt (docs/contract.md §2) handed
 * to the same aedes instance as the TCP listener. Without a broker (a monitor attached to
 * another one) there is no `/mqtt`.
 */
export function createHttpServer(app: Express, aedes: Aedes | null, tls: { cert: Buffer; key: Buffer } | null = null): Server {
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, app) : createServer(app);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WEBSOCKET_MESSAGE });
  server.on('upgrade', (req, socket: Duplex, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/mqtt') return; // other upgrades (socket.io) have their own listeners
    if (!aedes) return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      aedes.handle(stream, req);
    });
  });
  return server;
}
