import type { StoredLetter } from './store.ts';

/** A letter posted again with the same text within this long is a double click, not a second letter. */
export const REPEAT_WINDOW_MS = 10 * 60_000;

/** What is compared: the addresses (in any order and case), the subject and the body, byte for byte. */
export interface LetterContent {
  to: readonly string[];
  subject: string;
  body: string;
}

const addresses = (to: readonly string[]) => [...new Set(to.map((a) => a.toLowerCase()))].sort().join('\n');

export function sameContent(a: LetterContent, b: LetterContent): boolean {
  return a.subject === b.subject && a.body === b.body && addresses(a.to) === addresses(b.to);
}

/**
 * The earlier letter a POST repeats, if any: the double-send guard. `recent` are the letters
 * about the same device or incident, newest first; `inFlight` says whether a letter's SMTP dialogue is under way now.
 *
 *   earlier letter about it with the same content            the new POST
 *   -------------------------------------------------------  ------------------------------------------
 *   none                                                     a new letter, sent
 *   sent less than REPEAT_WINDOW_MS ago                      that one: not sent again
 *   being sent now (the first click's request in flight)     that one: wait for its outcome
 *   failed (not in flight), or sent longer ago               a new letter, sent (a deliberate repeat)
 */
export function repeatedLetter(
  recent: readonly StoredLetter[],
  candidate: LetterContent,
  now: number,
  inFlight: (id: string) => boolean,
  windowMs = REPEAT_WINDOW_MS,
): StoredLetter | null {
  for (const l of recent) {
    if (!sameContent(l, candidate)) continue;
    if (inFlight(l.id)) return l;
    if (l.result === 'sent' && l.sentAt !== null && now - Date.parse(l.sentAt) < windowMs) return l;
  }
  return null;
}
