import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import type { Diagnosis, TimelineEntry } from '../../../monitor/diagnosis/types.ts';
import { startTestSystem, waitFor, type TestSystem } from '../../helpers/system.ts';
import { HOUR, T0 } from './fixtures.ts';
import { BACKLOG_FIXES, FIX_S, UPLOAD_STEP_MS } from './store-and-forward.ts';

/**
 * A collar out of coverage for a day, through the real system: it logs in over real MQTT
 * (client id = its device id), publishes 24 h of back-dated fixes — activity 0, battery falling
 * — in one paced burst, disconnects and is never heard again. Three hours later the REST API
 * must read the day as a day.
 */
describe('a day of buffered still fixes uploaded in one burst, through the real system', () => {
  const ID = 'twiga-70';
  const clock = new ManualClock(T0);
  // startSystem hands `clock.now` to the registry unbound.
  clock.now = clock.now.bind(clock);
  let sys: TestSystem;
  let uploadAt = 0;
  let diagnosis: Diagnosis;
  let timeline: TimelineEntry[];

  beforeAll(async () => {
    // A burst allowance above the upload, so this test does not depend on the limiter's defaults.
    sys = await startTestSystem({ clock, config: { heartbeatBurst: 1000 } });
    const token = await sys.addDevice(ID, 'kws', { name: 'Twiga 70', species: 'giraffe' });
    clock.set(T0 + 24 * HOUR);
    uploadAt = clock.now();
    const client: MqttClient = await sys.connect(ID, token, { clientId: ID, keepalive: 0 });
    for (let i = 0; i < BACKLOG_FIXES; i++) {
      const ts = uploadAt - (BACKLOG_FIXES - 1 - i) * FIX_S * 1000;
      const battery = Math.round(80 - (24 * i) / (BACKLOG_FIXES - 1));
      const hb = {
        seq: i,
        interval: FIX_S,
        ts: new Date(ts).toISOString(),
        lat: -2.98,
        lon: 38.46,
        battery,
        rssi: -85,
        activity: 0,
        rat: 'LTE-M',
        mcc: 639,
        mnc: 2,
        cellId: 40121,
      };
      await client.publishAsync(`devices/${ID}/heartbeat`, JSON.stringify(hb), { qos: 1 });
      await waitFor(() => sys.liveness.get(ID)!.lastSeq === i);
      clock.advance(UPLOAD_STEP_MS);
    }
    await client.endAsync();
    await waitFor(() => sys.liveness.get(ID)!.connection === 'disconnected');
    clock.advance(3 * HOUR);
    const d = await sys.api('GET', `/api/devices/${ID}/diagnosis`);
    const t = await sys.api('GET', `/api/devices/${ID}/timeline`);
    expect([d.status, t.status]).toEqual([200, 200]);
    diagnosis = d.body;
    timeline = t.body;
  }, 60_000);

  afterAll(async () => {
    await sys?.close();
  });

  it('diagnoses no_motion from the device times, though the fixes arrived within 72 s', () => {
    expect(diagnosis).toMatchObject({ status: 'offline', cause: 'no_motion', confidence: 'medium' });
    expect(diagnosis.checks.find((c) => c.name === 'motion')).toMatchObject({ level: 'red', evidence: { stillHours: 24, atLeast: true } });
    expect(diagnosis.nextStep).toMatch(
      /^Ask the customer for a field check at the last position .*: no motion for 24 h before it went silent/,
    );
  });

  it('fits the battery trend over the 24 h the readings were taken', () => {
    expect(diagnosis.checks.find((c) => c.name === 'battery')!.evidence).toMatchObject({ percent: 56, trendHours: 24, perHour: -1 });
  });

  it('believes the device clock and says so', () => {
    expect(diagnosis.checks.find((c) => c.name === 'clock')).toMatchObject({
      level: 'green',
      evidence: { clockUnreliable: false, tooOld: 0, future: 0 },
    });
  });

  it('shows the upload as one timeline entry with its count, device times and upload time', () => {
    const backlog = timeline.filter((e) => e.kind === 'backlog');
    expect(backlog).toEqual([
      {
        at: new Date(uploadAt).toISOString(),
        kind: 'backlog',
        detail: '145 buffered heartbeats from 2026-01-10 00:00 UTC to 00:00 UTC, uploaded 00:00 UTC',
        count: 145,
        from: new Date(uploadAt - 24 * HOUR).toISOString(),
        to: new Date(uploadAt).toISOString(),
      },
    ]);
    expect(timeline.at(-1)).toMatchObject({ kind: 'status', detail: 'late → offline' });
  });
});
