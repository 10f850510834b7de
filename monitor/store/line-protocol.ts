import { EVENT_FIELDS, HEARTBEAT_FIELDS, HEARTBEAT_MEASUREMENT, type FieldType, type InfluxPoint } from './influx-schema.ts';

/**
 * InfluxDB line protocol for one point, time in µs (write with precision `us`/`u`):
 *
 *   heartbeat,customer=c1,device=d\ 1 receivedAt=1732838400000i,battery=81.5,rat="LTE-M" 1732838400000000
 *
 * Escaping (InfluxDB line protocol reference): measurement — comma and space; tag keys, tag
 * values and field keys — comma, equals sign and space; string field values — double quote and
 * backslash. A line break cannot be escaped anywhere, so it is replaced by a space: otherwise a
 * crafted value could start a second line, i.e. inject a point. A trailing backslash in a tag
 * value would escape the separator after it, so it is dropped.
 */
export function toLine(p: InfluxPoint): string {
  let line = escapeMeasurement(p.measurement);
  for (const key of Object.keys(p.tags).sort()) {
    const v = p.tags[key];
    if (v === '') continue; // an empty tag value is invalid; absent is the same thing
    line += ',' + escapeKey(key) + '=' + escapeTagValue(v);
  }
  const types = p.measurement === HEARTBEAT_MEASUREMENT ? HEARTBEAT_FIELDS : EVENT_FIELDS;
  let sep = ' ';
  for (const key in p.fields) {
    line += sep + escapeKey(key) + '=' + fieldValue(p.fields[key], types[key] ?? 'float');
    sep = ',';
  }
  return line + ' ' + p.time;
}

function fieldValue(v: number | string, type: FieldType): string {
  if (type === 'string') return '"' + String(v).replace(/[\\"]/g, '\\$&').replace(/[\r\n]/g, ' ') + '"';
  if (type === 'int') return Math.trunc(v as number) + 'i';
  return String(v);
}

export function escapeMeasurement(s: string): string {
  return s.replace(/[\r\n]/g, ' ').replace(/[, ]/g, '\\$&');
}

export function escapeKey(s: string): string {
  return s.replace(/[\r\n]/g, ' ').replace(/[,= ]/g, '\\$&');
}

export function escapeTagValue(s: string): string {
  return sanitizeTagValue(s).replace(/[,= ]/g, '\\$&');
}

/** What a tag value can safely hold: no line breaks, no trailing backslash (see toLine). */
export function sanitizeTagValue(s: string): string {
  return s.replace(/[\r\n]/g, ' ').replace(/\\+$/, '');
}
