import type { Reading } from '../diagnosis/series.ts';
import { KEEP, type Observation, type Track } from './track.ts';

/** Device time is kept in whole seconds from this base (2020-01-01 UTC), as a signed 32-bit number. */
const BASE_MS = Date.UTC(2020, 0, 1);
const MIN_S = -(2 ** 31);
const MAX_S = 2 ** 31 - 1;
const FIRST_CAPACITY = 1024;

/**
 * Every device's warning track in shared columns instead of one object graph a device.
 *
 * As JS objects a track with a day of readings (KEEP battery and KEEP signal readings, each
 * a `{ value, at }` object) costs about 3 KB a device: 3 GB for a million collars, twenty times
 * the rest of a device's memory (docs/benchmarks.md, P4). Here each device has a slot:
 *
 *   column                  per slot                        bytes
 *   ----------------------  ------------------------------  -----
 *   lastAt, stillSince,     three float64 (NaN for none)     24
 *   activity
 *   battery, rssi           count (uint8) + KEEP readings   2 × (1 + KEEP × 8)
 *                           (float32 value, int32 seconds)
 *
 * 410 B a slot with KEEP = 24, plus the id → slot map. What is lost against the objects:
 * readings' times are whole seconds (2020-01-01 ± 68 years, clamped outside) and their values
 * float32 (7 significant digits) — far below what a battery or signal trend over hours can tell.
 * `lastAt` and `stillSince` stay exact: they order heartbeats and time motion.
 *
 * `get` builds the track's plain form for the pure functions (./track.ts, ./conditions.ts),
 * which is garbage a moment later; `set` writes it back. Slots are never freed: a device
 * removed keeps its slot, as it kept its track before.
 *
 * `observe` is ./track.ts's `observe` done on the columns themselves, for the engine's every
 * heartbeat: `get`, `observe` and `set` built a device's readings as objects twice and copied
 * them once more (~2.8 of ~3.8 µs a heartbeat with a full day of readings); here the readings
 * are moved within the columns and read out once, into objects reused from call to call.
 */
