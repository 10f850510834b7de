/**
 * Benchmark: RADIUS accounting requests answered per second by lastseen, beside Debian
 * FreeRADIUS writing the same accounting to its detail file — same load, same run.
 *
 *   node --import tsx bench/radius.ts [--sims 2000] [--records 20000] [--parallel 100] [--rounds 2] [--no-docs]
 *
 * Load: `--records` Accounting-Requests for `--sims` SIMs (per SIM a Start, Interim-Updates,
 * a Stop; each with 3GPP-IMSI, RAT type, User-Location-Info, Calling-Station-Id, Framed-IP,
 * octet counters), in one file sent by Debian radclient in parallel mode (`-p`, that many
 * requests in flight), timed from start to its exit; every request must be answered
 * (radclient's summary), else the round fails.
 *
 * lastseen: a real `lastseen start` process (SQLite, default settings) with the SIMs onboarded
 * through POST /api/onboarding, so every record matches a device and goes through the whole
 * path (authenticator, retransmit key, SIM lookup, session reducer, SIM-only liveness).
 * FreeRADIUS: `freeradius -f` (foreground, not -X: debug output would dominate) with a minimal
 * config in a temp dir — one client, `preacct {}` and `accounting { detail }` — on a free port.
 * Rounds alternate lastseen / FreeRADIUS. CPU: the server's utime+stime from /proc/<pid>/stat
 * over the round (µs per request), radclient's (the generator) from this process's cutime/cstime.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineDetails } from '../simulators/bench/machine.ts';
import { ensureDebianBinary } from '../test/helpers/debian.ts';
import { spawnLastseen } from '../test/helpers/process.ts';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const SIMS = Number(arg('--sims', '2000'));
const RECORDS = Number(arg('--records', '20000'));
const PARALLEL = Number(arg('--parallel', '100'));
const ROUNDS = Number(arg('--rounds', '2'));
const DOCS = !argv.includes('--no-docs');
const SECRET = 'bench-secret-123';
const fmt = (n: number) => Math.round(n).toLocaleString('en').replace(/,/g, ' ');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const TICK_US = 1e6 / 100; // USER_HZ: /proc times are in 1/100 s on Linux

const imsi = (i: number) => `63902${String(i).padStart(10, '0')}`;

/** The request file: per SIM, Start, interims, Stop, round-robin so sessions interleave. */
function loadFile(dir: string): string {
  const perSim = Math.max(2, Math.round(RECORDS / SIMS));
  const blocks: string[] = [];
  for (let k = 0; k < perSim; k++) {
    for (let i = 0; i < SIMS && blocks.length < RECORDS; i++) {
      const status = k === 0 ? 'Start' : k === perSim - 1 ? 'Stop' : 'Interim-Update';
      const eci = (0x10000 + (i % 500)).toString(16).padStart(8, '0');
      blocks.push(
        [
          `Acct-Status-Type = ${status}`,
          `Acct-Session-Id = "s-${i}"`,
          `Calling-Station-Id = "2547${String(i).padStart(8, '0')}"`,
          `Framed-IP-Address = 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          `3GPP-IMSI = "${imsi(i)}"`,
          `3GPP-RAT-Type = EUTRAN`,
          `3GPP-SGSN-MCC-MNC = "63902"`,
          `3GPP-User-Location-Info = 0x8236f920004236f920${eci}`,
          `Acct-Input-Octets = ${k * 1000}`,
          `Acct-Output-Octets = ${k * 300}`,
          ...(status === 'Stop' ? ['Acct-Terminate-Cause = User-Request'] : []),
        ].join('\n'),
      );
    }
  }
  const file = join(dir, 'requests.txt');
  writeFileSync(file, `${blocks.join('\n\n')}\n`);
  return file;
}

function cpuTicks(pid: number | 'self', children = false): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3; utime 14, stime 15, cutime 16, cstime 17 (1-based).
  return children ? Number(fields[13]) + Number(fields[14]) : Number(fields[11]) + Number(fields[12]);
}

interface Round {
  target: string;
  seconds: number;
  perSecond: number;
  answered: number;
  serverUsPerRequest: number;
  generatorUsPerRequest: number;
}

/** radclient -p over the file; counts answers from its -s summary. */
function blast(port: number, file: string, serverPid: number, target: string): Round {
  const bin = ensureDebianBinary('radclient', 'freeradius-utils');
  const s0 = cpuTicks(serverPid);
  const g0 = cpuTicks('self', true);
  const t0 = performance.now();
  const res = spawnSync(bin, ['-q', '-s', '-p', String(PARALLEL), '-r', '3', '-t', '5', '-f', file, `127.0.0.1:${port}`, 'acct', SECRET], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  const serverTicks = cpuTicks(serverPid) - s0;
  const genTicks = cpuTicks('self', true) - g0;
  const out = res.stdout + res.stderr;
  const answered = Number(/Packets received\s*:\s*(\d+)|Accepted\s*:\s*(\d+)/i.exec(out)?.slice(1).find(Boolean) ?? NaN);
  const lost = Number(/Lost\s*:\s*(\d+)|Packets lost\s*:\s*(\d+)/i.exec(out)?.slice(1).find(Boolean) ?? 0);
  if (res.status !== 0 || lost > 0) throw new Error(`${target}: radclient exit ${res.status}, lost ${lost}:\n${out.slice(-2000)}`);
  return {
    target,
    seconds,
    perSecond: RECORDS / seconds,
    answered: Number.isFinite(answered) ? answered : RECORDS,
    serverUsPerRequest: (serverTicks * TICK_US) / RECORDS,
    generatorUsPerRequest: (genTicks * TICK_US) / RECORDS,
  };
}

async function startLastseen(dir: string) {
  const token = 'bench-admin-token-0123456789';
  const proc = await spawnLastseen(['start'], {
    LASTSEEN_DATA_DIR: join(dir, 'lastseen'),
    LASTSEEN_ADMIN_TOKEN: token,
    LASTSEEN_RADIUS_PORT: '0',
    LASTSEEN_RADIUS_SECRET: SECRET,
    LASTSEEN_LOG_LEVEL: 'warn',
  });
  const base = `http://127.0.0.1:${proc.httpPort}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await fetch(`${base}/api/customers`, { method: 'POST', headers, body: JSON.stringify({ id: 'radius-bench', name: 'RADIUS benchmark' }) });
  for (let i = 0; i < SIMS; i += 5000) {
    const items = Array.from({ length: Math.min(5000, SIMS - i) }, (_, k) => ({
      deviceId: `sim-${i + k}`,
      customerId: 'radius-bench',
      imsi: imsi(i + k),
      interval: 900,
    }));
    const res = await fetch(`${base}/api/onboarding`, { method: 'POST', headers, body: JSON.stringify(items) });
    const body = (await res.json()) as { created: number };
    if (body.created !== items.length) throw new Error(`onboarding: ${JSON.stringify(body).slice(0, 300)}`);
  }
  const health = (await (await fetch(`${base}/healthz`)).json()) as { radiusPort: number };
  const metrics = async () => {
    // The keep-alive connection of the onboarding may have been closed by the server meanwhile.
    const text = await fetch(`${base}/metrics`)
      .catch(() => fetch(`${base}/metrics`))
      .then((r) => r.text());
    return Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.startsWith('lastseen_radius_requests_total{'))
        .map((l) => [/result="([^"]+)"/.exec(l)![1], Number(l.split(' ').pop())]),
    ) as Record<string, number>;
  };
  return { proc, port: health.radiusPort, metrics };
}

async function startFreeradius(dir: string): Promise<{ child: ChildProcess; port: number; detail: string }> {
  const bin = ensureDebianBinary('freeradius', 'freeradius');
  const conf = join(dir, 'freeradius');
  for (const d of ['log', 'radacct', 'run']) mkdirSync(join(conf, d), { recursive: true });
  // A free UDP port: bind, read, close (FreeRADIUS cannot take 0 and report it).
  const { createSocket } = await import('node:dgram');
  const port = await new Promise<number>((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  writeFileSync(
    join(conf, 'radiusd.conf'),
    `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = ${conf}
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
logdir = ${conf}/log
radacctdir = ${conf}/radacct
run_dir = ${conf}/run
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
name = radiusd
max_request_time = 30
cleanup_delay = 5
max_requests = 1048576
hostname_lookups = no
log {
  destination = files
  file = \${logdir}/radius.log
}
security {
  allow_core_dumps = no
}
client local {
  ipaddr = 127.0.0.1
  secret = ${SECRET}
}
modules {
  detail {
    filename = \${radacctdir}/detail
    permissions = 0600
    header = "%t"
  }
}
server default {
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = ${port}
  }
  preacct {
  }
  accounting {
    detail
  }
}
`,
  );
  // Its log goes to the temp dir (`-l stderr` would write a file named "stderr" in the cwd).
  const child = spawn(bin, ['-f', '-d', conf], { cwd: conf, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  // Without -X it prints nothing when ready: ask it, with one request, until it answers.
  const probe = 'Acct-Status-Type = Accounting-On\nNAS-IP-Address = 127.0.0.1\n';
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) break;
    const r = spawnSync(
      ensureDebianBinary('radclient', 'freeradius-utils'),
      ['-r', '1', '-t', '0.5', `127.0.0.1:${port}`, 'acct', SECRET],
      { input: probe, encoding: 'utf8' },
    );
    if (r.status === 0) return { child, port, detail: join(conf, 'radacct', 'detail') };
    await sleep(100);
  }
  child.kill();
  throw new Error(`freeradius did not start:\n${out.slice(-2000)}`);
}

async function main() {
  const m = machineDetails();
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-radius-'));
  const file = loadFile(dir);
  console.log(
    `${m.cpu}, ${m.cores} cores, load ${m.loadAvg1m}; ${fmt(RECORDS)} requests for ${fmt(SIMS)} SIMs, radclient -p ${PARALLEL}, ${ROUNDS} rounds`,
  );
  const ls = await startLastseen(dir);
  const fr = await startFreeradius(dir);
  const rounds: Round[] = [];
  // Interrupted (Ctrl-C, a timeout): stop both servers and remove the temp dir all the same.
  const cleanUp = () => {
    ls.proc.child.kill('SIGTERM');
    fr.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const target of ['lastseen', 'freeradius'] as const) {
        const round =
          target === 'lastseen' ? blast(ls.port, file, ls.proc.child.pid!, target) : blast(fr.port, file, fr.child.pid!, target);
        rounds.push(round);
        console.log(
          `${target.padEnd(10)} ${fmt(round.perSecond).padStart(7)} req/s  ${round.seconds.toFixed(2)} s  server ${round.serverUsPerRequest.toFixed(1)} µs/req  radclient ${round.generatorUsPerRequest.toFixed(1)} µs/req`,
        );
      }
    }
    const counted = await ls.metrics();
    const detailBytes = statSync(fr.detail).size;
    console.log(`lastseen counted: ${JSON.stringify(counted)}; FreeRADIUS detail file: ${fmt(detailBytes / 1024)} KiB`);
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    };
    const lsRate = median(rounds.filter((x) => x.target === 'lastseen').map((x) => x.perSecond));
    const frRate = median(rounds.filter((x) => x.target === 'freeradius').map((x) => x.perSecond));
    const ratio = lsRate / frRate;
    console.log(`lastseen / FreeRADIUS: ${ratio.toFixed(2)}× (median of ${ROUNDS})`);
    if (DOCS) {
      const table = [
        '| target | round | requests/s | seconds | server CPU µs/request | radclient CPU µs/request |',
        '| --- | --: | --: | --: | --: | --: |',
        ...rounds.map(
          (x, i) =>
            `| ${x.target} | ${Math.floor(i / 2) + 1} | ${fmt(x.perSecond)} | ${x.seconds.toFixed(2)} | ${x.serverUsPerRequest.toFixed(1)} | ${x.generatorUsPerRequest.toFixed(1)} |`,
        ),
      ].join('\n');
      appendFileSync(
        new URL('../docs/benchmarks/log.md', import.meta.url),
        `\n### RADIUS accounting, ${m.date.slice(0, 16).replace('T', ' ')} UTC\n\n${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, load average ${m.loadAvg1m} at start; ${fmt(RECORDS)} Accounting-Requests for ${fmt(SIMS)} onboarded SIMs, radclient -p ${PARALLEL}; \`npm run bench:radius\`.\n\n${table}\n\nlastseen counted ${JSON.stringify(counted)}; FreeRADIUS wrote ${fmt(detailBytes / 1024)} KiB of detail file. lastseen / FreeRADIUS (median requests/s): **${ratio.toFixed(2)}**.\n`,
      );
    }
  } finally {
    cleanUp();
    await ls.proc.exited;
  }
}

await main();
