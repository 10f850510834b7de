import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luhnCheckDigit } from '../../../monitor/registry/luhn.ts';
import { runLastseen } from '../../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
  await sys.api('POST', '/api/customers', { id: 'kwt', name: 'Kenya Wildlife Trust' });
});
afterAll(async () => {
  await sys?.close();
});

const iccid = (n: number) => {
  const body = `892540200000${String(n).padStart(7, '0')}`;
  return body + luhnCheckDigit(body);
};
const HEADER = 'deviceId,customerId,name,iccid,imsi,msisdn,interval,offlineAfter,species';

async function postCsv(csv: string, token = sys.adminToken, accept = 'application/json') {
  const res = await fetch(`${sys.url}/api/onboarding`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', accept },
    body: csv,
  });
  return { status: res.status, text: await res.text() };
}

describe('POST /api/onboarding', () => {
  it('creates good lines, reports bad ones by line number, and a re-run creates nothing twice', async () => {
    const csv = [HEADER, `col-1,kwt,One,${iccid(1)},,,900`, 'col-2,nobody', `col-3,kwt,Three,${iccid(1)}`, 'col-4,kwt,,,,,,60'].join('\n');
    const first = JSON.parse((await postCsv(csv)).text);
    expect(first.created).toBe(2);
    expect(first.credentials.map((c: { id: string }) => c.id)).toEqual(['col-1', 'col-4']);
    expect(first.rejected).toEqual([
      { line: 3, status: 422, error: 'customer nobody does not exist' },
      { line: 4, status: 409, conflict: 'iccid', error: `ICCID ${iccid(1)} already belongs to device col-1` },
    ]);
    // The credentials work for MQTT at once, and the device is tracked.
    const client = await sys.connect('col-1', first.credentials[0].token);
    await client.publishAsync('devices/col-1/heartbeat', '{}', { qos: 1 });
    expect(sys.liveness.get('col-1')!.status).toBe('online');
    expect(sys.liveness.offlineAfterOf('col-4')).toBe(60);

    const again = JSON.parse((await postCsv(csv)).text);
    expect(again.created).toBe(0);
    expect(again.rejected.filter((r: { status: number }) => r.status === 409).map((r: { line: number }) => r.line)).toEqual([2, 4, 5]);
    // Lines 2 and 5 are this file's devices again; line 4's SIM belongs to another device.
    expect(again.rejected.filter((r: { conflict?: string }) => r.conflict === 'device').map((r: { line: number }) => r.line)).toEqual([
      2, 5,
    ]);
  });

  it('accepts a JSON array and answers 400 for a CSV without the required header, 403 for a customer key', async () => {
    const res = await sys.api('POST', '/api/onboarding', [{ deviceId: 'json-1', customerId: 'kwt' }, { deviceId: 'json-2' }]);
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(1);
    expect(res.body.rejected).toEqual([{ line: 2, status: 422, error: 'customerId is required' }]);
    const noHeader = await postCsv('a,b\nc,d\n');
    expect(noHeader.status).toBe(400);
    expect(JSON.parse(noHeader.text).error).toMatch(/missing: deviceId, customerId/);
    const key = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'kwt' })).body.token;
    expect((await postCsv(`${HEADER}\nx,kwt`, key)).status).toBe(403);
  });

  it('streams NDJSON outcomes with a final summary when asked', async () => {
    const csv = [HEADER, ...Array.from({ length: 50 }, (_, i) => `nd-${i},kwt`), 'nd-0,kwt'].join('\n');
    const res = await postCsv(csv, sys.adminToken, 'application/x-ndjson');
    const lines = res.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(52);
    expect(lines.at(-1)).toEqual({ summary: true, created: 50, rejected: 1 });
    expect(lines[50]).toMatchObject({ line: 52, status: 409 });
  });
});

describe('lastseen onboard FILE.csv', () => {
  it('onboards through the API, writes credentials with mode 600, and exits 0; non-zero when nothing could be onboarded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-onboard-'));
    const file = join(dir, 'sims.csv');
    writeFileSync(
      file,
      [HEADER, ...Array.from({ length: 300 }, (_, i) => `cli-${i},kwt,Collar ${i},${iccid(1000 + i)}`), 'cli-bad,kwt,,123'].join('\r\n'),
    );
    const creds = join(dir, 'creds.csv');
    const env = { LASTSEEN_ADMIN_TOKEN: sys.adminToken };
    const r = await runLastseen(['onboard', file, '--server', sys.url, '--credentials', creds], env);
    expect(r.stdout).toMatch(/^created 300, rejected 1 in [\d.]+ s; credentials in /);
    expect(r.stderr).toContain('line 302: iccid must be 18 to 22 digits');
    expect(r.code).toBe(0);
    const rows = readFileSync(creds, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('deviceId,token');
    expect(rows).toHaveLength(301);
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    expect(sys.registry.getDevice('cli-299')!.iccid).toBe(iccid(1299));

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `${HEADER}\nz-1,nobody\n`);
    const fail = await runLastseen(['onboard', bad, '--server', sys.url], env);
    expect(fail.code).toBe(1);
    const rerun = await runLastseen(['onboard', file, '--server', sys.url], env);
    expect(rerun.stdout).toMatch(/^created 0, rejected 301 \(300 already onboarded\)/);
    expect(rerun.code).toBe(1);
  }, 60_000);
});

describe('GET /api/devices.csv', () => {
  it('exports the registry as an onboarding CSV that can be onboarded again elsewhere, scoped for customer keys', async () => {
    await sys.api('POST', '/api/customers', { id: 'zoo', name: 'Zoo' });
    await sys.api('POST', '/api/devices', { id: 'zoo-x', customerId: 'zoo', name: 'Quoted, "name"' });
    const res = await fetch(`${sys.url}/api/devices.csv`, { headers: { authorization: `Bearer ${sys.adminToken}` } });
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await res.text();
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('deviceId,customerId,name,iccid,imsi,msisdn,interval,offlineAfter,species,simState,imei,nickname,tagModel');
    expect(text).toContain('zoo-x,zoo,"Quoted, ""name""",');
    expect(text).toContain(`col-1,kwt,One,${iccid(1)},,,900,`);

    // Round trip: the export is a valid onboarding file for a fresh system.
    const { startTestSystem } = await import('../../helpers/system.ts');
    const other = await startTestSystem();
    try {
      await other.api('POST', '/api/customers', { id: 'kwt', name: 'K' });
      await other.api('POST', '/api/customers', { id: 'zoo', name: 'Z' });
      const r = await fetch(`${other.url}/api/onboarding`, {
        method: 'POST',
        headers: { authorization: `Bearer ${other.adminToken}`, 'content-type': 'text/csv' },
        body: text,
      });
      const body = (await r.json()) as { created: number; rejected: unknown[] };
      expect(body.rejected).toEqual([]);
      expect(body.created).toBe(lines.length - 1);
      expect(other.registry.getDevice('zoo-x')!.name).toBe('Quoted, "name"');
    } finally {
      await other.close();
    }

    const key = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'zoo' })).body.token;
    const mine = await (await fetch(`${sys.url}/api/devices.csv`, { headers: { authorization: `Bearer ${key}` } })).text();
    expect(
      mine
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    ).toEqual(['zoo-x']);
  });
});
