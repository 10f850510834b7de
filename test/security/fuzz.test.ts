import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartbeatSchema } from '../../monitor/ingest/heartbeat.ts';
import type { StatusChange } from '../../monitor/events.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';
import { mulberry32 } from '../../simulators/random.ts';

const rng = mulberry32;

const SEED = Number(process.env.LASTSEEN_FUZZ_SEED ?? 20261128);
const PAYLOADS = 100_000;

function fuzzer(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  // Every field the schema knows, from the schema itself: a field added there is fuzzed too.
  const FIELDS = Object.keys(heartbeatSchema.shape);
  const weird = (): unknown =>
    pick([
      null,
      true,
      false,
      0,
      -1,
      1e308,
      -1e308,
      1.5,
      2 ** 53 + 1,
      '',
      'full',
      '💥',
      'A'.repeat(1 + Math.floor(rand() * 40_000)),
      [],
      [1, 2],
      {},
      { nested: { deeper: [null] } },
      '2026-13-45T99:99:99Z',
      '1e3',
      'NaN',
      ' 42 ',
      -0,
      100.0001,
      -140.5,
      91,
      -181,
    ]);
  const valid = () => ({
    seq: Math.floor(rand() * 1e6),
    lat: rand() * 180 - 90,
    lon: rand() * 360 - 180,
    battery: rand() * 100,
    rssi: -140 * rand(),
    rat: pick(['2G', '3G', '4G', '5G', 'LTE-M', 'NB-IoT']),
    mcc: Math.floor(rand() * 1000),
    activity: Math.floor(rand() * 100),
  });
  return (): Buffer => {
    const kind = rand();
    if (kind < 0.15) {
      const n = Math.floor(rand() * 64);
      return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    }
    if (kind < 0.25) return Buffer.from(JSON.stringify(weird()));
    const hb: Record<string, unknown> = valid();
    const mutations = Math.floor(rand() * 4);
    for (let i = 0; i < mutations; i++) {
      const r = rand();
      if (r < 0.6) hb[pick(FIELDS)] = weird();
      else if (r < 0.8) delete hb[pick(['lat', 'lon'])];
      else hb[`x${Math.floor(rand() * 10)}`] = weird();
    }
    let text = JSON.stringify(hb);
    const cut = rand();
    if (cut < 0.05) text = text.slice(0, Math.floor(rand() * text.length));
    else if (cut < 0.08) text = text.replace(/[:,]/, pick(['', ';', '::']));
    return Buffer.from(text);
  };
}

let sys: TestSystem;
beforeAll(async () => {
  // The per-device throttle would reject most of a flood before parsing; lift it so every
  // payload reaches the parser.
  sys = await startTestSystem({ config: { heartbeatRate: 1e9, heartbeatBurst: 1e9 } });
});
afterAll(async () => {
  await sys?.close();
});

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe(`fuzzing heartbeats through the real broker (seed ${SEED})`, () => {
  it(`survives ${PAYLOADS} random and mutated payloads, stores nothing invalid, and keeps tracking a well-behaved device`, async () => {
    const rand = rng(SEED);
    const next = fuzzer(rand);
    const fuzzIds = ['fz-1', 'fz-2', 'fz-3', 'fz-4'];
    const fuzzers = [];
    for (const id of fuzzIds) fuzzers.push(await sys.connect(id, await sys.addDevice(id, 'fuzz')));
    const good = await sys.connect('steady', await sys.addDevice('steady', 'fuzz', { offlineAfter: 5 }));
    const changes: StatusChange[] = [];
    sys.bus.on('status', (c) => c.deviceId === 'steady' && changes.push(c));
    let goodSent = 0;
    const beat = setInterval(
      () => void good.publishAsync('devices/steady/heartbeat', JSON.stringify({ seq: goodSent++, battery: 90 }), { qos: 1 }),
      200,
    );

    const before = {
      accepted: await counter('lastseen_heartbeats_accepted_total'),
      rejected: await counter('lastseen_heartbeats_rejected_total'),
      dup: await counter('lastseen_heartbeats_duplicate_total'),
    };
    for (let i = 0; i < PAYLOADS; i++) {
      const c = fuzzers[i % fuzzers.length];
      c.publish(`devices/${fuzzIds[i % fuzzers.length]}/heartbeat`, next(), { qos: 0 });
      // Let the sockets drain now and then, and let the steady device's beats through.
      if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
    }
    // Per-connection order: once these QoS 1 markers are acknowledged, every fuzz payload before them was handled.
    await Promise.all(fuzzers.map((c, k) => c.publishAsync(`devices/${fuzzIds[k]}/heartbeat`, '{}', { qos: 1 })));
    clearInterval(beat);
    await new Promise((r) => setTimeout(r, 300));

    const after = {
      accepted: await counter('lastseen_heartbeats_accepted_total'),
      rejected: await counter('lastseen_heartbeats_rejected_total'),
      dup: await counter('lastseen_heartbeats_duplicate_total'),
    };
    const handled = after.accepted - before.accepted + (after.rejected - before.rejected) + (after.dup - before.dup);
    // Every fuzz payload, the 4 markers and the steady beats were each counted exactly once.
    expect(handled).toBe(PAYLOADS + fuzzIds.length + goodSent);
    const rejected = after.rejected - before.rejected;
    expect(rejected).toBeGreaterThan(PAYLOADS * 0.5);
    console.log(
      `fuzz: ${PAYLOADS} payloads → accepted ${after.accepted - before.accepted - goodSent - fuzzIds.length}, rejected ${rejected}, duplicate ${after.dup - before.dup}`,
    );

    // Nothing invalid was stored: every stored fuzz heartbeat passes the contract schema again.
    for (const id of fuzzIds) {
      const items = (await sys.api('GET', `/api/devices/${id}/heartbeats?limit=10000`)).body.items as Record<string, unknown>[];
      for (const hb of items) {
        const { deviceId: _d, receivedAt: _r, ts, ...fields } = hb;
        const check = heartbeatSchema.safeParse({ ...fields, ...(ts ? { ts } : {}) });
        expect(check.success, JSON.stringify(hb).slice(0, 300)).toBe(true);
      }
    }
    // The process is up, and the steady device was never offline with every beat stored.
    expect((await fetch(`${sys.url}/healthz`)).status).toBe(200);
    // Never offline. (It may be marked late for a moment while 100 000 payloads share its
    // two CPU cores; late is a colour on the map, not an alert.)
    expect(changes[0].to).toBe('online');
    expect(changes.filter((c) => c.to === 'offline')).toEqual([]);
    expect(good.connected).toBe(true);
    const steady = await waitFor(async () => {
      const items = (await sys.api('GET', '/api/devices/steady/heartbeats?limit=10000')).body.items;
      return items.length === goodSent ? items : null;
    });
    expect(steady).toHaveLength(goodSent);
  }, 120_000);
});
