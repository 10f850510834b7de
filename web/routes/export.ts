import { stringify } from 'csv-stringify';
import { Router } from 'express';
import { CSV_COLUMNS, OPTIONAL_EXTRA_COLUMNS } from '../../monitor/onboarding/columns.ts';
import { neutraliseFormula } from '../../monitor/onboarding/formula-cells.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import { check } from '../auth.ts';
import { listScope } from '../authz.ts';

const COLUMNS = [...CSV_COLUMNS, ...OPTIONAL_EXTRA_COLUMNS];

/**
 * GET /api/devices.csv: the registry as an onboarding CSV (docs/contract.md §6a columns first), so an
 * export can be edited and onboarded elsewhere. Streamed in pages; a customer key exports only
 * its own devices. Tokens are never exported: the registry does not have them. Every text cell
 * goes through `neutraliseFormula`, so a name like `=HYPERLINK(…)` is not run by a spreadsheet.
 */
export function exportRoutes(registry: Registry) {
  const r = Router();
  r.get('/devices.csv', async (req, res) => {
    check(req, 'device:read');
    const customerId = listScope(req.principal!, typeof req.query.customerId === 'string' ? req.query.customerId : undefined);
    res.type('text/csv').attachment('lastseen-devices.csv');
    const csv = stringify({ header: true, columns: COLUMNS as unknown as string[] });
    csv.pipe(res);
    let cursor: string | undefined;
    do {
      const page = registry.listDevices({ customerId, cursor, limit: 5000 });
      for (const d of page.items) {
        const row = [
          d.id,
          d.customerId,
          d.name,
          d.iccid,
          d.imsi,
          d.msisdn,
          d.interval,
          d.offlineAfter,
          d.species,
          d.simState,
          d.imei,
          d.nickname,
          d.tagModel,
        ];
        if (!csv.write(row.map((v) => (v === null ? '' : typeof v === 'string' ? neutraliseFormula(v) : String(v)))))
          await new Promise<void>((ok) => csv.once('drain', () => ok()));
      }
      cursor = page.next ?? undefined;
    } while (cursor);
    csv.end();
  });
  return r;
}
