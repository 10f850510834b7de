import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ConfigError } from './config.ts';

/**
 * LASTSEEN_HOST must be an IP literal or a name that resolves. Checked before anything is
 * opened, because a bad host otherwise surfaces only at the first listen, as an error of
 * whichever port happened to be bound first.
 */
export async function checkHost(host: string): Promise<void> {
  if (isIP(host)) return;
  try {
    await lookup(host);
  } catch (err) {
    throw new ConfigError(
      `LASTSEEN_HOST=${host} is neither an IP address nor a name that resolves (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`,
    );
  }
}
