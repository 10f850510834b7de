/**
 * What the cluster's delivery queue (./alert-queue.ts) does with one entry. Pure.
 *
 * The note is the `{p}reported` hash's value for the device: `o<at>` an offline alert for the
 * outage that began at <at> went out, `f<at>` it was forgiven by restart grace (or, held back by
 * a silence, the device came back), `s<at>` it is held back by a silence and was recorded
 * silenced (./silenced-outages.ts decides those, after the table below).
 *
 * offline (outage began at `at`)                                   verdict   note
 *   at ≥ cluster start (decided while the cluster was up)          send      o<at>
 *   at < cluster start, now < start + grace                        defer     —
 *   at < cluster start, grace over, still offline since `at`        send      o<at>
 *   at < cluster start, grace over, back (or a newer state)        forgive   f<at>
 *
 * online (recovery from the outage that began at `outageAt`)
 *   note o<outageAt>                                               send      (deleted)
 *   note f<outageAt>                                               skip      (deleted)
 *   no note for that outage yet, decided < RECOVERY_WAIT_MS ago    defer     — (its offline is still queued)
 *   note s<outageAt>, decided < RECOVERY_WAIT_MS ago               defer     — (its offline is held by a
 *                                                                            silence: it turns f<outageAt>
 *                                                                            within a re-check)
 *   otherwise                                                      skip      —
 *
 * reminder (of the outage that began at `outageAt`, claimed once: ./shared-reminders.ts)
 *   device offline since `outageAt` in the shared state            send      —
 *   back, a newer outage, or gone                                  skip      — (it came back between
 *                                                                            the claim and the send: a
 *                                                                            reminder that it is silent
 *                                                                            would be wrong, and its
 *                                                                            recovery says it is back)
 *
 * One alert per outage holds because the outage itself is the dedupe: each offline transition
 * is made once (by one script call) and adds one entry; the queue sends an entry until it is
 * acknowledged, and a recovery only after the offline it ends.
 */
/** `defer` says when to look again; until then the entry stays pending with the worker. */
export type QueueVerdict = { kind: 'send' | 'forgive' | 'skip'; note: string } | { kind: 'defer'; until: number };

/** A recovery waiting for its offline looks again this often. */
export const RECOVERY_RETRY_MS = 1000;

/** How long a recovery waits for its offline to be handled (restart grace plus a margin). */
export const RECOVERY_WAIT_MS = 60 * 60_000;

export function outageVerdict(i: {
  at: number;
  clusterSince: number;
  graceMs: number;
  now: number;
  state: { status: string; since: number } | null;
}): QueueVerdict {
  const sent = { kind: 'send', note: `o${i.at}` } as const;
  if (i.at >= i.clusterSince) return sent;
  if (i.now < i.clusterSince + i.graceMs) return { kind: 'defer', until: i.clusterSince + i.graceMs };
  if (i.state && i.state.status === 'offline' && i.state.since === i.at) return sent;
  return { kind: 'forgive', note: `f${i.at}` };
}

export function recoveryVerdict(i: { outageAt: number; note: string | null; now: number; at: number }): QueueVerdict {
  if (i.note === `o${i.outageAt}`) return { kind: 'send', note: 'del' };
  if (i.note === `f${i.outageAt}`) return { kind: 'skip', note: 'del' };
  if (i.now - i.at < RECOVERY_WAIT_MS) return { kind: 'defer', until: i.now + RECOVERY_RETRY_MS };
  return { kind: 'skip', note: '' };
}

export function reminderVerdict(i: { outageAt: number; state: { status: string; since: number } | null }): QueueVerdict {
  const still = i.state !== null && i.state.status === 'offline' && i.state.since === i.outageAt;
  return { kind: still ? 'send' : 'skip', note: '' };
}
