import type { Server as NetServer } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { ConfigError } from '../monitor/config.ts';

/** Listen and resolve the bound port; an error names the variable that chose the port. */
export function listen(server: NetServer | HttpServer, port: number, host: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // An address that is not this machine's is the host's fault, not the port's.
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRNOTAVAIL'
          ? new ConfigError(`LASTSEEN_HOST=${host}: no network interface of this machine has that address (EADDRNOTAVAIL)`)
          : new Error(`${variable}=${port}: cannot listen on ${host}:${port} (${err.code ?? err.message})`),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** The port a server is bound to, 0 before it listens (or after it closed). */
export function portOf(server: NetServer | HttpServer): number {
  const a = server.address();
  return a !== null && typeof a === 'object' ? a.port : 0;
}

/** Close a listener; resolves at once if it is not listening. */
export function closeListener(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}
