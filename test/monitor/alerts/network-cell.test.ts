import { describe, expect, it } from 'vitest';
import { networkCellOf } from '../../../monitor/alerts/network-cell.ts';

const none = { mcc: null, mnc: null, cellId: null };

describe('the cell an alert groups a device by (the table in network-cell.ts)', () => {
  it("keeps the device's own cell when it sent one", () => {
    expect(networkCellOf({ mcc: 262, mnc: 1, cellId: 40021 }, { mcc: 639, mnc: 2, cellId: 77057 })).toEqual({
      mcc: 262,
      mnc: 1,
      cellId: 40021,
    });
  });

  it("takes the packet gateway's cell, all three together, when the device sent none", () => {
    expect(networkCellOf(none, { mcc: 639, mnc: 2, cellId: 77057 })).toEqual({ mcc: 639, mnc: 2, cellId: 77057 });
    // A network without a cell from the device is replaced whole, never mixed with the session's cell.
    expect(networkCellOf({ mcc: 262, mnc: 1, cellId: null }, { mcc: 639, mnc: 2, cellId: 77057 })).toEqual({
      mcc: 639,
      mnc: 2,
      cellId: 77057,
    });
  });

  it("keeps the device's own reading when the session names no whole cell", () => {
    expect(networkCellOf({ mcc: 262, mnc: 1, cellId: null }, { mcc: 639, mnc: 2, cellId: null })).toEqual({
      mcc: 262,
      mnc: 1,
      cellId: null,
    });
    expect(networkCellOf({ mcc: 262, mnc: 1, cellId: null }, { mcc: null, mnc: 2, cellId: 77057 })).toEqual({
      mcc: 262,
      mnc: 1,
      cellId: null,
    });
    expect(networkCellOf(none, null)).toEqual(none);
  });
});
