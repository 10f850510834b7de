/**
 * The deep link to one device on the web map: `{base}/?device={id}` opens the map with that
 * device's panel (web/client/main.ts). A query, not the fragment: the fragment may carry the
 * login token (`#token=`), which the page removes from the address bar at once.
 *
 * `base` is LASTSEEN_PUBLIC_URL when set (behind a proxy the request's own origin is the
 * proxy's inside address), else the origin the agent's request came to.
 */
export function deviceLink(base: string, deviceId: string): string {
  return `${base.replace(/\/+$/, '')}/?device=${encodeURIComponent(deviceId)}`;
}

/**
 * The deep link to one incident: `{base}/?alert={id}` opens the web UI on that alert (an
 * incident's `incident.opened` alert, or the incident's own id), with its member devices.
 * A query for the same reason as `deviceLink`.
 */
export function incidentLink(base: string, id: string): string {
  return `${base.replace(/\/+$/, '')}/?alert=${encodeURIComponent(id)}`;
}
