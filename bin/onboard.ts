import { SingleBar, Presets } from 'cli-progress';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fetchOrExplain } from '../simulators/driver/api.ts';

export interface OnboardOptions {
  server: string;
  token: string;
  credentials?: string;
  /** Show a progress bar (on a terminal). */
  progress: boolean;
}

export interface OnboardSummary {
  created: number;
  rejected: number;
  duplicates: number;
}

/**
 * `lastseen onboard FILE.csv`: stream the file to POST /api/onboarding and stream the answer
 * back (NDJSON), writing credentials to a mode-600 CSV as they arrive. Memory stays flat for
 * a million SIMs; the bar shows bytes sent, which the server consumes as it goes.
 */
/** The file named on the command line cannot be read: the user's to fix (exit 2). */
export class OnboardFileError extends Error {}

export async function onboardFile(file: string, opts: OnboardOptions, log: (s: string) => void): Promise<OnboardSummary> {
  const size = fileSize(file);
  const bar = opts.progress
    ? new SingleBar({ format: 'onboarding [{bar}] {percentage}% | {value}/{total} bytes | {eta}s left' }, Presets.shades_classic)
    : null;
  bar?.start(size, 0);
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  let sent = 0;
  input.on('data', (chunk) => {
    sent += chunk.length;
    bar?.update(sent);
  });
  const res = await fetchOrExplain(
    new URL('/api/onboarding', opts.server),
    {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'text/csv', accept: 'application/x-ndjson' },
      body: Readable.toWeb(input) as ReadableStream,
      duplex: 'half',
    } as RequestInit,
    opts.server,
  ).catch((err: Error) => {
    bar?.stop();
    throw err;
  });
  if (!res.ok || !res.body) {
    bar?.stop();
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(`the server refused the file (HTTP ${res.status}): ${body.error ?? res.statusText}`);
  }
  const out = opts.credentials ? createWriteStream(opts.credentials, { mode: 0o600 }) : null;
  out?.write('deviceId,token\n');
  const summary: OnboardSummary = { created: 0, rejected: 0, duplicates: 0 };
  const shown: string[] = [];
  const lines = createInterface({ input: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) });
  for await (const line of lines) {
    if (!line) continue;
    const o = JSON.parse(line) as {
      summary?: true;
      id?: string;
      token?: string;
      line?: number;
      error?: string;
      status?: number;
      conflict?: string;
      type?: string;
    };
    if (o.type === 'error') throw new Error(`the server stopped reading the file: ${o.error}`);
    if (o.summary) continue;
    if (o.token) {
      summary.created++;
      if (out && !out.write(`${o.id},${o.token}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    } else {
      summary.rejected++;
      // Only "this device exists" is a re-run; an ICCID of another device is a real rejection.
      if (o.conflict === 'device') summary.duplicates++;
      if (shown.length < 20) shown.push(`  line ${o.line}: ${o.error}`);
    }
  }
  bar?.update(size);
  bar?.stop();
  if (out) await new Promise<void>((r) => out.end(() => r()));
  if (shown.length) {
    log(`rejected lines${summary.rejected > shown.length ? ` (first ${shown.length} of ${summary.rejected})` : ''}:`);
    for (const s of shown) log(s);
  }
  return summary;
}

function fileSize(file: string): number {
  const reasons: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
    return st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new OnboardFileError(`cannot read ${file}: ${reasons[code] ?? code}`);
  }
}
