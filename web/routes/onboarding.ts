import express, { Router, type Request, type Response } from 'express';
import type { Readable } from 'node:stream';
import { CsvHeaderError, readOnboardingCsv } from '../../monitor/onboarding/csv.ts';
import { validateRow } from '../../monitor/onboarding/columns.ts';
import { onboard, type OnboardingInput, type OnboardingOutcome } from '../../monitor/onboarding/onboard.ts';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import type { Device } from '../../monitor/types.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { limitJsonDepth } from '../json-body.ts';

/** JSON arrays are for small batches; large fleets come as streamed CSV, which has no size limit. */
const JSON_ARRAY_LIMIT = '16mb';

async function* fromArray(items: unknown[]): AsyncGenerator<OnboardingInput> {
  for (let i = 0; i < items.length; i++) {
    const v = validateRow(items[i]);
    // For a JSON array, "line" is the item's 1-based position.
    yield v.ok ? { line: i + 1, ok: true, device: v.device } : { line: i + 1, ok: false, error: v.error };
  }
}

/**
 * POST /api/onboarding (docs/contract.md §6, §6a): a `text/csv` body (streamed) or a JSON array.
 * Answers `{ created, rejected: [{ line, error, status }], credentials: [{ id, token }] }`, or,
 * with `Accept: application/x-ndjson`, one JSON line per outcome and a final summary line, so
 * a million credentials never have to sit in memory on either side.
 */
export function onboardingRoutes(registry: Registry, track: (d: Device) => void, audit: AuditLog) {
  const r = Router();
  r.post('/onboarding', express.json({ limit: JSON_ARRAY_LIMIT }), limitJsonDepth, async (req: Request, res: Response) => {
    check(req, 'device:create');
    let rows: AsyncIterable<OnboardingInput>;
    if (req.is('text/csv') || req.is('text/plain')) {
      rows = readOnboardingCsv(req as unknown as Readable);
    } else if (Array.isArray(req.body)) {
      rows = fromArray(req.body);
    } else {
      throw new HttpError(415, 'Send the devices as a text/csv body (the onboarding CSV columns) or as a JSON array.');
    }
    const outcomes = counted(onboard(rows, registry, track), (created, rejected) =>
      audit.record(req.principal, 'onboarding', 'devices', { created, rejected }),
    );
    const ndjson = (req.headers.accept ?? '').includes('application/x-ndjson');
    try {
      if (ndjson) await streamNdjson(outcomes, res);
      else await answerJson(outcomes, res);
    } catch (err) {
      if (err instanceof CsvHeaderError && !res.headersSent) throw new HttpError(400, `The CSV cannot be read: ${err.message}.`);
      if (err instanceof CsvHeaderError) {
        res.end(`${JSON.stringify({ type: 'error', error: err.message })}\n`);
        return;
      }
      throw err;
    }
  });
  return r;
}

/** Pass outcomes through and report the totals once the stream is done. */
async function* counted(outcomes: AsyncIterable<OnboardingOutcome>, done: (created: number, rejected: number) => void) {
  let created = 0;
  let rejected = 0;
  try {
    for await (const o of outcomes) {
      if (o.ok) created++;
      else rejected++;
      yield o;
    }
  } finally {
    done(created, rejected);
  }
}

async function answerJson(outcomes: AsyncIterable<OnboardingOutcome>, res: Response) {
  let created = 0;
  const rejected: { line: number; error: string; status: number; conflict?: string }[] = [];
  const credentials: { id: string; token: string }[] = [];
  for await (const o of outcomes) {
    if (o.ok) {
      created++;
      credentials.push({ id: o.id, token: o.token });
    } else rejected.push({ line: o.line, error: o.error, status: o.status, ...(o.conflict ? { conflict: o.conflict } : {}) });
  }
  res.status(200).json({ created, rejected, credentials });
}

async function streamNdjson(outcomes: AsyncIterable<OnboardingOutcome>, res: Response) {
  let created = 0;
  let rejected = 0;
  let headersSent = false;
  let buf = '';
  for await (const o of outcomes) {
    if (!headersSent) {
      res.status(200).type('application/x-ndjson');
      headersSent = true;
    }
    if (o.ok) {
      created++;
      buf += `{"line":${o.line},"id":${JSON.stringify(o.id)},"token":"${o.token}"}\n`;
    } else {
      rejected++;
      buf += `${JSON.stringify({ line: o.line, error: o.error, status: o.status, ...(o.conflict ? { conflict: o.conflict } : {}) })}\n`;
    }
    if (buf.length > 64 * 1024) {
      // Respect back-pressure: a slow reader slows the import instead of filling memory.
      if (!res.write(buf)) await new Promise((r) => res.once('drain', r));
      buf = '';
    }
  }
  if (!headersSent) res.status(200).type('application/x-ndjson');
  res.end(`${buf + JSON.stringify({ summary: true, created, rejected })}\n`);
}
