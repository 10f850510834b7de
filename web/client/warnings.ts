/**
 * Early warnings in the panel (monitor/warnings/): a device that is online but shows no motion,
 * a battery about to run out, a signal fading. The status alone would say "online" in green;
 * an open warning paints the status chip its colour, so a possible mortality is never green.
 */

/** An alert record from GET /api/alerts, as far as the panel reads it. */
export interface WarningRecord {
  type: string;
  state: string;
  event?: { severity?: string; message?: string };
}

export interface PanelWarning {
  type: string;
  label: string;
  colour: string;
  message: string;
}

/**
 *   warning                 words           colour
 *   ----------------------  --------------  -------------------------------
 *   device.no_motion        no motion       red (the call that matters most)
 *   device.battery_low      battery low     amber
 *   device.signal_fading    signal fading   amber
 */
const WARNINGS: Record<string, { label: string; colour: string }> = {
  'device.no_motion': { label: 'no motion', colour: '#d7263d' },
  'device.battery_low': { label: 'battery low', colour: '#f29e0c' },
  'device.signal_fading': { label: 'signal fading', colour: '#f29e0c' },
};

/** The firing warnings among a device's alerts, the loudest first. */
export function openWarnings(records: readonly WarningRecord[]): PanelWarning[] {
  const out: PanelWarning[] = [];
  for (const r of records) {
    const w = WARNINGS[r.type];
    if (!w || r.state !== 'firing' || out.some((o) => o.type === r.type)) continue;
    out.push({ type: r.type, ...w, message: r.event?.message ?? '' });
  }
  return out.sort((a, b) => rank(a.colour) - rank(b.colour));
}

const rank = (colour: string) => (colour === '#d7263d' ? 0 : 1);

/**
 * The status chip: its text and colour. Online with an open warning takes the warning's colour
 * and names it ("online · no motion"); offline and late keep theirs (already loud).
 */
export function statusChip(status: string, statusColour: string, warnings: readonly PanelWarning[]): { text: string; colour: string } {
  if (warnings.length === 0 || (status !== 'online' && status !== 'unknown')) return { text: status, colour: statusColour };
  return { text: `${status} · ${warnings.map((w) => w.label).join(', ')}`, colour: warnings[0].colour };
}
