import { describe, expect, it } from 'vitest';
import { caseLog } from '../../../monitor/alerts/case-log.ts';
import { noteText } from '../../../monitor/alerts/note-text.ts';
import type { Silence } from '../../../monitor/alerts/silences.ts';
import type { AlertRecord } from '../../../monitor/alerts/store.ts';

const T = Date.UTC(2026, 0, 5, 8);
const iso = (ms: number) => new Date(ms).toISOString();
const sil = (over: Partial<Silence>): Silence => ({
  id: 's',
  match: { deviceId: 'g1' },
  customerId: 'kwt',
  startsAt: T,
  endsAt: T + 10_000,
  reason: 'r',
  recurrence: null,
  by: 'agent:1',
  createdAt: T,
  deletedAt: null,
  deletedBy: null,
  ...over,
});

describe('case log', () => {
  it('merges notes, alerts, acks, ends and covering silences in time order', () => {
    const alert = {
      id: 'a1',
      type: 'device.offline',
      state: 'resolved',
      at: iso(T + 2000),
      resolvedAt: iso(T + 9000),
      ack: { by: 'wanjiru', at: iso(T + 3000) },
      event: { message: 'Twiga is offline' },
    } as unknown as AlertRecord;
    const log = caseLog(
      { id: 'g1', customerId: 'kwt', mcc: 639, mnc: 2, cellId: 7 },
      {
        notes: [{ id: 1, deviceId: 'g1', customerId: 'kwt', text: 'called the ranger', by: 'wanjiru', at: T + 2000 }],
        alerts: [alert],
        silences: [
          sil({ id: 'mine', createdAt: T + 1000, deletedAt: T + 5000, deletedBy: 'admin:2' }),
          sil({ id: 'net', match: { mcc: 639, mnc: 2 }, customerId: null, createdAt: T + 4000, by: 'admin:9' }),
          sil({ id: 'elsewhere', match: { mcc: 639, mnc: 3 }, customerId: null, createdAt: T + 4000 }),
        ],
      },
      'customer',
    );
    expect(log.map((e) => [e.at - T, e.kind, 'by' in e ? e.by : null])).toEqual([
      [1000, 'silence', 'agent:1'],
      [2000, 'note', 'wanjiru'],
      [2000, 'alert', null],
      [3000, 'ack', 'wanjiru'],
      [4000, 'silence', 'operator'],
      [5000, 'silence-deleted', 'admin:2'],
      [9000, 'resolved', null],
    ]);
    expect(log[2]).toMatchObject({ sent: true, message: 'Twiga is offline' });
  });

  it('marks a silenced alert as not sent', () => {
    const alert = {
      id: 'a2',
      type: 'device.offline',
      state: 'silenced',
      at: iso(T),
      resolvedAt: null,
      ack: null,
      event: { message: 'm' },
    } as unknown as AlertRecord;
    expect(caseLog({ id: 'g1', customerId: 'kwt' }, { notes: [], alerts: [alert], silences: [] }, 'staff')).toEqual([
      { at: T, kind: 'alert', alertId: 'a2', type: 'device.offline', state: 'silenced', sent: false, message: 'm' },
    ]);
  });
});

describe('note text', () => {
  it.each([
    ['called the ranger\nno answer', { ok: true, text: 'called the ranger\nno answer' }],
    ['  <img src=x onerror=alert(1)>  ', { ok: true, text: '<img src=x onerror=alert(1)>' }],
    ['', { ok: false, message: 'note must not be empty.' }],
    ['a\u0000b', { ok: false, message: 'note contains the control character U+0000 at position 2; send plain text.' }],
    ['evil \u202Egnp.exe', { ok: false, message: 'note contains the control character U+202E at position 6; send plain text.' }],
    ['x'.repeat(41), { ok: false, message: 'note must be at most 40 characters (it has 41).' }],
    [42, { ok: false, message: 'note must be a string.' }],
  ])('%j → %j', (input, want) => {
    expect(noteText(input, 'note', 40)).toEqual(want);
  });
});

describe('case log: the desk’s comments on a device’s alerts', () => {
  it('shows a comment on one of the device’s alerts in the device’s log, after the alert it follows', () => {
    const alert = {
      id: 'a1',
      type: 'device.offline',
      state: 'firing',
      at: iso(T),
      resolvedAt: null,
      ack: null,
      event: { message: 'Twiga is offline' },
    } as unknown as AlertRecord;
    const log = caseLog(
      { id: 'g1', customerId: 'kwt' },
      { notes: [], alerts: [alert], silences: [], comments: [{ alertId: 'a1', by: 'wanjiru', text: 'ranger on the way', at: T + 5000 }] },
      'customer',
    );
    expect(log.map((e) => e.kind)).toEqual(['alert', 'comment']);
    expect(log[1]).toEqual({ at: T + 5000, kind: 'comment', alertId: 'a1', by: 'wanjiru', text: 'ranger on the way' });
  });
});
