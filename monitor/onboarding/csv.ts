import { parse } from 'csv-parse/sync';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { NewDevice } from '../registry/registry.ts';
import { CSV_COLUMNS, OPTIONAL_EXTRA_COLUMNS, REQUIRED_COLUMNS, validateRow } from './columns.ts';

export type CsvItem = { line: number; ok: true; device: NewDevice } | { line: number; ok: false; error: string };

/** The file as a whole cannot be read (no header, required column missing). */
export class CsvHeaderError extends Error {}

const KNOWN = new Set<string>([...CSV_COLUMNS, ...OPTIONAL_EXTRA_COLUMNS]);

/**
 * Lines a quoted field may span. A quote that has not closed by then is a typo (`"Twiga` with
 * no closing quote), not a cell with line breaks: it is reported on the line where it opened
 * and reading resumes on the next line, instead of swallowing the rest of the file.
 *
 * A quote that does close on a later line is still a typo when the line break lands in a column
 * lastseen reads: none of them may hold one (names refuse control characters), so such a record
 * can only be a stray quote that joined good lines together. Then, too, the opening line alone
 * is reported and the lines after it are read afresh. A line break inside a column lastseen
 * ignores (an operator's own "comments" column) is a real quoted line break and is kept.
 *
 *   quote closes        line break lands in      record
 *   ------------        ---------------------    -------------------------------------------
 *   on its own line     —                        one line, parsed
 *   within 20 lines     an ignored column only   the lines joined, parsed
 *   within 20 lines     a column lastseen reads  opening line reported; the rest read afresh
 *   never (or > 20)     —                        opening line reported; the rest read afresh
 */
const MAX_QUOTED_LINES = 20;

/** Delimiters a spreadsheet writes: `,`, `;` (Excel where the decimal mark is a comma), tab. */
const DELIMITERS = [',', ';', '\t'] as const;
const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/**
 * Stream an onboarding CSV (docs/contract.md §6a) into validated items, one per data line, with the
 * line number an operator sees in an editor (the line a record starts on). Handles a UTF-8 BOM,
 * CRLF, quoted delimiters and quoted line breaks (csv-parse), and a `;` or tab delimiter,
 * sniffed from the header line. A malformed line is reported and skipped, never fatal, and
 * memory stays flat however long the file is.
 */
export async function* readOnboardingCsv(input: Readable): AsyncGenerator<CsvItem> {
  let header: string[] | null = null;
  let delimiter = ',';
  // A multi-line record is whole only if no column lastseen reads holds a line break.
  const joinsLinesInReadColumns = (text: string): boolean => {
    if (!header) return false;
    const parsed = parseRecord(text, delimiter);
    if ('error' in parsed) return true;
    return parsed.fields.some((f, i) => f.includes('\n') && (i >= header!.length || KNOWN.has(header![i])));
  };
  for await (const rec of records(input, joinsLinesInReadColumns)) {
    if (!header) {
      delimiter = sniffDelimiter(rec.text.replace(/^\ufeff/, ''));
      const parsed = parseRecord(rec.text.replace(/^\ufeff/, ''), delimiter);
      header = 'fields' in parsed ? parsed.fields : [];
      const missing = REQUIRED_COLUMNS.filter((c) => !header!.includes(c));
      if (missing.length) {
        throw new CsvHeaderError(
          `the header line must name the columns ${CSV_COLUMNS.join(',')} (at least ${REQUIRED_COLUMNS.join(' and ')}); missing: ${missing.join(', ')}`,
        );
      }
      continue;
    }
    if (rec.unclosed) {
      yield { line: rec.line, ok: false, error: 'not valid CSV: a quote opened on this line is never closed' };
      continue;
    }
    if (rec.closesOn !== undefined) {
      yield {
        line: rec.line,
        ok: false,
        error: `not valid CSV: a quote opened on this line closes only on line ${rec.closesOn} (no column may hold a line break); the lines between are read on their own`,
      };
      continue;
    }
    const parsed = parseRecord(rec.text, delimiter);
    if ('error' in parsed) {
      yield { line: rec.line, ok: false, error: `not valid CSV: ${parsed.error}` };
      continue;
    }
    const record = parsed.fields;
    if (record.length > header.length) {
      yield {
        line: rec.line,
        ok: false,
        error: `has ${record.length} fields but the header has ${header.length} (an unquoted ${DELIMITER_NAMES[delimiter]}?)`,
      };
      continue;
    }
    const row: Record<string, string> = {};
    for (let i = 0; i < record.length; i++) if (KNOWN.has(header[i])) row[header[i]] = record[i];
    const v = validateRow(row);
    yield v.ok ? { line: rec.line, ok: true, device: v.device } : { line: rec.line, ok: false, error: v.error };
  }
  if (!header) throw new CsvHeaderError('the file is empty: expected a header line and one device per line');
}

interface RawRecord {
  /** 1-based physical line the record starts on. */
  line: number;
  text: string;
  /** A quote opened on `line` and did not close within MAX_QUOTED_LINES lines (or the file). */
  unclosed: boolean;
  /** The quote opened on `line` closed on this later line, joining lines it should not have. */
  closesOn?: number;
}

/**
 * Physical lines grouped into records: a line whose quotes are unbalanced continues on the next
 * line (a quoted line break). Empty lines are skipped. When the quote never closes, or closes
 * but `isBroken` says the joined record cannot be meant (see MAX_QUOTED_LINES), the opening line
 * alone is the record and the lines after it are read afresh.
 */
async function* records(input: Readable, isBroken: (joined: string) => boolean): AsyncGenerator<RawRecord> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const pending: { line: number; text: string }[] = [];
  let n = 0;
  const drain = function* (final: boolean): Generator<RawRecord> {
    while (pending.length) {
      let quotes = 0;
      let end = -1;
      for (let i = 0; i < pending.length; i++) {
        quotes += countQuotes(pending[i].text);
        if (quotes % 2 === 0) {
          end = i;
          break;
        }
      }
      if (end >= 0) {
        const joined = pending
          .slice(0, end + 1)
          .map((l) => l.text)
          .join('\n');
        if (end > 0 && isBroken(joined)) {
          const [opening] = pending.splice(0, 1);
          yield { line: opening.line, text: opening.text, unclosed: false, closesOn: pending[end - 1].line };
          continue;
        }
        const group = pending.splice(0, end + 1);
        yield { line: group[0].line, text: joined, unclosed: false };
        continue;
      }
      if (!final && pending.length <= MAX_QUOTED_LINES) return;
      const [opening] = pending.splice(0, 1);
      yield { line: opening.line, text: opening.text, unclosed: true };
    }
  };
  for await (const text of lines) {
    n++;
    if (!pending.length && text.trim() === '') continue;
    pending.push({ line: n, text });
    yield* drain(false);
  }
  yield* drain(true);
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/** One record's fields; the common unquoted line is split directly, quoted ones by csv-parse. */
function parseRecord(text: string, delimiter: string): { fields: string[] } | { error: string } {
  if (!text.includes('"')) return { fields: text.split(delimiter).map((f) => f.trim()) };
  try {
    const rows = parse(text, { delimiter, trim: true, relax_column_count: true }) as string[][];
    return { fields: rows[0] ?? [] };
  } catch (err) {
    // csv-parse counts lines from the record's start; the caller reports the file's line.
    return { error: (err as Error).message.replace(/ at line \d+/, '') };
  }
}

/** The delimiter that splits the header line into the most fields (outside quotes). */
function sniffDelimiter(headerLine: string): string {
  const unquoted = headerLine.replace(/"[^"]*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const count = unquoted.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}
