/** The one place that decides how a status looks. Late and offline are warm and loud on purpose. */

export type DeviceStatus = 'unknown' | 'online' | 'late' | 'offline';
export const STATUSES: readonly DeviceStatus[] = ['offline', 'late', 'unknown', 'online'];

const COLOURS: Record<DeviceStatus, string> = {
  online: '#2e9d4b',
  late: '#f29e0c',
  offline: '#d7263d',
  unknown: '#8a8f98',
};

export function statusColour(s: string): string {
  return COLOURS[s as DeviceStatus] ?? COLOURS.unknown;
}

/** Marker radius (px): problems are bigger than healthy devices. */
export function statusRadius(s: string): number {
  return s === 'offline' ? 7 : s === 'late' ? 6 : 4.5;
}

/** Draw order: healthy first, so late and offline are painted on top. */
export function statusLayer(s: string): number {
  return s === 'offline' ? 3 : s === 'late' ? 2 : s === 'unknown' ? 1 : 0;
}

/**
 * The marker's outline says what the network sees of the SIM (RADIUS accounting), so "is it the
 * device or the network?" shows before a click:
 *
 *   session        outline                     reads as
 *   -------------  --------------------------  ---------------------------------------------------
 *   open           teal, 2.5 px                the network carries its data session: if the device is
 *                                              offline, look at the device (device_unresponsive)
 *   closed         dark, dashed                no data session: power or coverage (detached)
 *   none known     dark, 1 px                  the network has not told
 *
 * (The selected device's outline is the thicker blue of web/client/map-view.ts, over all three.)
 */
export function sessionOutline(state: string | null | undefined): { color: string; weight: number; dashArray: string | undefined } {
  if (state === 'open') return { color: '#0a9396', weight: 2.5, dashArray: undefined };
  if (state === 'closed') return { color: '#222', weight: 1.5, dashArray: '3 2' };
  return { color: '#222', weight: 1, dashArray: undefined };
}
