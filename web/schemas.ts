import { z } from 'zod';
import { thresholdOverridesSchema } from '../monitor/diagnosis/thresholds.ts';
import { luhnValid } from '../monitor/registry/luhn.ts';
import { CONTROL_CHARACTERS_MESSAGE, DOT_SEGMENT_MESSAGE, hasControlCharacters, isDotSegment } from '../monitor/security/plain-text.ts';
import { SIM_STATES } from '../monitor/types.ts';

/**
 * Request bodies and queries of the REST API (docs/contract.md §6). The same schemas validate
 * requests and will describe them in the OpenAPI document.
 */
const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits, ".", "_", ":" and "-"')
  .refine((s) => !isDotSegment(s), { message: DOT_SEGMENT_MESSAGE, params: { reason: 'reserved_id' } });
// Device ids become MQTT topic levels and usernames: no "/", "+", "#" and no "customer:" prefix clash.
const deviceId = id.refine((s) => !s.startsWith('customer:'), 'must not start with "customer:"');
const seconds = z
  .number()
  .positive()
  .max(30 * 86400);
/** A name or label: printed into e-mail lines and CSV cells, so one line (monitor/security/plain-text.ts). */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !hasControlCharacters(s), { message: CONTROL_CHARACTERS_MESSAGE, params: { reason: 'control_characters' } });
const imei = z.string().regex(/^\d{14,16}$/, 'must be 14 to 16 digits');

/** `escalation: true`: a second-line channel, used only to escalate (alertPolicy.escalateAfterMs). */
const escalation = z.boolean().optional();
export const channelSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    secret: z.string().min(8, 'must be at least 8 characters'),
    escalation,
  }),
  z.object({ type: z.literal('email'), to: z.email('must be an e-mail address'), escalation }),
  z.object({ type: z.literal('mqtt'), escalation }),
]);

/** An IANA zone this Node.js knows ("Africa/Nairobi"); "UTC" too. Intl throws a RangeError for any other. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A person letters are written to (monitor/letters/): name and address become mail header words, so one line. */
export const contactSchema = z
  .object({
    name: text(200).min(1),
    email: z.email('must be an e-mail address').max(254),
    language: z.enum(['en', 'de', 'sv'], 'must be en, de or sv'),
    timeZone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone such as "Africa/Nairobi" or "Europe/Berlin"'),
  })
  .strict();

const ms = z
  .number()
  .int()
  .positive()
  .max(7 * 86400_000);
/** Alert damping overrides (monitor/alerts/types.ts AlertPolicy); durations in ms. */
export const alertPolicySchema = z
  .object({
    flapTransitions: z.number().int().min(1).max(1000),
    flapWindowMs: ms,
    flapStableMs: ms,
    unstableHoldMs: ms,
    holdMs: ms,
    confirmIntervals: z.number().min(0).max(10),
    restartGraceMs: ms,
    incidentCustomerMin: z.number().int().min(2).max(1_000_000),
    incidentNetworkMin: z.number().int().min(2).max(1_000_000),
    incidentCellMin: z.number().int().min(2).max(1_000_000),
    incidentResolveRatio: z.number().min(0.1).max(1),
    incidentSettleMs: ms,
    // 0 = no reminders; at most 30 days after going offline.
    reminderAfterMs: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400_000),
    // 0 = no escalation; a firing alert not acknowledged this long after its time goes to the escalation channels.
    escalateAfterMs: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400_000),
  })
  .partial()
  .strict();

export const customerCreateSchema = z.object({
  id,
  name: text(200).min(1),
  offlineAfter: seconds.nullish(),
  language: z.enum(['en', 'de', 'sv']).optional(),
  channels: z.array(channelSchema).max(20).optional(),
  parentId: id.nullish(),
  communicationPlan: text(200).nullish(),
  ratePlan: text(200).nullish(),
  alertPolicy: alertPolicySchema.nullish(),
  diagnosis: thresholdOverridesSchema.nullish(),
  contacts: z.array(contactSchema).max(20).optional(),
});

export const customerPatchSchema = customerCreateSchema.omit({ id: true }).partial();

