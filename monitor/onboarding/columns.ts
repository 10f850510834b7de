import { z } from 'zod';
import { luhnValid } from '../registry/luhn.ts';
import type { NewDevice } from '../registry/registry.ts';
import { CONTROL_CHARACTERS_MESSAGE, DOT_SEGMENT_MESSAGE, hasControlCharacters, isDotSegment } from '../security/plain-text.ts';
import { restoreFormula } from './formula-cells.ts';

/** docs/contract.md §6a: the header, in this order; only deviceId and customerId are required. */
export const CSV_COLUMNS = ['deviceId', 'customerId', 'name', 'iccid', 'imsi', 'msisdn', 'interval', 'offlineAfter', 'species'] as const;
export const REQUIRED_COLUMNS = ['deviceId', 'customerId'] as const;
/** Columns lastseen also understands beyond the contract (operators' SIM exports carry them). */
export const OPTIONAL_EXTRA_COLUMNS = ['simState', 'imei', 'nickname', 'tagModel'] as const;

const empty = (v: unknown) => v === undefined || v === null || v === '';
const text = (max: number) =>
  z.preprocess(
    (v) => (empty(v) ? undefined : v),
    z
      .string()
      .max(max)
      .refine((s) => !hasControlCharacters(s), CONTROL_CHARACTERS_MESSAGE)
      .optional(),
  );
const digits = (re: RegExp, msg: string) => z.preprocess((v) => (empty(v) ? undefined : v), z.string().regex(re, msg).optional());
// CSV cells are text: "900" → 900; "fifteen" is an error for that line only.
const seconds = z.preprocess(
  (v) => (empty(v) ? undefined : typeof v === 'string' ? (/^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v) : v),
  z
    .number({ error: 'must be a number of seconds' })
    .positive('must be a number of seconds > 0')
    .max(30 * 86400)
    .optional(),
);

/** One onboarding row (CSV line or JSON array item), validated and typed. */
export const onboardingRowSchema = z.object({
  deviceId: z
    .string({ error: 'is required' })
    .min(1, 'is required')
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits, ".", "_", ":" and "-"')
    .refine((s) => !s.startsWith('customer:'), 'must not start with "customer:"')
    .refine((s) => !isDotSegment(s), DOT_SEGMENT_MESSAGE),
  customerId: z.string({ error: 'is required' }).min(1, 'is required').max(128),
  name: text(200),
  // Text, never a number: leading zeros are kept (docs/contract.md §6a).
  iccid: digits(/^\d{18,22}$/, 'must be 18 to 22 digits').refine(
    (s) => s === undefined || luhnValid(s),
    'fails the Luhn check (a mistyped digit?)',
  ),
  imsi: digits(/^\d{6,15}$/, 'must be 6 to 15 digits'),
  msisdn: digits(/^\+?\d{6,15}$/, 'must be 6 to 15 digits, optionally with a leading +'),
  interval: seconds,
  offlineAfter: seconds,
  species: text(100),
  imei: digits(/^\d{14,16}$/, 'must be 14 to 16 digits'),
  nickname: text(200),
  tagModel: text(200),
  simState: z.preprocess(
    (v) => (empty(v) ? undefined : v),
    z.enum(['test', 'activation_ready', 'activated', 'deactivated', 'retired']).optional(),
  ),
});

export type OnboardingRow = z.infer<typeof onboardingRowSchema>;

/** Validate one row; the error names the column, as an operator would look for it. */
export function validateRow(raw: unknown): { ok: true; device: NewDevice } | { ok: false; error: string } {
  const r = onboardingRowSchema.safeParse(restoreCells(raw));
  if (!r.success) {
    const issue = r.error.issues[0];
    const col = issue.path.join('.');
    return { ok: false, error: col ? `${col} ${issue.message}` : issue.message };
  }
  const v = r.data;
  return {
    ok: true,
    device: {
      id: v.deviceId,
      customerId: v.customerId,
      name: v.name ?? null,
      iccid: v.iccid ?? null,
      imsi: v.imsi ?? null,
      msisdn: v.msisdn ?? null,
      interval: v.interval ?? null,
      offlineAfter: v.offlineAfter ?? null,
      species: v.species ?? null,
      imei: v.imei ?? null,
      nickname: v.nickname ?? null,
      tagModel: v.tagModel ?? null,
      simState: v.simState,
    },
  };
}

/** Undo the export's formula quoting (./formula-cells.ts) on every text cell of a row. */
function restoreCells(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = typeof v === 'string' ? restoreFormula(v) : v;
  return out;
}