export class TrackBook {
  private slots = new Map<string, number>();
  private capacity = 0;
  private head = new Float64Array(0);
  private counts: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
  private values: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  private times: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];

  get size(): number {
    return this.slots.size;
  }

  get(deviceId: string): Track | undefined {
    const slot = this.slots.get(deviceId);
    if (slot === undefined) return undefined;
    const h = slot * 3;
    return {
      battery: this.readings(0, slot),
      rssi: this.readings(1, slot),
      lastAt: this.head[h],
      stillSince: orNull(this.head[h + 1]),
      activity: orNull(this.head[h + 2]),
    };
  }

  set(deviceId: string, t: Track): void {
    const slot = this.slots.get(deviceId) ?? this.newSlot(deviceId);
    const h = slot * 3;
    this.head[h] = t.lastAt;
    this.head[h + 1] = t.stillSince ?? Number.NaN;
    this.head[h + 2] = t.activity ?? Number.NaN;
    this.write(0, slot, t.battery);
    this.write(1, slot, t.rssi);
  }

  /** A slot for a device the book has none for, the columns grown when full. */
  private newSlot(deviceId: string): number {
    const slot = this.slots.size;
    if (slot === this.capacity) this.grow();
    this.slots.set(deviceId, slot);
    return slot;
  }

  /** The plain track `observe` returns, and its readings: reused, valid until the next call. */
  private scratch: Track = { battery: [], rssi: [], lastAt: -Infinity, activity: null, stillSince: null };
  private pool: [Reading[], Reading[]] = [[], []];

  /**
   * The same as `set(id, observe(get(id) ?? emptyTrack(), o, windows))` (./track.ts), and the
   * track that call returns — or null where `observe` returns its input unchanged (a heartbeat
   * older than the newest applied), and then nothing changes. The track returned is this
   * book's own and is overwritten by the next call: read it, do not keep it.
   */
  observe(deviceId: string, o: Observation, windows: { batteryMs: number; rssiMs: number }): Track | null {
    let slot = this.slots.get(deviceId);
    if (slot === undefined) {
      slot = this.newSlot(deviceId);
      const h = slot * 3;
      this.head[h] = -Infinity;
      this.head[h + 1] = Number.NaN;
      this.head[h + 2] = Number.NaN;
      this.counts[0][slot] = 0;
      this.counts[1][slot] = 0;
    }
    const h = slot * 3;
    if (o.at < this.head[h]) return null;
    this.head[h] = o.at;
    const battery = typeof o.battery === 'number';
    const rssi = typeof o.rssi === 'number';
    if (battery) this.push(0, slot, o.battery as number, o.at, windows.batteryMs);
    if (rssi) this.push(1, slot, o.rssi as number, o.at, windows.rssiMs);
    if (typeof o.activity === 'number') {
      this.head[h + 2] = o.activity;
      const still = this.head[h + 1];
      this.head[h + 1] = o.activity > 0 ? o.at : Number.isNaN(still) ? o.at : still;
    }
    const t = this.scratch;
    t.lastAt = o.at;
    t.stillSince = orNull(this.head[h + 1]);
    t.activity = orNull(this.head[h + 2]);
    // The newest reading as observe keeps it, exact: the columns hold it as float32 and whole seconds.
    t.battery = this.readInto(0, slot, battery ? o.battery : undefined, o.at);
    t.rssi = this.readInto(1, slot, rssi ? o.rssi : undefined, o.at);
    return t;
  }

  /**
   * ./track.ts `pushReading` on a slot's column: readings older than `windowMs` before the new
   * one leave, the newest is replaced when the one before it is closer than windowMs / KEEP,
   * at most KEEP are kept; the survivors move to the front of the slot's run.
   */
  private push(field: 0 | 1, slot: number, value: number, at: number, windowMs: number): void {
    const v = this.values[field];
    const s = this.times[field];
    const base = slot * KEEP;
    const len = this.counts[field][slot];
    // A reading's time is BASE_MS + its seconds × 1000, as `get` gives it.
    let first = 0;
    while (first < len && BASE_MS + s[base + first] * 1000 < at - windowMs) first++;
    const n = len - first;
    const replace = n > 1 && at - (BASE_MS + s[base + len - 2] * 1000) < windowMs / KEEP;
    const from = Math.max(first, len + (replace ? 0 : 1) - KEEP);
    const end = replace ? len - 1 : len;
    if (from > 0) {
      v.copyWithin(base, base + from, base + end);
      s.copyWithin(base, base + from, base + end);
    }
    const i = base + end - from;
    v[i] = value;
    s[i] = Math.min(MAX_S, Math.max(MIN_S, Math.round((at - BASE_MS) / 1000)));
    this.counts[field][slot] = end - from + 1;
  }

  /** A slot's readings into the reused objects; `newest`, when given, replaces the last one's value and time. */
  private readInto(field: 0 | 1, slot: number, newest: number | undefined, at: number): Reading[] {
    const n = this.counts[field][slot];
    const v = this.values[field];
    const s = this.times[field];
    const pool = this.pool[field];
    while (pool.length < n) pool.push({ value: 0, at: 0 });
    const out = field === 0 ? this.scratch.battery : this.scratch.rssi;
    // Setting an array's length is a runtime call even when it does not change.
    if (out.length !== n) out.length = n;
    for (let i = 0, k = slot * KEEP; i < n; i++, k++) {
      const r = pool[i];
      r.value = v[k];
      r.at = BASE_MS + s[k] * 1000;
      out[i] = r;
    }
    if (newest !== undefined && n > 0) {
      out[n - 1].value = newest;
      out[n - 1].at = at;
    }
    return out;
  }

  private readings(field: 0 | 1, slot: number): Reading[] {
    const n = this.counts[field][slot];
    const v = this.values[field];
    const s = this.times[field];
    const out: Reading[] = new Array(n);
    for (let i = 0, at = slot * KEEP; i < n; i++, at++) out[i] = { value: v[at], at: BASE_MS + s[at] * 1000 };
    return out;
  }

  private write(field: 0 | 1, slot: number, series: readonly Reading[]): void {
    // The pure functions keep at most KEEP; the newest are the ones to keep if ever more came.
    const from = Math.max(0, series.length - KEEP);
    const v = this.values[field];
    const s = this.times[field];
    let at = slot * KEEP;
    for (let i = from; i < series.length; i++, at++) {
      v[at] = series[i].value;
      s[at] = Math.min(MAX_S, Math.max(MIN_S, Math.round((series[i].at - BASE_MS) / 1000)));
    }
    this.counts[field][slot] = series.length - from;
  }

  private grow(): void {
    const cap = Math.max(FIRST_CAPACITY, this.capacity * 2);
    const head = new Float64Array(cap * 3);
    head.set(this.head);
    this.head = head;
    for (const f of [0, 1] as const) {
      const n = new Uint8Array(cap);
      n.set(this.counts[f]);
      this.counts[f] = n;
      const v = new Float32Array(cap * KEEP);
      v.set(this.values[f]);
      this.values[f] = v;
      const s = new Int32Array(cap * KEEP);
      s.set(this.times[f]);
      this.times[f] = s;
    }
    this.capacity = cap;
  }
}

const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);
