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
