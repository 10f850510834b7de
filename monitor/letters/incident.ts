import { coords, countryName, duration, localAndUtc, mapLink, utc } from '../alerts/messages/format.ts';
import { LANGUAGES } from '../alerts/messages/render.ts';
import type { IncidentLetterView } from '../alerts/messages/templates.ts';
import type { Cause, DeviceInfo, IncidentInfo, Language } from '../alerts/types.ts';
import { haversineKm, type Place } from '../geo/gazetteer.ts';
import { oneLine } from '../security/plain-text.ts';
import type { Contact } from '../types.ts';
import type { Letter } from './compose.ts';

/** One device of the incident as the letter names it. */
export interface IncidentMember {
  /** As the alerts see it (monitor/alerts deviceInfo): ids, last position. */
  device: DeviceInfo;
  /** Epoch ms of its last heartbeat; null when it never reported. */
  lastSeen: number | null;
  /** Reporting again since the incident opened. */
  back: boolean;
}

export interface IncidentLetterInput {
  incident: { id: string; scope: IncidentInfo['scope']; key: string; openedAt: number };
  /** The incident alert's probable cause (network_outage for a cell or network). */
  cause: Cause;
  members: readonly IncidentMember[];
  contact: Contact;
  /** Overrides the contact's language (the agent chose another). */
  language?: Language;
  /** The nearest named place to the members' centre (`areaOf`), from the gazetteer; null when none is near. */
  place: Place | null;
  /** Deep link to the incident in the web UI (./link.ts incidentLink). */
  link: string;
  /** Epoch ms: when the letter is composed; "silent for …" counts to here. */
  now: number;
}

/** Where the members were last seen: their centre and how far the farthest is from it. */
export interface Area {
  lat: number;
  lon: number;
  /** Great-circle distance from the centre to the farthest member, km. */
  km: number;
  /** Members with a known position (the others say nothing about where). */
  fixes: number;
}

/** More device lines than this and the letter is a list, not a letter: the rest are counted. */
export const LETTER_LIST_MAX = 25;

/**
 * The centre of the members' last positions: the mean of their unit vectors, turned back into
 * latitude and longitude. Averaging degrees would put collars on both sides of the 180th
 * meridian on the other side of the world; the vector mean stays between them.
 */
export function areaOf(members: readonly Pick<IncidentMember, 'device'>[]): Area | null {
  const rad = Math.PI / 180;
  let x = 0;
  let y = 0;
  let z = 0;
  const fixes = fixesOf(members);
  for (const p of fixes) {
    x += Math.cos(p.lat * rad) * Math.cos(p.lon * rad);
    y += Math.cos(p.lat * rad) * Math.sin(p.lon * rad);
    z += Math.sin(p.lat * rad);
  }
  if (fixes.length === 0) return null;
  const lon = Math.atan2(y, x) / rad;
  const lat = Math.atan2(z, Math.hypot(x, y)) / rad;
  return { lat, lon, km: farthestKm(fixes, lat, lon), fixes: fixes.length };
}

/**
 * A letter from the support team to one person at the customer about an incident: many of its
 * devices fell silent at once on one radio cell or mobile network (monitor/alerts/correlate.ts).
 * Pure: the same input gives the same letter. Same templates as the device letter and the alert
 * e-mails (monitor/alerts/messages/), so cause names and next steps read alike.
 *
 *   line             from
 *   ---------------  ---------------------------------------------------------------------
 *   greeting         the contact's name
 *   opening          how many devices, the cell or network, the earliest member lastSeen
 *                    (contact's zone and UTC), how many are still silent
 *   Silent since     that earliest lastSeen (the incident's opening time if none reported)
 *   Where            "within X km of <place>": X from the gazetteer place (else the centre)
 *                    to the farthest member, rounded up; the centre's coordinates, OSM link
 *   Network          the cell or mobile network key (none for a customer-wide incident)
 *   Probable cause   the incident's cause in words (templates `causes`)
 *   Next step        worded for the customer (templates `nextSteps`)
 *   Devices          silent ones first (longest silent first), then those back; at most
 *                    LETTER_LIST_MAX lines, then "… and N more"
 *   incident link    `link`
 */
