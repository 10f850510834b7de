import { afterEach, describe, expect, it } from 'vitest';
import { incidentAlertId } from '../../../monitor/alerts/engine.ts';
import type { CustomerInfo, DeviceInfo } from '../../../monitor/alerts/types.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import type { StatusChange } from '../../../monitor/events.ts';
import { device, monitorProcess, tempFile } from './harness.ts';

const T0 = Date.UTC(2026, 0, 2, 8);
let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

const change = (deviceId: string, to: 'offline' | 'online', at: number): StatusChange => ({
  deviceId,
  customerId: 'kws',
  from: to === 'online' ? 'offline' : 'online',
  to,
  at,
  lastSeen: at - 60_000,
});

describe('incident membership for the case log (AlertEngine `membership`)', () => {
  it('tells who joins an open cell incident and who is back, under the incident alert’s id, in order', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const customers = new Map<string, CustomerInfo>([
      [
        'kws',
        { id: 'kws', name: 'Kenya Wildlife', language: 'en', channels: [], alertPolicy: { incidentCustomerMin: 100, confirmIntervals: 0 } },
      ],
    ]);
    const devices = new Map<string, DeviceInfo>();
    for (let i = 0; i < 7; i++) devices.set(`c${i}`, device(`c${i}`, 'kws', { mcc: 639, mnc: 2, cellId: 40021 }));
    const told: [string, string, string[], number][] = [];
    const clock = new ManualClock(T0);
    const p = monitorProcess({
      file: t.file,
      clock,
      customers,
      devices,
      engine: { membership: (id, _customer, kind, ids, at) => void told.push([id, kind, ids, at]) },
    });
    for (let i = 0; i < 5; i++) p.engine.onStatus(change(`c${i}`, 'offline', clock.now()));
    clock.advance(10_000);
    await p.engine.idle();
    const opened = p.sent.find((a) => a.type === 'incident.opened')!;
    expect(opened.incident).toMatchObject({ scope: 'cell' });
    // The founding members are in the opened alert itself; nothing is told for them.
    expect(told).toEqual([]);
    p.engine.onStatus(change('c5', 'offline', clock.now()));
    p.engine.onStatus(change('c6', 'offline', clock.now()));
    clock.advance(10_000);
    await p.engine.idle();
    const inc = p.store.getIncident(opened.incident!.id)!;
    expect(incidentAlertId(inc)).toBe(opened.id);
    expect(told).toEqual([[opened.id, 'joined', ['c5', 'c6'], T0 + 10_000 + 5_000]]);
    p.engine.onStatus(change('c2', 'online', clock.now()));
    await p.engine.idle();
    expect(told.at(-1)).toEqual([opened.id, 'back', ['c2'], T0 + 20_000]);
    expect(p.sent.filter((a) => a.type === 'device.offline')).toEqual([]);
    p.engine.stop();
  });
});