export const keyCreateSchema = z
  .object({ role: z.enum(['admin', 'agent', 'customer']), customerId: id.optional() })
  .refine((k) => k.role !== 'customer' || k.customerId, { message: 'customerId is required for the customer role', path: ['customerId'] });

export const deviceCreateSchema = z.object({
  id: deviceId,
  customerId: id,
  name: text(200).nullish(),
  iccid: z
    .string()
    .regex(/^\d{18,22}$/, 'must be 18 to 22 digits')
    .refine(luhnValid, 'fails the Luhn check (a mistyped digit?)')
    .nullish(),
  imsi: z
    .string()
    .regex(/^\d{6,15}$/, 'must be 6 to 15 digits')
    .nullish(),
  msisdn: z
    .string()
    .regex(/^\+?\d{6,15}$/, 'must be 6 to 15 digits, optionally with a leading +')
    .nullish(),
  interval: seconds.nullish(),
  offlineAfter: seconds.nullish(),
  species: text(100).nullish(),
  imei: imei.nullish(),
  nickname: text(200).nullish(),
  tagModel: text(200).nullish(),
  simState: z.enum(SIM_STATES as [string, ...string[]]).optional(),
  custom: z.record(z.string(), z.unknown()).optional(),
});

export const devicePatchSchema = z
  .object({
    name: text(200).nullable(),
    interval: seconds.nullable(),
    offlineAfter: seconds.nullable(),
    species: text(100).nullable(),
    imei: imei.nullable(),
    nickname: text(200).nullable(),
    tagModel: text(200).nullable(),
    simState: z.enum(SIM_STATES as [string, ...string[]]),
    custom: z.record(z.string(), z.unknown()),
  })
  .partial();

/** A time bound in a query string: ISO-8601 or epoch milliseconds. */
const timeParam = z
  .string()
  .transform((s, ctx) => {
    const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (Number.isNaN(n)) {
      ctx.addIssue({ code: 'custom', message: 'must be ISO-8601 or epoch milliseconds' });
      return z.NEVER;
    }
    return n;
  })
  .optional();

export const deviceListQuery = z.object({
  status: z.enum(['unknown', 'online', 'late', 'offline']).optional(),
  customerId: id.optional(),
  q: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

export const heartbeatsQuery = z.object({
  from: timeParam,
  to: timeParam,
  limit: z.coerce.number().int().min(1).max(10000).default(100),
});

/** Parse or throw a 400/422-worthy message naming the first bad field. */
/**
 * A person (web/routes/users.ts). A username is what people type to sign in: letters, digits and
 * `. _ @ -`, so it is also safe in logs and the audit log. Passwords: 10 to 1024 characters (long
 * passphrases welcome; argon2 hashes any length, the cap keeps one request's work bounded).
 */
export const userCreateSchema = z
  .object({
    username: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._@-]+$/, 'may contain only letters, digits, ".", "_", "@" and "-"'),
    password: z.string().min(10, 'must be at least 10 characters').max(1024),
    role: z.enum(['admin', 'agent', 'customer']),
    customerId: id.optional(),
    name: text(200).optional(),
    email: z.email('must be an e-mail address').max(254).optional(),
  })
  .strict()
  .refine((u) => u.role !== 'customer' || u.customerId, { message: 'customerId is required for the customer role', path: ['customerId'] });

/** `PATCH /api/users/:id`: an admin disables (ending their sessions) or enables a person. */
export const userPatchSchema = z.object({ disabled: z.boolean() }).strict();

/** `POST /api/session`: what a person types into the sign-in form. */
export const sessionCreateSchema = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1024),
});

export function parseOr<T>(
  schema: z.ZodType<T>,
  value: unknown,
  where: string,
): { ok: true; value: T } | { ok: false; error: string; reason: string } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const field = issue.path.join('.');
  // A rule that names its reason (control characters, reserved ids) is counted under it in /metrics.
  const reason = (issue as { params?: { reason?: unknown } }).params?.reason;
  return {
    ok: false,
    error: `${where}${field ? ` field "${field}"` : ''}: ${issue.message}`,
    reason: typeof reason === 'string' ? reason : 'invalid_field',
  };
}
