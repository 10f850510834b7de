/** FNV-1a of an ICCID's digits, never 0 (0 marks "no ICCID registered"). */
export function iccidHash(iccid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < iccid.length; i++) h = Math.imul(h ^ iccid.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}
