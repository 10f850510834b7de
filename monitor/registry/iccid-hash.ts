/** The registry's hash column: this slot of the shared ids is not one of its devices. */
export const NOT_REGISTERED = 0xffffffff;
/** The registry's hash column: a registered device without an ICCID. */
export const NO_ICCID = 0;

/** FNV-1a of an ICCID's digits, never one of the two reserved values above. */
export function iccidHash(iccid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < iccid.length; i++) h = Math.imul(h ^ iccid.charCodeAt(i), 0x01000193);
  h >>>= 0;
  return h === NO_ICCID || h === NOT_REGISTERED ? 1 : h;
}