export function composeIncidentLetter(input: IncidentLetterInput): Letter {
  const language = input.language ?? input.contact.language;
  const t = LANGUAGES[language];
  const l = t.letter.incident;
  const tz = input.contact.timeZone;
  const inc = input.incident;
  // Loops, not Math.min(...list): an incident of a whole network can have more members than a call has arguments.
  let earliest: number | null = null;
  for (const m of input.members) if (m.lastSeen !== null && (earliest === null || m.lastSeen < earliest)) earliest = m.lastSeen;
  const since = earliest ?? inc.openedAt;
  const area = areaOf(input.members);
  const place = input.place;
  let areaText: string | null = null;
  if (area) {
    // Measured from the place when there is one: "within 8 km of Nairobi" must hold for every member.
    const from = place ?? area;
    const km = Math.max(1, Math.ceil(farthestKm(fixesOf(input.members), from.lat, from.lon)));
    const where = place ? `${oneLine(place.name)}, ${countryName(place.country, language)}` : coords(area.lat, area.lon);
    areaText = l.within(km, where);
  }
  const network = inc.scope === 'cell' ? l.cell(inc.key) : inc.scope === 'network' ? l.network(inc.key) : null;
  const v: IncidentLetterView = {
    contact: oneLine(input.contact.name),
    count: input.members.length,
    silent: input.members.filter((m) => !m.back).length,
    network,
    scope: inc.scope === 'customer' ? null : t.scope[inc.scope](inc.key),
    sinceLocal: localAndUtc(since, tz),
    since: utc(since),
    silentFor: duration(input.now - since, t.units),
    area: areaText,
    cause: t.causes[input.cause],
    nextStep: t.nextSteps[input.cause],
  };
  const lines: string[] = [t.letter.greeting(v), '', l.opening(v), ''];
  const row = (k: string, val: string) => lines.push(`${k}: ${val}`);
  row(l.labels.since, v.sinceLocal);
  row(l.labels.area, area ? `${areaText} – ${coords(area.lat, area.lon)} ${mapLink(area.lat, area.lon)}` : t.labels.unknown);
  if (network) row(l.labels.network, network);
  row(t.labels.cause, v.cause);
  row(t.labels.nextStep, v.nextStep);
  lines.push('', `${l.labels.devices}:`);
  const ordered = [...input.members].sort(
    (a, b) =>
      Number(a.back) - Number(b.back) ||
      (a.lastSeen ?? -Infinity) - (b.lastSeen ?? -Infinity) ||
      (a.device.id < b.device.id ? -1 : a.device.id > b.device.id ? 1 : 0),
  );
  for (const m of ordered.slice(0, LETTER_LIST_MAX)) {
    const d = m.device;
    const name = d.name && d.name !== d.id ? `${oneLine(d.name)} (${d.id})` : d.id;
    const state = m.back
      ? l.labels.back
      : m.lastSeen === null
        ? `${t.labels.lastSeen}: ${t.labels.never}`
        : `${l.labels.silent} ${localAndUtc(m.lastSeen, tz)}`;
    lines.push(`- ${name}${d.iccid ? `, ICCID ${d.iccid}` : ''}: ${state}`);
  }
  if (ordered.length > LETTER_LIST_MAX) lines.push(t.labels.andMore(ordered.length - LETTER_LIST_MAX));
  lines.push('', `${l.labels.link}: ${input.link}`, '', ...t.letter.signOff);
  // A subject is one header line, whatever a stored name held.
  return { subject: oneLine(l.subject(v)), body: lines.join('\n'), language };
}

function fixesOf(members: readonly Pick<IncidentMember, 'device'>[]): { lat: number; lon: number }[] {
  return members.flatMap((m) => {
    const p = m.device.lastPosition;
    return p && Number.isFinite(p.lat) && Number.isFinite(p.lon) ? [p] : [];
  });
}

/** Great-circle distance from (lat, lon) to the farthest of `points`, km. */
function farthestKm(points: readonly { lat: number; lon: number }[], lat: number, lon: number): number {
  let km = 0;
  for (const p of points) km = Math.max(km, haversineKm(lat, lon, p.lat, p.lon));
  return km;
}
