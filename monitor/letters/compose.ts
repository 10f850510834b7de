import type { DeviceInfo, Language } from '../alerts/types.ts';
import { coords, countryName, duration, localAndUtc, mapLink, utc } from '../alerts/messages/format.ts';
import { LANGUAGES } from '../alerts/messages/render.ts';
import type { LetterView, Templates } from '../alerts/messages/templates.ts';
import type { Place } from '../geo/gazetteer.ts';
import { oneLine } from '../security/plain-text.ts';
import type { Contact } from '../types.ts';
import type { Diagnosis } from '../diagnosis/types.ts';

export interface LetterInput {
  /** What the support team knows: status, lastSeen and the probable cause (monitor/diagnosis). */
  diagnosis: Pick<Diagnosis, 'status' | 'lastSeen' | 'cause'>;
  /** The device as the alerts see it (monitor/alerts deviceInfo): ids, last position, battery, signal. */
  device: DeviceInfo;
  contact: Contact;
  /** Overrides the contact's language (the agent chose another). */
  language?: Language;
  /** The nearest named place to the last position, from the gazetteer; null when none is near. */
  place: Place | null;
  /** Deep link to the device on the map (monitor/letters/link.ts). */
  link: string;
  /** Epoch ms: when the letter is composed; "silent for …" counts to here. */
  now: number;
}

export interface Letter {
  subject: string;
  body: string;
  language: Language;
}

/**
 * A letter from the support team to one person at the customer, in that person's language
 * and time zone. Pure: the same input gives the same letter. It shares the alert e-mail's
 * templates (monitor/alerts/messages/): the same labels, cause names and customer-facing next
 * steps, so a letter and an alert about the same device read alike.
 *
 *   line             from
 *   ---------------  --------------------------------------------------------------
 *   greeting         the contact's name
 *   opening          status: never heard / reporting (online) / silent since (late, offline)
 *   Device, ICCID    the registry (name flattened to one line)
 *   Last seen        diagnosis.lastSeen in the contact's zone, with UTC beside it
 *   Last position    gazetteer place ("12 km NE of Nairobi, Kenya"), coordinates, fix time, OSM link
 *   Battery, Signal  the last reported values
 *   Probable cause   diagnosis.cause in words (templates `causes`)
 *   Next step        worded for the customer (templates `nextSteps`), not the agent's nextStep
 *   map link         `link`
 */
export function composeLetter(input: LetterInput): Letter {
  const language = input.language ?? input.contact.language;
  const t = LANGUAGES[language];
  const d = input.device;
  const pos = d.lastPosition;
  const lastSeen = input.diagnosis.lastSeen === null ? null : Date.parse(input.diagnosis.lastSeen);
  const tz = input.contact.timeZone;
  const name = d.name && d.name !== d.id ? oneLine(d.name) : null;
  const whoInner = [name ? d.id : null, d.iccid ? `ICCID ${d.iccid}` : null].filter(Boolean).join(', ');
  const place = input.place ? placeText(input.place, t, language) : null;
  const v: LetterView = {
    contact: oneLine(input.contact.name),
    status: input.diagnosis.status,
    device: name ? `${name} (${d.id})` : d.id,
    who: whoInner ? `${name ?? d.id} (${whoInner})` : d.id,
    iccid: d.iccid ?? t.labels.unknown,
    since: lastSeen === null ? null : utc(lastSeen),
    sinceLocal: lastSeen === null ? null : localAndUtc(lastSeen, tz),
    silentFor: duration(lastSeen === null ? 0 : input.now - lastSeen, t.units),
    position: pos ? coords(pos.lat, pos.lon) : null,
    place,
    battery: d.battery != null ? `${Math.round(d.battery)} %` : null,
    signal: d.rssi != null ? `${d.rssi} dBm` : null,
    cause: t.causes[input.diagnosis.cause],
    nextStep: t.nextSteps[input.diagnosis.cause],
    count: 0,
    scope: '',
    stillOffline: 0,
    flips: 0,
    window: '',
    hoursLeft: null,
    stillFor: '',
    dropDb: '',
  };
  const lines: string[] = [t.letter.greeting(v), '', t.letter.opening(v), ''];
  const row = (k: string, val: string) => lines.push(`${k}: ${val}`);
  row(t.labels.device, v.device);
  row(t.labels.iccid, v.iccid);
  row(t.labels.lastSeen, v.sinceLocal ?? t.labels.never);
  row(
    t.labels.lastPosition,
    pos ? `${place ? `${place} – ` : ''}${v.position} (${localAndUtc(pos.ts, tz)}) ${mapLink(pos.lat, pos.lon)}` : t.labels.unknown,
  );
  row(t.labels.battery, v.battery ?? t.labels.unknown);
  row(t.labels.signal, v.signal ?? t.labels.unknown);
  if (input.diagnosis.status !== 'online') {
    row(t.labels.cause, v.cause);
    row(t.labels.nextStep, v.nextStep);
  }
  row(t.letter.mapLink, input.link);
  lines.push('', ...t.letter.signOff);
  // A subject is one header line, whatever a stored name held.
  return { subject: oneLine(t.letter.subject(v)), body: lines.join('\n'), language };
}

/** "12 km NE of Nairobi, Kenya"; within 2 km just "Nairobi, Kenya". */
export function placeText(p: Place, t: Templates, lang: Language): string {
  const km = Math.round(p.km);
  const dir = t.compass[Math.round(p.bearing / 45) % 8];
  return t.near(km, dir, oneLine(p.name), countryName(p.country, lang));
}
