import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnLastseen, type LastseenProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/system.ts';

/**
 * A full disk, for real: the data dir is a 16 MiB tmpfs, filled with a file until write(2)
 * answers ENOSPC, under the real process. It must keep answering REST and MQTT logins, hold the
 * PUBACKs of heartbeats it could not commit, say so in /healthz, log and count it, and once the
 * filler is deleted commit them by itself and acknowledge them — no acknowledged heartbeat lost.
 */
const TOKEN = 'full-disk-admin-token-0123456789';
let mountPoint = '';
let proc: LastseenProcess | null = null;
let device: MqttClient | null = null;
const filler = () => join(mountPoint, 'filler');

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('full-disk test: mounting a tmpfs needs root (run the suite as root, as CI does)');
  mountPoint = mkdtempSync(join(tmpdir(), 'lastseen-fulldisk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', mountPoint]);
  proc = await spawnLastseen(['start'], {
    LASTSEEN_DATA_DIR: join(mountPoint, 'data'),
    LASTSEEN_ADMIN_TOKEN: TOKEN,
    LASTSEEN_LOG_LEVEL: 'info',
  });
}, 30_000);

afterAll(async () => {
  await device?.endAsync(true).catch(() => undefined);
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  if (mountPoint) {
    try {
      execFileSync('umount', [mountPoint]);
    } finally {
      rmdirSync(mountPoint);
    }
  }
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${proc!.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

/** Write a file until the filesystem refuses: then nothing more fits, for SQLite either. */
function fillDisk(): number {
  const fd = openSync(filler(), 'w');
  let bytes = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          bytes += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

const metric = async (re: RegExp) => {
  const text = await (await fetch(`http://127.0.0.1:${proc!.httpPort}/metrics`)).text();
  return Number(re.exec(text)?.[1] ?? 0);
};

describe('a full disk', () => {
  it('holds PUBACKs, keeps serving, reports degraded, and commits and acknowledges everything once space returns', async () => {
    // A webhook-free customer whose alerts go over MQTT, with short damping: alerts fire while the disk is full.
    expect(
      (
        await api('POST', '/api/customers', {
          id: 'kws',
          name: 'KWS',
          channels: [{ type: 'mqtt' }],
          alertPolicy: { holdMs: 200, confirmIntervals: 0 },
        })
      ).status,
    ).toBe(201);
    const created = await api('POST', '/api/devices', { id: 'collar-1', customerId: 'kws', interval: 60 });
    const spare = await api('POST', '/api/devices', { id: 'collar-2', customerId: 'kws', interval: 60 });
    expect([created.status, spare.status]).toEqual([201, 201]);
    device = await mqtt.connectAsync(`mqtt://127.0.0.1:${proc!.mqttPort}`, {
      clientId: 'collar-1',
      username: 'collar-1',
      password: created.body.token,
      reconnectPeriod: 0,
      clean: false,
    });
    const acked = new Set<number>();
    const publish = (seq: number) =>
      device!.publish('devices/collar-1/heartbeat', JSON.stringify({ seq, battery: 80 }), { qos: 1 }, (err) => {
        if (!err) acked.add(seq);
      });

    // Before: acknowledged as usual.
    for (let seq = 1; seq <= 5; seq++) publish(seq);
    await waitFor(() => acked.size === 5, 5000);

    // One that goes silent during the full disk: its offline alert is decided, written and sent then.
    const quiet = await api('POST', '/api/devices', { id: 'collar-9', customerId: 'kws', offlineAfter: 2 });
    const q = await mqtt.connectAsync(`mqtt://127.0.0.1:${proc!.mqttPort}`, {
      clientId: 'collar-9',
      username: 'collar-9',
      password: quiet.body.token,
      reconnectPeriod: 0,
    });
    await q.publishAsync('devices/collar-9/heartbeat', '{"seq":1}', { qos: 1 });
    await q.endAsync();

    const filled = fillDisk();
    expect(filled).toBeGreaterThan(1 << 20);
    for (let seq = 6; seq <= 25; seq++) publish(seq);

    // Held: the store cannot commit them, so no PUBACK; the session stays up.
    const health = await waitFor(async () => {
      const h = (await (await fetch(`http://127.0.0.1:${proc!.httpPort}/healthz`)).json()) as any;
      return h.status === 'degraded' ? h : undefined;
    }, 10_000);
    expect(health.problems).toEqual([expect.stringMatching(/^disk full: .*\(SQLITE_(FULL|IOERR_WRITE)\) in timeseries\.db$/)]);
    await new Promise((r) => setTimeout(r, 1000));
    expect([...acked].filter((s) => s > 5)).toEqual([]);
    expect(device.connected).toBe(true);
    expect(await metric(/^lastseen_store_errors_total\{file="timeseries",code="SQLITE_[A-Z_]+"\} (\d+)/m)).toBeGreaterThanOrEqual(1);

    // Reads go on: REST answers from what is committed, and devices log in.
    const history = await api('GET', '/api/devices/collar-1/heartbeats?limit=100');
    expect(history.status).toBe(200);
    expect(history.body.items.map((h: { seq: number }) => h.seq).sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect((await api('GET', '/api/devices/collar-1')).status).toBe(200);
    const other = await mqtt.connectAsync(`mqtt://127.0.0.1:${proc!.mqttPort}`, {
      clientId: 'collar-2',
      username: 'collar-2',
      password: spare.body.token,
      reconnectPeriod: 0,
    });
    expect(other.connected).toBe(true);
    await other.endAsync();

    // A registry write: a clear 507, nothing half-created, counted.
    const refused = await api('POST', '/api/devices', { id: 'collar-3', customerId: 'kws' });
    expect(refused).toEqual({
      status: 507,
      body: { error: 'The server cannot store this now: its disk is full. Nothing was changed; try again later.' },
    });
    expect((await api('GET', '/api/devices/collar-3')).status).toBe(404);
    expect(await metric(/^lastseen_store_errors_total\{file="registry",code="SQLITE_[A-Z_]+"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await api('GET', '/api/devices/collar-9')).body.status === 'offline', 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(proc!.child.exitCode).toBeNull();
    expect((await api('GET', '/api/devices/collar-1')).status).toBe(200);

    // Space returns: the buffered heartbeats commit, their PUBACKs arrive, health is ok again.
    unlinkSync(filler());
    await waitFor(() => acked.size === 25, 15_000);
    const after = await api('GET', '/api/devices/collar-1/heartbeats?limit=100');
    expect(after.body.items.map((h: { seq: number }) => h.seq).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    const healthy = (await (await fetch(`http://127.0.0.1:${proc!.httpPort}/healthz`)).json()) as any;
    expect(healthy.status).toBe('ok');
    expect(healthy.problems).toBeUndefined();
    expect((await api('POST', '/api/devices', { id: 'collar-3', customerId: 'kws' })).status).toBe(201);
    expect(proc!.output()).toMatch(/cannot write: heartbeats are held in memory unacknowledged/);
    expect(proc!.output()).toMatch(/disk writable again/);
    // The offline alert decided while the disk was full was kept and stored once space returned.
    const alerts = await waitFor(async () => {
      const items = (await api('GET', '/api/alerts?deviceId=collar-9')).body.items;
      return items?.length ? items : undefined;
    }, 10_000);
    expect(alerts.map((a: { type: string }) => a.type)).toEqual(['device.offline']);
    expect(proc!.output()).toMatch(/alert not stored: disk full; retrying until there is space/);
  }, 60_000);
});
