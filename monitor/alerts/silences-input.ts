import { IANAZone } from 'luxon';
import { z } from 'zod';
import { CONTROL_CHARACTERS_MESSAGE, hasControlCharacters } from '../security/plain-text.ts';
import { WEEKDAYS, windowsBetween, type Recurrence, type Silence, type SilenceMatch } from './silences.ts';

/** The longest a silence may last, start to end: a year. Longer is a device to deactivate, not to silence. */
export const MAX_SILENCE_MS = 366 * 86400_000;

const id = z.string().min(1).max(128);
const code = z.number().int().min(0).max(999);
const time = z.union([z.iso.datetime({ offset: true }), z.number().int().positive()], {
  error: 'must be an ISO-8601 time with offset or epoch ms',
});

/**
 * `POST /api/silences` body. `match` is one of the shapes of SilenceMatch (./silences.ts);
 * startsAt defaults to now.
 */
export const silenceCreateSchema = z
  .object({
    match: z
      .object({
        deviceId: id.optional(),
        customerId: id.optional(),
        mcc: code.optional(),
        mnc: code.optional(),
        cellId: z.number().int().min(0).optional(),
      })
      .strict()
      .refine((m) => shapeError(m) === null, {
        message: 'must be one of {deviceId}, {customerId}, {mcc, mnc}, {mcc, mnc, cellId}, optionally with customerId beside mcc/mnc',
      }),
    startsAt: time.optional(),
    endsAt: time,
    reason: z
      .string()
      .trim()
      .min(1, 'must say why (planned maintenance, a collar in storage …)')
      .max(500)
      .refine((s) => !hasControlCharacters(s), { message: CONTROL_CHARACTERS_MESSAGE, params: { reason: 'control_characters' } }),
    recurrence: z
      .object({
        weekdays: z.array(z.enum(WEEKDAYS)).min(1).max(7),
        at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time "HH:MM"'),
        durationMinutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60),
        timeZone: z
          .string()
          .default('UTC')
          .refine((tz) => tz === 'UTC' || IANAZone.isValidZone(tz), 'must be "UTC" or an IANA time zone such as "Africa/Nairobi"'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SilenceCreate = z.infer<typeof silenceCreateSchema>;

function shapeError(m: SilenceMatch): string | null {
  const has = (k: keyof SilenceMatch) => m[k] !== undefined;
  if (has('deviceId')) return has('customerId') || has('mcc') || has('mnc') || has('cellId') ? 'deviceId stands alone' : null;
  if (has('mcc') !== has('mnc')) return 'mcc and mnc go together';
  if (has('cellId') && !has('mcc')) return 'a cell is named by mcc, mnc and cellId';
  return has('mcc') || has('customerId') ? null : 'empty';
}

const ms = (t: string | number | undefined, now: number) => (t === undefined ? now : typeof t === 'number' ? t : Date.parse(t));

/**
 * The time checks after the shape is valid. A silence that can never silence anything is
 * refused rather than stored (it would only show up later as a puzzle):
 *
 *   case                                               outcome
 *   -------------------------------------------------  ---------------------------------
 *   endsAt not after startsAt                          refused: ends before it starts
 *   endsAt not after now                               refused: already over
 *   longer than MAX_SILENCE_MS                         refused: at most a year
 *   recurring, but no window between start and end     refused: never opens
 *   otherwise                                          { startsAt, endsAt, recurrence }
 */
export function silenceTimes(
  body: SilenceCreate,
  now: number,
): { ok: true; startsAt: number; endsAt: number; recurrence: Recurrence | null } | { ok: false; message: string } {
  const startsAt = ms(body.startsAt, now);
  const endsAt = ms(body.endsAt, now);
  if (endsAt <= startsAt)
    return {
      ok: false,
      message: `The silence ends (${new Date(endsAt).toISOString()}) before it starts (${new Date(startsAt).toISOString()}).`,
    };
  if (endsAt <= now) return { ok: false, message: `The silence ends at ${new Date(endsAt).toISOString()}, which is already past.` };
  if (endsAt - startsAt > MAX_SILENCE_MS)
    return { ok: false, message: 'A silence may last at most 366 days; deactivate a device that is out of service for longer.' };
  const recurrence = body.recurrence ? (body.recurrence as Recurrence) : null;
  if (recurrence) {
    const probe: Silence = {
      id: '',
      match: {},
      customerId: null,
      startsAt,
      endsAt,
      reason: '',
      recurrence,
      by: '',
      createdAt: now,
      deletedAt: null,
      deletedBy: null,
    };
    if (windowsBetween(probe, Math.max(now, startsAt), endsAt).length === 0)
      return {
        ok: false,
        message: `The recurring window (${recurrence.weekdays.join(', ')} at ${recurrence.at} ${recurrence.timeZone}) never opens between startsAt and endsAt.`,
      };
  }
  return { ok: true, startsAt, endsAt, recurrence };
}
