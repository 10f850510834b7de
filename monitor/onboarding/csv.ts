import { parse, type CsvError } from 'csv-parse';
import type { Readable } from 'node:stream';
import type { NewDevice } from '../registry/registry.ts';
import { CSV_COLUMNS, OPTIONAL_EXTRA_COLUMNS, REQUIRED_COLUMNS, validateRow } from './columns.ts';

export type CsvItem = { line: number; ok: true; device: NewDevice } | { line: number; ok: false; error: string };

/** The file as a whole cannot be read (no header, required column missing). */
export class CsvHeaderError extends Error {}

const KNOWN = new Set<string>([...CSV_COLUMNS, ...OPTIONAL_EXTRA_COLUMNS]);

/**
 * Stream an onboarding CSV (CONTRACT §6a) into validated items, one per data line, with the
 * line number an operator sees in an editor. Handles a UTF-8 BOM, CRLF, quoted commas and
 * quoted line breaks (csv-parse); a malformed line is reported and skipped, never fatal, and
 * memory stays flat however long the file is.
 */
export async function* readOnboardingCsv(input: Readable): AsyncGenerator<CsvItem> {
  const skipped: CsvItem[] = [];
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    info: true,
  });
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    skipped.push({ line: err.lines ?? 0, ok: false, error: `not valid CSV: ${err.message}` });
  });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  let header: string[] | null = null;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    while (skipped.length) yield skipped.shift()!;
    if (!header) {
      header = record.map((h) => h.trim());
      const missing = REQUIRED_COLUMNS.filter((c) => !header!.includes(c));
      if (missing.length) {
        parser.destroy();
        throw new CsvHeaderError(
          `the header line must name the columns ${CSV_COLUMNS.join(',')} (at least ${REQUIRED_COLUMNS.join(' and ')}); missing: ${missing.join(', ')}`,
        );
      }
      continue;
    }
    const line = info.lines;
    if (record.length > header.length) {
      yield { line, ok: false, error: `has ${record.length} fields but the header has ${header.length} (an unquoted comma?)` };
      continue;
    }
    const row: Record<string, string> = {};
    for (let i = 0; i < record.length; i++) if (KNOWN.has(header[i])) row[header[i]] = record[i];
    const v = validateRow(row);
    yield v.ok ? { line, ok: true, device: v.device } : { line, ok: false, error: v.error };
  }
  while (skipped.length) yield skipped.shift()!;
  if (!header) throw new CsvHeaderError('the file is empty: expected a header line and one device per line');
}
