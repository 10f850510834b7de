import type { AlertPolicy, DeviceInfo, IncidentInfo } from './types.ts';

/** An offline waiting in the hold buffer. */
export interface Held {
  deviceId: string;
  customerId: string;
  releaseAt: number;
  device: DeviceInfo | undefined;
  /** Held by restart grace: it may still report, so it is grouped with others only once due. */
  restart: boolean;
}

/** An open incident as correlation needs it. */
export interface OpenIncident {
  id: string;
  customerId: string;
  scope: IncidentInfo['scope'];
  key: string;
}

export interface Correlation {
  /** Held devices that join an incident already open: reported through it, no message. */
  joins: { incidentId: string; deviceIds: string[] }[];
  /** New incidents: one incident.opened per entry. */
  opens: { customerId: string; scope: IncidentInfo['scope']; key: string; deviceIds: string[] }[];
  /** Devices due now that share nothing with enough others: one device.offline each. */
  singles: { deviceId: string; hint: 'network' | 'cell' | null }[];
  /** Held devices neither due nor grouped: they stay held. */
  keep: string[];
}

/** The readings network and cell keys are made of (a DeviceInfo, or a silence's match). */
export type NetworkReading = Pick<DeviceInfo, 'mcc' | 'mnc' | 'cellId'>;

export function networkKey(d: NetworkReading | undefined): string | null {
  return d && d.mcc != null && d.mnc != null ? `${d.mcc}-${String(d.mnc).padStart(2, '0')}` : null;
}

export function cellKey(d: NetworkReading | undefined): string | null {
  const n = networkKey(d);
  return n && d!.cellId != null ? `${n}-${d!.cellId}` : null;
}

function groupBy<T>(items: T[], key: (t: T) => string | null): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (k === null) continue;
    const g = m.get(k);
    if (g) g.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/**
 * Which held offlines are one incident rather than many alerts. Pure: called when the
 * earliest hold ends, with every held offline (due or not), so a whole burst is seen at once.
 *
 *   step  rule                                                           outcome
 *   ----  -------------------------------------------------------------  ------------------------------
 *   1     held device matches an open incident of its customer           joins it silently
 *         (customer scope: any device; network/cell: same mcc-mnc/cell)
 *   2     ≥ incidentCellMin held devices on one cell (all customers)      per customer: ≥ 2 devices → one
 *   3     ≥ incidentNetworkMin held on one mcc-mnc (all customers)        incident, 1 device → a single
 *                                                                        alert hinting at the network
 *   4     ≥ incidentCustomerMin held devices of one customer              one customer incident
 *   5     anything else that is due                                      one device.offline each
 *
 * Worked numbers: 1 000 devices on a 60 s interval silenced at once go offline spread over
 * 60 s; the first hold (5 s) ends with ~83 held, ≥ 10 → one incident; the other ~917 join it
 * as their deadlines fire. Network and cell thresholds come from `global` (they span customers);
 * the customer threshold from each customer's own policy.
 */
export function correlate(
  held: Held[],
  open: OpenIncident[],
  now: number,
  global: AlertPolicy,
  policyOf: (customerId: string) => AlertPolicy,
): Correlation {
  const out: Correlation = { joins: [], opens: [], singles: [], keep: [] };
  const rest: Held[] = [];
  const joins = new Map<string, string[]>();
  for (const h of held) {
    if (h.restart && h.releaseAt > now) {
      out.keep.push(h.deviceId);
      continue;
    }
    const inc = open.find(
      (i) =>
        i.customerId === h.customerId &&
        (i.scope === 'customer' ||
          (i.scope === 'network' && i.key === networkKey(h.device)) ||
          (i.scope === 'cell' && i.key === cellKey(h.device))),
    );
    if (inc) {
      const list = joins.get(inc.id) ?? [];
      list.push(h.deviceId);
      joins.set(inc.id, list);
    } else rest.push(h);
  }
  for (const [incidentId, deviceIds] of joins) out.joins.push({ incidentId, deviceIds });

  let remaining = rest;
  const hints = new Map<string, 'network' | 'cell'>();
  for (const [scope, keyOf, min] of [
    ['cell', cellKey, global.incidentCellMin],
    ['network', networkKey, global.incidentNetworkMin],
  ] as const) {
    const taken = new Set<Held>();
    for (const [key, group] of groupBy(remaining, (h) => keyOf(h.device))) {
      if (group.length < min) continue;
      for (const [customerId, slice] of groupBy(group, (h) => h.customerId)) {
        if (slice.length >= 2) {
          out.opens.push({ customerId, scope, key, deviceIds: slice.map((h) => h.deviceId) });
          slice.forEach((h) => {
            taken.add(h);
          });
        } else hints.set(slice[0].deviceId, scope);
      }
    }
    remaining = remaining.filter((h) => !taken.has(h));
  }
  const taken = new Set<Held>();
  for (const [customerId, group] of groupBy(remaining, (h) => h.customerId)) {
    if (group.length < policyOf(customerId).incidentCustomerMin) continue;
    out.opens.push({ customerId, scope: 'customer', key: customerId, deviceIds: group.map((h) => h.deviceId) });
    group.forEach((h) => {
      taken.add(h);
    });
  }
  for (const h of remaining) {
    if (taken.has(h)) continue;
    if (h.releaseAt <= now) out.singles.push({ deviceId: h.deviceId, hint: hints.get(h.deviceId) ?? null });
    else out.keep.push(h.deviceId);
  }
  return out;
}

/**
 * Whether an incident is over: `back` of `members` devices are online again.
 * 10 members, ratio 0.9 → resolved at the 9th back; 1 000 members → at the 900th.
 */
export function incidentOver(back: number, members: number, ratio: number): boolean {
  return members > 0 && back >= Math.ceil(members * ratio);
}
