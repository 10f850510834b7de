import type { IncidentRecord } from './store.ts';

/**
 * The open incidents and who in them is back. An incident of twenty collars on one cell is
 * counted, not scanned: each member's return is O(1) (a tally of members and returns), so a
 * cell outage of 10 000 devices coming back does not cost 10 000² steps.
 *
 * It remembers which records changed since they were last saved (`takeChanged`), so the
 * engine writes only those. Timers (the settle delay before an incident ends) are the engine's.
 */
export class IncidentBook {
  private open = new Map<string, IncidentRecord>();
  /** Per open incident: [members, back]. */
  private tally = new Map<string, [members: number, back: number]>();
  private changed = new Set<IncidentRecord>();

  /** Open incidents as persisted by the last process. */
  load(incidents: Iterable<IncidentRecord>): void {
    for (const inc of incidents) {
      this.open.set(inc.id, inc);
      const v = Object.values(inc.members);
      this.tally.set(inc.id, [v.length, v.filter(Boolean).length]);
    }
  }

  get(id: string | undefined): IncidentRecord | undefined {
    return id === undefined ? undefined : this.open.get(id);
  }

  openIncidents(): IncidentRecord[] {
    return [...this.open.values()].filter((i) => i.resolvedAt === null);
  }

  /** A new incident, its members all still offline. */
  add(inc: IncidentRecord): void {
    this.open.set(inc.id, inc);
    this.tally.set(inc.id, [Object.keys(inc.members).length, 0]);
    this.changed.add(inc);
  }

  /** Devices that went offline join an open incident (one already in it is offline again). */
  join(id: string, deviceIds: readonly string[]): IncidentRecord {
    const inc = this.open.get(id)!;
    const t = this.tally.get(id)!;
    for (const d of deviceIds) {
      if (!(d in inc.members)) t[0]++;
      else if (inc.members[d]) t[1]--;
      inc.members[d] = false;
    }
    this.changed.add(inc);
    return inc;
  }

  /** A member is back online: how many members the incident has and how many are back. */
  memberBack(inc: IncidentRecord, deviceId: string): { members: number; back: number } {
    const t = this.tally.get(inc.id)!;
    if (inc.members[deviceId] === false) t[1]++;
    inc.members[deviceId] = true;
    this.changed.add(inc);
    return { members: t[0], back: t[1] };
  }

  resolve(inc: IncidentRecord, now: number): void {
    inc.resolvedAt = now;
    this.open.delete(inc.id);
    this.tally.delete(inc.id);
    this.changed.add(inc);
  }

  /** The records changed since the last call, to be saved. */
  takeChanged(): IncidentRecord[] {
    const out = [...this.changed];
    this.changed.clear();
    return out;
  }
}
