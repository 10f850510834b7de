import type { NetworkReading } from './correlate.ts';

/** The packet gateway's last word on where a SIM was (monitor/network/session-state.ts). */
export interface SessionCell {
  mcc: number | null;
  mnc: number | null;
  cellId: number | null;
}

/**
 * The network and cell an alert groups a device by (./correlate.ts, silences). Many trackers'
 * heartbeats carry no cell, yet the carrier's own packet gateway reported one in the SIM's
 * accounting: with it, SIMs that all stopped on one cell open one cell incident instead of a
 * page each — the network-side confirmation of an outage. Pure:
 *
 *   device's own reading          SIM session's cell         grouped by
 *   ----------------------------  -------------------------  ------------------------------
 *   mcc, mnc and cellId           any                        the device's own (it is newer
 *                                                            than any accounting record it
 *                                                            came with, and names the radio)
 *   no cellId                     mcc, mnc and cellId        the session's (all three)
 *   no cellId                     incomplete or none         the device's own (maybe a network)
 *
 * The session's three are taken together, never mixed with the device's: a cell id is only
 * unique within its mcc-mnc.
 */
export function networkCellOf(own: NetworkReading, session: SessionCell | null): NetworkReading {
  if (own.cellId != null) return own;
  if (session && session.mcc !== null && session.mnc !== null && session.cellId !== null)
    return { mcc: session.mcc, mnc: session.mnc, cellId: session.cellId };
  return own;
}
