import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../../monitor/alerts/channels/channel.ts';
import type { SilenceHit } from '../../../monitor/alerts/silences.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { AlertEvent, CustomerInfo } from '../../../monitor/alerts/types.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import { DEFAULT_THRESHOLDS } from '../../../monitor/diagnosis/thresholds.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import type { StoredHeartbeat } from '../../../monitor/types.ts';
import { WarningEngine } from '../../../monitor/warnings/engine.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 6);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const customer: CustomerInfo = { id: 'kwt', name: 'Kenya Wildlife Trust', language: 'en', channels: [] };

/** The engine over a real SQLite alert history; the live channel records what was sent. */
function setup(file?: string, quietMs?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-warnings-'));
  dirs.push(dir);
  const store = new AlertStore(file ?? join(dir, 'alerts.db'));
  const clock = new ManualClock(T0);
  const sent: AlertEvent[] = [];
  const live: Channel = { send: async (e) => void sent.push(e) };
  let silence: SilenceHit | null = null;
  const engine = new WarningEngine({
    store,
    live: [live],
    clock,
    log: silentLogger,
    lookup: (id) => ({ id, name: 'Kito', customerId: 'kwt', iccid: '8925402000012345678', lastPosition: null, battery: 50 }),
    customer: () => customer,
    thresholds: () => ({ ...DEFAULT_THRESHOLDS }),
    silenced: () => silence,
    ...(quietMs === undefined ? {} : { policy: { flapStableMs: quietMs } }),
  });
  engine.start();
  const beat = async (fields: Partial<StoredHeartbeat>) => {
    engine.onHeartbeat({ deviceId: 'c1', customerId: 'kwt', receivedAt: clock.now(), ts: clock.now(), ...fields } as StoredHeartbeat);
    await engine.idle();
  };
  const rows = () => store.list({ deviceId: 'c1' }).map((r) => [r.type, r.state]);
  return {
    store,
    clock,
    sent,
    engine,
    beat,
    rows,
    silenceUntil: (until: number | null) => (silence = until === null ? null : ({ until } as SilenceHit)),
  };
}

describe('WarningEngine', () => {
  it('raises one battery_low per episode, keeps it across a restart, and resolves it on a new battery', async () => {
    const a = setup();
    for (let i = 0; i < 8; i++) {
      await a.beat({ battery: 60 - 2 * i });
      a.clock.advance(H);
    }
    expect(a.sent.map((e) => [e.type, e.severity])).toEqual([['device.battery_low', 'warning']]);
    expect(a.sent[0].message).toMatch(
      /^Kito \(c1, ICCID 8925402000012345678\) is still reporting, but its battery \(50 %\) will run out in about/,
    );
    expect(a.rows()).toEqual([['device.battery_low', 'firing']]);

    // A restart: the open warning is read back; the next falling readings send nothing new.
    a.engine.stop();
    const file = a.store.db.name;
    a.store.close();
    const b = setup(file);
    b.clock.set(T0 + 8 * H);
    for (let i = 0; i < 4; i++) {
      await b.beat({ battery: 44 - 2 * i });
      b.clock.advance(H);
    }
    expect(b.sent).toEqual([]);
    // A new battery: the fitted line rises, the warning ends.
    await b.beat({ battery: 100 });
    expect(b.rows()).toEqual([['device.battery_low', 'resolved']]);
    b.store.close();
  });

  it('records a warning inside a silence without sending it, and sends it once when the window is over', async () => {
    const a = setup();
    a.silenceUntil(T0 + 30 * H);
    for (let i = 0; i <= 25; i++) {
      await a.beat({ activity: 0 });
      a.clock.advance(H);
    }
    expect(a.sent).toEqual([]);
    expect(a.rows()).toEqual([['device.no_motion', 'silenced']]);
    a.silenceUntil(null);
    await a.beat({ activity: 0 });
    await a.beat({ activity: 0, seq: 2 });
    expect(a.sent.map((e) => e.type)).toEqual(['device.no_motion']);
    expect(a.rows()).toEqual([['device.no_motion', 'firing']]);
    a.store.close();
  });

  it.each([
    [undefined, 1],
    [0, 2],
  ])('damps a signal that fades, recovers and fades again within the quiet time (quiet %s ms: %i sent)', async (quietMs, expected) => {
    const a = setup(undefined, quietMs);
    const fade = async () => {
      for (let i = 0; i < 6; i++) {
        await a.beat({ rssi: -90 - 4 * i });
        a.clock.advance(10 * 60_000);
      }
    };
    await fade();
    expect(a.sent.map((e) => e.type)).toEqual(['device.signal_fading']);
    await a.beat({ rssi: -80 });
    expect(a.rows()).toEqual([['device.signal_fading', 'resolved']]);
    // Fading again at once: within flapStableMs (10 min by default) no second warning; without a quiet time, one.
    a.clock.advance(60_000);
    for (let i = 0; i < 3; i++) {
      await a.beat({ rssi: -112 - i });
      a.clock.advance(60_000);
    }
    expect(a.sent).toHaveLength(expected);
    a.store.close();
  });
});
