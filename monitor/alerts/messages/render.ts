import { SEVERITY } from '../severity.ts';
import type { AlertDevice, AlertEvent, AlertType, Cause, DeviceInfo, IncidentInfo, Language } from '../types.ts';
import { de } from './de.ts';
import { en } from './en.ts';
import { coords, duration, mapLink, utc } from './format.ts';
import { sv } from './sv.ts';
import { oneLine } from '../../security/plain-text.ts';
import type { Templates, View } from './templates.ts';
import type { WarningDetail } from '../../warnings/types.ts';

export const LANGUAGES: Record<Language, Templates> = { en, de, sv };

/** "de-CH" → de; anything we have no templates for → en. */
export function languageOf(tag: string | undefined): Language {
  const base = (tag ?? 'en').toLowerCase().split(/[-_]/)[0];
  return base in LANGUAGES ? (base as Language) : 'en';
}

/** Everything the engine decided about an alert; rendering turns it into the event of docs/contract.md §7. */
export interface AlertDraft {
  id: string;
  type: AlertType;
  /** When it happened (the true transition time), epoch ms. */
  at: number;
  customerId: string;
  customerName: string;
  /** Device alerts: what lookup() returned, or a bare id when the device is unknown. */
  device?: DeviceInfo;
  lastSeen: number | null;
  cause: Cause;
  /** From diagnosis; used as-is for English, the localised step for the cause otherwise. */
  nextStep?: string;
  relatesTo?: string;
  /** device.flapping: changes counted and the window they fell in. */
  flips?: number;
  windowMs?: number;
  /** Early warnings: the figures behind it (monitor/warnings/conditions.ts). */
  warning?: WarningDetail;
  incident?: {
    id: string;
    scope: IncidentInfo['scope'];
    key: string;
    openedAt: number;
    resolvedAt?: number;
    members: DeviceInfo[];
    stillOffline: DeviceInfo[];
  };
}

const LIST_MAX = 25;

/** Warning types → their templates (the rest are alerts). */
const WARNINGS: Partial<Record<AlertType, 'batteryLow' | 'noMotion' | 'signalFading'>> = {
  'device.battery_low': 'batteryLow',
  'device.no_motion': 'noMotion',
  'device.signal_fading': 'signalFading',
};

export function alertDevice(d: DeviceInfo): AlertDevice {
  return { id: d.id, name: d.name ?? d.id, customerId: d.customerId, iccid: d.iccid };
}

// Names are flattened to one line: a stored "Kito\r\nBcc: …" must not become a header or a
// forged line of the mail (new names with control characters are refused at the API).
const label = (d: DeviceInfo) => (d.name && d.name !== d.id ? `${oneLine(d.name)} (${d.id})` : d.id);
const who = (d: DeviceInfo) => {
  const inner = [d.name && d.name !== d.id ? d.id : null, d.iccid ? `ICCID ${d.iccid}` : null].filter(Boolean).join(', ');
  const name = d.name && d.name !== d.id ? oneLine(d.name) : d.id;
  return inner ? `${name} (${inner})` : name;
};

/**
 * Render an alert once, in the customer's language: the one-sentence `message`, an e-mail
 * `subject`, and a `body` of labelled lines a support agent would have written by hand.
 * `now` is the render time: an offline held by restart grace says how long it has really been silent.
 */
