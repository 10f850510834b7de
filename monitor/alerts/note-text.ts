/**
 * Free text people type into the case log (notes; several lines allowed). Stored as text and shown with
 * textContent, so HTML in it is inert; what is refused here is what would still mislead a
 * reader or a terminal: control characters (C0 except tab and line breaks, DEL, C1) and the
 * bidirectional overrides that can make "device 12" read as "21 ecived" in a log.
 *
 *   input                                   outcome
 *   --------------------------------------  -------------------------------------------
 *   not a string                            refused: "<what> must be a string"
 *   empty after trimming                    refused: "<what> must not be empty"
 *   longer than `max` characters            refused, naming the limit
 *   U+0000–U+0008, U+000B, U+000C,          refused, naming the first code point
 *   U+000E–U+001F, U+007F–U+009F,
 *   U+202A–U+202E, U+2066–U+2069
 *   anything else                           accepted, trimmed
 */
export function noteText(value: unknown, what: string, max: number): { ok: true; text: string } | { ok: false; message: string } {
  if (typeof value !== 'string') return { ok: false, message: `${what} must be a string.` };
  const text = value.trim();
  if (text.length === 0) return { ok: false, message: `${what} must not be empty.` };
  if (text.length > max) return { ok: false, message: `${what} must be at most ${max} characters (it has ${text.length}).` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  const bad = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/.exec(text);
  if (bad) {
    const cp = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return { ok: false, message: `${what} contains the control character ${cp} at position ${bad.index + 1}; send plain text.` };
  }
  return { ok: true, text };
}
