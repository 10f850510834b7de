/**
 * What a name or an id may contain, and how a stored name is made safe to print.
 *
 * Names (device, nickname, species, tag model, customer) end up as one line of an e-mail
 * subject and body, a CSV cell, a map label. A line break in "Kito\r\nBcc: all@…" would start a
 * new header line or a forged "Next step:" line in the body, so such names are refused when
 * they are written, and `oneLine` flattens any that were stored before (defence in depth).
 *
 *   character                                   in a name   rendered by oneLine as
 *   ------------------------------------------  ----------  ----------------------
 *   C0 controls U+0000–U+001F (NUL, tab, CR, LF)  refused     one space per run
 *   DEL U+007F, C1 controls U+0080–U+009F         refused     one space per run
 *   U+2028 line / U+2029 paragraph separator      refused     one space per run
 *   anything else (accents, emoji, quotes, "=")   allowed     unchanged
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is what these are for
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const CONTROL_RUNS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

export const CONTROL_CHARACTERS_MESSAGE = 'must not contain control characters (line breaks, tabs, NUL)';

export function hasControlCharacters(s: string): boolean {
  return CONTROL.test(s);
}

/** "Kito\r\nBcc: x" → "Kito Bcc: x": safe as one line of a mail header or body. */
export function oneLine(s: string): string {
  return s.replace(CONTROL_RUNS, ' ');
}

/**
 * Ids are MQTT topic levels (`devices/{id}/heartbeat`), MQTT usernames and URL path segments
 * (`/api/devices/{id}`). The grammar letters, digits, ".", "_", ":", "-" already keeps out
 * "/", "+", "#", NUL and whitespace; of what it lets through, only "." and ".." are harmful:
 * they are dot-segments, which a URL resolver removes ("/api/devices/.." is "/api"), so such a
 * device could never be read or changed over the API. "...", ".a" and "a..b" are ordinary.
 */
export function isDotSegment(id: string): boolean {
  return id === '.' || id === '..';
}

export const DOT_SEGMENT_MESSAGE = 'must not be "." or ".." (a URL path would resolve them away)';