export function render(draft: AlertDraft, lang: Language, now: number): AlertEvent {
  const t = LANGUAGES[lang];
  const d = draft.device;
  const pos = d?.lastPosition ?? null;
  const silentMs = draft.lastSeen === null ? 0 : (draft.type === 'device.online' ? draft.at : now) - draft.lastSeen;
  const warningStep = WARNINGS[draft.type] && t[WARNINGS[draft.type]!].nextStep;
  const nextStep = warningStep || (lang === 'en' && draft.nextStep ? draft.nextStep : t.nextSteps[draft.cause]);
  const inc = draft.incident;
  const scope = inc ? (inc.scope === 'customer' ? t.scope.customer(oneLine(draft.customerName)) : t.scope[inc.scope](inc.key)) : '';
  const v: View = {
    device: d ? label(d) : '',
    who: d ? who(d) : '',
    iccid: d?.iccid ?? t.labels.unknown,
    since: draft.lastSeen === null ? null : utc(draft.lastSeen),
    silentFor: duration(silentMs, t.units),
    position: pos ? coords(pos.lat, pos.lon) : null,
    place: d?.place != null ? oneLine(d.place) : null,
    battery: d?.battery != null ? `${Math.round(d.battery)} %` : null,
    signal: d?.rssi != null ? `${d.rssi} dBm` : null,
    cause: t.causes[draft.cause],
    nextStep,
    count: inc?.members.length ?? 0,
    scope,
    stillOffline: inc?.stillOffline.length ?? 0,
    flips: draft.flips ?? 0,
    window: duration(draft.windowMs ?? 0, t.units),
    hoursLeft: draft.warning?.hoursLeft != null ? duration(draft.warning.hoursLeft * 3_600_000, t.units) : null,
    stillFor: duration(draft.warning?.stillMs ?? 0, t.units),
    dropDb: `${Math.round(draft.warning?.dropDb ?? 0)} dB`,
  };
  const warning = WARNINGS[draft.type];
  const tpl = warning
    ? t[warning]
    : {
        'device.offline': t.offline,
        'device.online': t.online,
        'device.flapping': t.flapping,
        'device.reminder': t.reminder,
        'incident.opened': t.incidentOpened,
        'incident.resolved': t.incidentResolved,
      }[draft.type as Exclude<AlertType, keyof typeof WARNINGS>];
  const message = tpl.message(v);

  const lines: string[] = [message, ''];
  const row = (k: string, val: string) => lines.push(`${k}: ${val}`);
  if (d) {
    row(t.labels.device, v.device);
    row(t.labels.iccid, v.iccid);
    row(
      t.labels.lastSeen,
      v.since ? (draft.type === 'device.online' ? v.since : `${v.since} (${t.labels.ago(v.silentFor)})`) : t.labels.never,
    );
    if (draft.type === 'device.online') row(t.labels.backOnline, `${utc(draft.at)} (${v.silentFor})`);
    row(
      t.labels.lastPosition,
      pos ? `${v.place ? `${v.place}, ` : ''}${v.position} (${utc(pos.ts)}) ${mapLink(pos.lat, pos.lon)}` : t.labels.unknown,
    );
    row(t.labels.battery, v.battery ?? t.labels.unknown);
    row(t.labels.signal, v.signal ?? t.labels.unknown);
  }
  // A warning has no cause yet (nothing has failed): what it saw is in the message; what to do follows.
  if (draft.type !== 'device.online' && draft.type !== 'incident.resolved') {
    if (!warning) row(t.labels.cause, v.cause);
    row(t.labels.nextStep, nextStep);
  }
  if (inc) {
    const list = draft.type === 'incident.resolved' ? inc.stillOffline : inc.members;
    if (list.length) {
      lines.push('', `${draft.type === 'incident.resolved' ? t.labels.stillOffline : t.labels.devices}:`);
      for (const m of list.slice(0, LIST_MAX)) {
        lines.push(
          `- ${label(m)}, ICCID ${m.iccid ?? t.labels.unknown}${m.lastPosition ? `, ${coords(m.lastPosition.lat, m.lastPosition.lon)}` : ''}`,
        );
      }
      if (list.length > LIST_MAX) lines.push(t.labels.andMore(list.length - LIST_MAX));
    }
  }
  lines.push('', `${t.labels.alertId}: ${draft.id}`);

  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: draft.id,
    type: draft.type,
    severity: SEVERITY[draft.type],
    at: iso(draft.at),
    customerId: draft.customerId,
    device: d ? alertDevice(d) : null,
    lastSeen: draft.lastSeen === null ? null : iso(draft.lastSeen),
    lastPosition: pos ? { lat: pos.lat, lon: pos.lon, ts: iso(pos.ts) } : null,
    battery: d?.battery ?? null,
    rssi: d?.rssi ?? null,
    cause: draft.cause,
    nextStep,
    message,
    subject: tpl.subject(v),
    body: lines.join('\n'),
    language: lang,
    ...(draft.relatesTo ? { relatesTo: draft.relatesTo } : {}),
    ...(inc
      ? {
          incident: {
            id: inc.id,
            scope: inc.scope,
            key: inc.key,
            openedAt: iso(inc.openedAt),
            ...(inc.resolvedAt !== undefined ? { resolvedAt: iso(inc.resolvedAt), stillOffline: inc.stillOffline.map(alertDevice) } : {}),
          },
          devices: inc.members.map(alertDevice),
        }
      : {}),
  };
}
