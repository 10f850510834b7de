import { z } from 'zod';
import { CAUSES } from '../../monitor/types.ts';

/**
 * Response bodies of the REST API as schemas. They document the API (OpenAPI) and the test
 * suite checks real responses against them, so the description cannot drift from the code.
 */
const isoOrNull = z.string().nullable().describe('ISO-8601 time, or null');
const status = z.enum(['unknown', 'online', 'late', 'offline']);

export const errorBody = z.object({ error: z.string().describe('one clear sentence') });

export const health = z.object({
  status: z.enum(['ok', 'degraded']),
  problems: z
    .array(z.string())
    .optional()
    .describe('why degraded, e.g. "disk full: database or disk is full (SQLITE_FULL) in timeseries.db"'),
  mqttPort: z.number().int(),
  httpPort: z.number().int(),
  store: z.string(),
  devices: z.number().int(),
  version: z.string(),
});

export const channelView = z.union([
  z.object({ type: z.literal('webhook'), url: z.string(), secret: z.literal('***'), escalation: z.boolean().optional() }),
  z.object({ type: z.literal('email'), to: z.string(), escalation: z.boolean().optional() }),
  z.object({ type: z.literal('mqtt'), escalation: z.boolean().optional() }),
]);

export const customerView = z.object({
  id: z.string(),
  name: z.string(),
  offlineAfter: z.number().nullable(),
  language: z.string(),
  channels: z.array(channelView),
  parentId: z.string().nullable(),
  communicationPlan: z.string().nullable(),
  ratePlan: z.string().nullable(),
  alertPolicy: z.record(z.string(), z.number()).nullable(),
  diagnosis: z.record(z.string(), z.number()).nullable(),
  contacts: z.array(z.object({ name: z.string(), email: z.string(), language: z.enum(['en', 'de', 'sv']), timeZone: z.string() })),
  createdAt: z.string(),
});

export const deviceView = z.object({
  id: z.string(),
  customerId: z.string(),
  name: z.string().nullable(),
  iccid: z.string().nullable(),
  imsi: z.string().nullable(),
  msisdn: z.string().nullable(),
  species: z.string().nullable(),
  imei: z.string().nullable(),
  nickname: z.string().nullable(),
  tagModel: z.string().nullable(),
  simState: z.enum(['test', 'activation_ready', 'activated', 'deactivated', 'retired']),
  custom: z.record(z.string(), z.unknown()),
  status,
  statusSince: isoOrNull,
  connection: z.enum(['never', 'connected', 'disconnected', 'lost']),
  connectionSince: isoOrNull,
  lastSeen: isoOrNull,
  lastPosition: z.object({ lat: z.number(), lon: z.number(), ts: isoOrNull }).nullable(),
  battery: z.number().nullable(),
  rssi: z.number().nullable(),
  rat: z.string().nullable(),
  mcc: z.number().nullable(),
  mnc: z.number().nullable(),
  cellId: z.number().nullable(),
  temp: z.number().nullable(),
  activity: z.number().nullable(),
  seq: z.number().nullable(),
  interval: z.number().nullable().describe('seconds'),
  offlineAfter: z.number().nullable().describe('seconds of silence after which the device is offline (the effective value)'),
  nextDeadline: isoOrNull,
  clock: z
    .object({
      reliable: z.boolean(),
      reason: z.enum(['future', 'too_old', 'offset']).optional().describe('ts ahead, ts older than a year, far off on live traffic'),
      skewSeconds: z.number().optional().describe('device clock minus server clock: positive ahead'),
      since: isoOrNull.optional(),
    })
    .describe('whether the device clock is believed; history places heartbeats by their ts only when plausible'),
  createdAt: isoOrNull,
  session: z
    .object({
      state: z.enum(['open', 'closed', 'unknown']),
      since: isoOrNull,
      cellId: z.number().nullable(),
      tac: z.number().nullable(),
      mcc: z.number().nullable(),
      mnc: z.number().nullable(),
      rat: z.string().nullable(),
      imsi: z.string().nullable(),
      framedIp: z.string().nullable(),
      bytesUp: z.number(),
      bytesDown: z.number(),
      terminateCause: z.string().nullable(),
      reattachesLastHour: z.number(),
      lastRecord: isoOrNull,
    })
    .optional()
    .describe('GET /api/devices/{id} only, when RADIUS accounting is on: the SIM data session as the packet gateway reports it'),
});

export const deviceCreated = deviceView.extend({ token: z.string().describe('the device token, shown only here') });
export const deviceList = z.object({ items: z.array(deviceView), next: z.string().nullable() });

export const heartbeatView = z.object({
  deviceId: z.string(),
  ts: isoOrNull,
  receivedAt: isoOrNull,
  timeSource: z.enum(['device', 'receive']).describe('which time placed the row in history: its plausible ts, or the receive time'),
  seq: z.number().int().optional(),
  interval: z.number().optional(),
  lat: z.number().optional(),
  lon: z.number().optional(),
  alt: z.number().optional(),
  battery: z.number().optional(),
  rssi: z.number().optional(),
  rat: z.string().optional(),
  mcc: z.number().optional(),
  mnc: z.number().optional(),
  cellId: z.number().optional(),
  iccid: z.string().optional(),
  temp: z.number().optional(),
  activity: z.number().optional(),
  bytesUp: z.number().optional(),
  bytesDown: z.number().optional(),
});
export const heartbeatList = z.object({ items: z.array(heartbeatView) });

