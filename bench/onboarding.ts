/**
 * Benchmark: onboard N SIMs (default 1 000 000) from a CSV through a real `lastseen start`
 * process with the real `lastseen onboard` CLI, as an operator would. Prints wall time,
 * SIMs/s and peak memory (VmHWM) of the server and of the CLI.
 *
 *   node --import tsx bench/onboarding.ts [--devices 1000000]
 *
 * Then restarts the server on the same data directory and times the restore of all N devices
 * (registry, last states, liveness, map index) until the banner, and the restarted process's
 * resident memory once it is up: what an operator waits for after an upgrade.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { luhnCheckDigit } from '../monitor/registry/luhn.ts';
import { spawnLastseen } from '../test/helpers/process.ts';

const n = Number(process.argv[process.argv.indexOf('--devices') + 1]) || 1_000_000;
const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-onboard-'));
const csv = join(dir, 'sims.csv');

async function writeCsv(): Promise<void> {
  const out = createWriteStream(csv);
  out.write('deviceId,customerId,name,iccid,imsi,msisdn,interval,offlineAfter,species\n');
  const species = ['giraffe', 'sea otter', 'asset tracker'];
  for (let i = 0; i < n; i += 10_000) {
    let chunk = '';
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      const body = `8925402${String(j).padStart(12, '0')}`;
      chunk += `sim-${j},op-customer-${j % 10},Collar ${j},${body}${luhnCheckDigit(body)},63902${String(j).padStart(10, '0')},+2547${String(j).padStart(8, '0')},900,,${species[j % 3]}\n`;
    }
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

function peakKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

await writeCsv();
const size = statSync(csv).size;
const token = 'bench-admin-token-0123456789';
const server = await spawnLastseen(['start'], {
  LASTSEEN_DATA_DIR: join(dir, 'data'),
  LASTSEEN_ADMIN_TOKEN: token,
  LASTSEEN_LOG_LEVEL: 'warn',
});
const base = `http://127.0.0.1:${server.httpPort}`;
for (let c = 0; c < 10; c++) {
  await fetch(`${base}/api/customers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: `op-customer-${c}`, name: `Operator customer ${c}` }),
  });
}
const idleRss = peakKb(server.child.pid!);
const started = performance.now();
const cli = spawn(
  process.execPath,
  ['bin/lastseen.js', 'onboard', csv, '--server', base, '--token', token, '--credentials', join(dir, 'creds.csv')],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let cliPeak = 0;
const poll = setInterval(() => {
  try {
    cliPeak = Math.max(cliPeak, peakKb(cli.pid!));
  } catch {
    /* exited */
  }
}, 200);
let out = '';
cli.stdout.on('data', (c) => (out += c));
const code = await new Promise<number | null>((r) => cli.on('exit', r));
clearInterval(poll);
const secs = (performance.now() - started) / 1000;
const serverPeak = peakKb(server.child.pid!);
server.child.kill('SIGTERM');
await server.exited;

const restartAt = performance.now();
const again = await spawnLastseen(['start'], {
  LASTSEEN_DATA_DIR: join(dir, 'data'),
  LASTSEEN_ADMIN_TOKEN: token,
  LASTSEEN_LOG_LEVEL: 'warn',
});
const restartSecs = (performance.now() - restartAt) / 1000;
const health = (await (await fetch(`http://127.0.0.1:${again.httpPort}/healthz`)).json()) as { devices: number };
const vmRss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${again.child.pid}/status`, 'utf8'))?.[1]);
const restartPeak = peakKb(again.child.pid!);
again.child.kill('SIGTERM');
await again.exited;

const result = {
  devices: n,
  csvMB: +(size / 1e6).toFixed(1),
  seconds: +secs.toFixed(1),
  simsPerSecond: Math.round(n / secs),
  target: '≤ 60 s',
  serverPeakMB: Math.round(serverPeak / 1024),
  serverIdleMB: Math.round(idleRss / 1024),
  cliPeakMB: Math.round(cliPeak / 1024),
  restart: {
    seconds: +restartSecs.toFixed(1),
    devices: health.devices,
    rssMB: Math.round(vmRss / 1024),
    peakMB: Math.round(restartPeak / 1024),
  },
  cliExit: code,
  cliSaid: out.trim(),
  machine: `${cpus().length} × ${cpus()[0].model}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
};
console.log(JSON.stringify(result, null, 2));
rmSync(dir, { recursive: true, force: true });
