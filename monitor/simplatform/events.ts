import type { Logger } from '../logger.ts';
import { OncePerKey } from '../network/once-per-key.ts';
import type { SimState } from '../types.ts';
import type { PlatformEvent } from './push-event.ts';
import { simStateOf } from './sim-status.ts';

/** What applying an event needs of the registry: its existing public API. */
export interface SimRegistry {
  deviceIdBySim(kind: 'iccid', value: string): string | undefined;
  getDevice(id: string): { simState: SimState } | undefined;
  updateDevice(id: string, patch: { simState: SimState }): unknown;
  /** Resolves once the write is durable (SQLite, or PostgreSQL's commit); rejects when it cannot be. */
  commit<T>(fn: () => T): Promise<T>;
}

/** Where session events go (the SIM session book of monitor/network/), when there is one. */
export interface PlatformSessions {
  platformSession(deviceId: string, e: Extract<PlatformEvent, { kind: 'session_start' | 'session_stop' }>): void;
}

export const PLATFORM_RESULTS = ['applied', 'unchanged', 'duplicate', 'older', 'unmatched_sim', 'unknown_status', 'ignored'] as const;
export type PlatformResult = (typeof PLATFORM_RESULTS)[number];

/**
 * Applies SIM platform events, pushed or polled, to the registry and the session book.
 *
 *   event                                       result          effect
 *   ------------------------------------------  --------------  ---------------------------------------------
 *   an event id applied in the last 10 000      duplicate       none (the platform retried; answered again)
 *   no device holds the ICCID                   unmatched_sim   none; logged once per ICCID
 *   sim_state with a status not in the table    unknown_status  none; logged once per status
 *   sim_state older than one already applied    older           none (events can arrive out of order)
 *   sim_state equal to the registry's           unchanged       none
 *   sim_state that changes the SIM's state      applied         registry simState, audited as the platform;
 *                                                               deactivated/retired ends the MQTT session
 *   session_start / session_stop                applied         the session book, when RADIUS runs; else ignored
 *   any other event type                        ignored         none
 *
 * A state change goes through `updateDevice`, so a SIM deactivated at the platform is
 * `sim_deactivated` in the diagnosis, refused at the broker, and in the audit log, exactly as
 * when an agent changes it. Rejects only when the registry cannot write (the caller answers 503
 * so the platform retries: an event is never acknowledged and then lost). The same event id
 * arriving again while the first is being applied waits for it and is a duplicate.
 */
export class PlatformEvents {
  private seen = new Set<string>();
  private applying = new Map<string, Promise<PlatformResult>>();
  private seenOrder: string[] = [];
  private newestStateAt = new Map<string, number>();
  private unmatched = new OncePerKey();
  private unknownStatus = new OncePerKey(1000);

  constructor(
    private registry: SimRegistry,
    private sessions: PlatformSessions | null,
    private audit: (deviceId: string, detail: Record<string, unknown>) => void,
    private log: Logger,
  ) {}

  async apply(e: PlatformEvent): Promise<PlatformResult> {
    if (this.seen.has(e.id)) return 'duplicate';
    const running = this.applying.get(e.id);
    if (running) {
      await running;
      return 'duplicate';
    }
    const p = this.applyOnce(e);
    this.applying.set(e.id, p);
    try {
      const result = await p;
      this.remember(e.id);
      return result;
    } finally {
      this.applying.delete(e.id);
    }
  }

  private async applyOnce(e: PlatformEvent): Promise<PlatformResult> {
    if (e.kind === 'other') return 'ignored';
    const deviceId = this.registry.deviceIdBySim('iccid', e.iccid);
    if (!deviceId) {
      if (this.unmatched.first(e.iccid))
        this.log.warn({ iccid: e.iccid, eventId: e.id }, 'SIM platform event for an ICCID no device holds');
      return 'unmatched_sim';
    }
    if (e.kind !== 'sim_state') {
      if (!this.sessions) return 'ignored';
      this.sessions.platformSession(deviceId, e);
      return 'applied';
    }
    const simState = simStateOf(e.status);
    if (!simState) {
      if (this.unknownStatus.first(e.status)) this.log.warn({ status: e.status, eventId: e.id }, 'SIM platform status not known');
      return 'unknown_status';
    }
    if ((this.newestStateAt.get(deviceId) ?? Number.NEGATIVE_INFINITY) > e.at) return 'older';
    this.newestStateAt.set(deviceId, e.at);
    const before = this.registry.getDevice(deviceId)?.simState;
    if (before === simState) return 'unchanged';
    await this.registry.commit(() => {
      this.registry.updateDevice(deviceId, { simState });
      this.audit(deviceId, { simState, before, platformStatus: e.status, eventId: e.id, changedAt: new Date(e.at).toISOString() });
    });
    this.log.info({ deviceId, iccid: e.iccid, simState, before }, 'SIM state changed at the SIM platform');
    return 'applied';
  }

  private remember(id: string): void {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > 10_000) this.seen.delete(this.seenOrder.shift() as string);
  }
}
