import { execFile } from 'node:child_process';
import { ensureDebianBinary } from './debian.ts';

/** What `radclient` made of one request: answered (exit 0) or not, and what it printed. */
export interface RadclientResult {
  answered: boolean;
  stdout: string;
}

/**
 * Send Accounting-Requests with Debian's radclient (package freeradius-utils; its dictionary
 * at /usr/share/freeradius knows the 3GPP attributes). `packets` are attribute blocks in
 * radclient's own syntax, separated by blank lines when several. Asynchronous on purpose: a
 * server in this very process must keep its event loop to answer.
 */
export function radclient(
  port: number,
  secret: string,
  packets: string,
  opts: { timeoutS?: number; retries?: number; parallel?: number } = {},
): Promise<RadclientResult> {
  const bin = ensureDebianBinary('radclient', 'freeradius-utils');
  const args = ['-x', '-r', String(opts.retries ?? 1), '-t', String(opts.timeoutS ?? 2)];
  if (opts.parallel) args.push('-p', String(opts.parallel));
  args.push(`127.0.0.1:${port}`, 'acct', secret);
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { encoding: 'utf8', timeout: 60_000 }, (err, stdout) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
      resolve({ answered: !err && /Received Accounting-Response/.test(stdout), stdout });
    });
    child.stdin!.end(packets);
  });
}

/** Attributes whose values radclient reads as text (quoted); the others are numbers, enum names, addresses or 0x octets. */
const TEXT = new Set(['Acct-Session-Id', 'Calling-Station-Id', '3GPP-IMSI', '3GPP-IMEISV', '3GPP-SGSN-MCC-MNC', 'User-Name']);

/** One accounting request's attributes in radclient syntax. */
export function acct(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} = ${TEXT.has(k) ? JSON.stringify(String(v)) : v}`)
    .join('\n');
}