export const keyCreated = z.object({
  token: z.string(),
  id: z.string(),
  role: z.enum(['admin', 'agent', 'customer']),
  customerId: z.string().nullable(),
});
export const keyInfo = z.object({
  id: z.string(),
  role: z.enum(['admin', 'agent', 'customer']),
  customerId: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: isoOrNull,
});
export const keyList = z.object({ items: z.array(keyInfo) });

export const onboardingResult = z.object({
  created: z.number().int(),
  rejected: z.array(
    z.object({ line: z.number().int(), error: z.string(), status: z.number().int(), conflict: z.enum(['device', 'iccid']).optional() }),
  ),
  credentials: z.array(z.object({ id: z.string(), token: z.string() })),
});

/** The diagnosis carries evidence objects that vary by check; the documented core is fixed. */
export const diagnosisView = z.looseObject({
  deviceId: z.string(),
  status: z.enum(['unknown', 'online', 'late', 'offline']),
  cause: z.enum(CAUSES),
  confidence: z.string(),
  nextStep: z.string(),
  checks: z.array(z.looseObject({ name: z.string(), level: z.enum(['green', 'yellow', 'red', 'grey']), finding: z.string() })),
});

export const auditList = z.object({
  items: z.array(
    z.object({
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      target: z.string(),
      detail: z.record(z.string(), z.unknown()).nullable(),
      by: z.string().nullable().describe('the person (username) who did it; null for an API key or the system'),
    }),
  ),
});

const role = z.enum(['admin', 'agent', 'customer']);

export const userView = z.object({
  id: z.string(),
  username: z.string(),
  role,
  customerId: z.string().nullable(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  createdAt: z.string(),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
});
export const userList = z.object({ items: z.array(userView) });

export const sessionView = z.object({
  username: z.string(),
  role,
  customerId: z.string().nullable(),
  name: z.string().nullable(),
  csrfToken: z.string().describe('send as X-CSRF-Token on every cookie-authenticated write'),
  expiresAt: z.string().optional().describe('ISO-8601: the latest end of the session (it also ends after 30 min idle)'),
});

const window = z.object({ from: z.string(), until: z.string() }).nullable();

export const silenceView = z.object({
  id: z.string(),
  match: z.object({
    deviceId: z.string().optional(),
    customerId: z.string().optional(),
    mcc: z.number().int().optional(),
    mnc: z.number().int().optional(),
    cellId: z.number().int().optional(),
  }),
  customerId: z.string().nullable().describe('whose devices it can cover; null = operator-wide (a network or cell)'),
  startsAt: z.string(),
  endsAt: z.string(),
  reason: z.string(),
  recurrence: z
    .object({
      weekdays: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])),
      at: z.string(),
      durationMinutes: z.number().int(),
      timeZone: z.string(),
    })
    .nullable(),
  by: z.string(),
  createdAt: z.string(),
  deletedAt: isoOrNull,
  deletedBy: z.string().nullable(),
  active: z.boolean().describe('a window is open now'),
  window: window.describe('the window open now'),
  nextWindow: window.describe('the next window to open'),
});
export const silenceCreated = silenceView.extend({
  devices: z.union([z.number().int(), z.string()]).describe('devices it covers now, or "more than N"'),
});
export const silenceList = z.object({ items: z.array(silenceView) });

export const noteView = z.object({ id: z.number().int(), deviceId: z.string(), text: z.string(), by: z.string(), at: z.string() });
export const caseLogView = z.object({
  deviceId: z.string(),
  items: z.array(
    z
      .object({ at: z.string(), kind: z.enum(['note', 'alert', 'ack', 'resolved', 'silence', 'silence-deleted']) })
      .catchall(z.unknown())
      .describe(
        'note {by, text}; alert {alertId, type, state, sent, message}; ack {alertId, by}; resolved {alertId, type}; silence {silenceId, by, reason, startsAt, endsAt, recurring}; silence-deleted {silenceId, by}',
      ),
  ),
});

const contactView = z.object({ name: z.string(), email: z.string(), language: z.enum(['en', 'de', 'sv']), timeZone: z.string() });

/** GET /api/devices/:id/letter: a draft, composed for one contact. */
export const letterDraft = z.object({
  to: z.array(z.string()),
  subject: z.string(),
  body: z.string(),
  language: z.enum(['en', 'de', 'sv']),
  contacts: z.array(contactView),
});

const storedLetter = z.object({
  id: z.string(),
  deviceId: z.string().nullable().describe('the device the letter is about; null for a letter about an incident'),
  incidentId: z.string().nullable().describe('the incident the letter is about; null for a letter about a device'),
  customerId: z.string(),
  at: z.string(),
  sender: z.object({ role: z.string(), keyId: z.string().nullable(), name: z.string() }),
  to: z.array(z.string()),
  subject: z.string(),
  body: z.string(),
  language: z.string(),
  result: z.enum(['sent', 'failed']),
  error: z.string().nullable(),
  attempts: z.number().int(),
  sentAt: z.string().nullable(),
});

export const letterResult = z.object({ letter: storedLetter });
/** 200: the same letter posted again (a double click); the first one, not sent twice. */
export const letterRepeated = z.object({ letter: storedLetter, duplicate: z.literal(true), note: z.string() });
/** 502: the SMTP server's answer in `error`, the kept letter beside it. */
export const letterFailed = z.object({ error: z.string(), letter: storedLetter });
export const letterList = z.object({ items: z.array(storedLetter) });
