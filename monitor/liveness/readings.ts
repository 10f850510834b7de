import type { Interner } from '../columns/interner.ts';
import type { Heartbeat } from '../types.ts';
import type { DeviceState } from './device-state.ts';
import type { StateColumns } from './state-arrays.ts';

/**
 * A device's latest readings (battery, signal, network, cell, temperature, activity, altitude)
 * in and out of the state columns. A reading never reported reads back absent: the columns
 * hold NaN (or network code NaN) for it, so `last` carries only the fields ever sent.
 */
export function writeReadings(c: StateColumns, rats: Interner, slot: number, r: DeviceState['last']): void {
  if (r.battery !== undefined) c.battery.set(slot, r.battery);
  if (r.rssi !== undefined) c.rssi.set(slot, r.rssi);
  if (r.rat !== undefined || r.mcc !== undefined || r.mnc !== undefined) {
    const held = c.network.get(slot);
    const [rat, mcc, mnc] = networkParts(held);
    const code = networkCode(
      // Code 0 is "never reported", so a RAT name is stored as its interned number + 1.
      r.rat !== undefined ? rats.code(r.rat) + 1 : rat,
      r.mcc ?? mcc,
      r.mnc ?? mnc,
    );
    if (code !== held) c.network.set(slot, code);
  }
  if (r.cellId !== undefined) c.cellId.set(slot, r.cellId);
  if (r.temp !== undefined) c.temp.set(slot, r.temp);
  if (r.activity !== undefined) c.activity.set(slot, r.activity);
  if (r.alt !== undefined) c.alt.set(slot, r.alt);
}

/** The readings of one slot, only those ever reported (NaN compares unequal to itself). */
export function readReadings(c: StateColumns, rats: Interner, slot: number): DeviceState['last'] {
  const last: DeviceState['last'] = {};
  const battery = c.battery.get(slot);
  if (battery === battery) last.battery = battery;
  const rssi = c.rssi.get(slot);
  if (rssi === rssi) last.rssi = rssi;
  const [rat, mcc, mnc] = networkParts(c.network.get(slot));
  if (rat !== 0) last.rat = rats.values[rat - 1] as Heartbeat['rat'];
  if (mcc >= 0) last.mcc = mcc;
  if (mnc >= 0) last.mnc = mnc;
  const cellId = c.cellId.get(slot);
  if (cellId === cellId) last.cellId = cellId;
  const temp = c.temp.get(slot);
  if (temp === temp) last.temp = temp;
  const activity = c.activity.get(slot);
  if (activity === activity) last.activity = activity;
  const alt = c.alt.get(slot);
  if (alt === alt) last.alt = alt;
  return last;
}

/**
 * RAT, MCC and MNC as one number for the `network` dictionary column: a fleet sees a few
 * hundred (RAT, operator) pairs, so one 2 B code replaces 5 B of separate columns. Each part
 * may be absent (0): rat is its interned number + 1, mcc and mnc (0 … 999) are stored + 1.
 *
 *   LTE-M (rat 2), mcc 639, mnc 2  →  2 · 1 002 001 + 640 · 1001 + 3 = 2 644 645
 */
export function networkCode(rat: number, mcc: number, mnc: number): number {
  return rat * 1_002_001 + (mcc + 1) * 1001 + (mnc + 1);
}
/** [rat (0 = none), mcc (-1 = none), mnc (-1 = none)] of a `networkCode` (NaN: nothing reported). */
export function networkParts(code: number): [number, number, number] {
  if (code !== code) return [0, -1, -1];
  const rat = Math.floor(code / 1_002_001);
  const rest = code - rat * 1_002_001;
  const mcc = Math.floor(rest / 1001);
  return [rat, mcc - 1, rest - mcc * 1001 - 1];
}
