import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luhnCheckDigit } from '../../monitor/registry/luhn.ts';
import { freePort } from '../helpers/ports.ts';
import { runLastseen } from '../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
let dir: string;
let closedPort: number;
beforeAll(async () => {
  sys = await startTestSystem();
  await sys.api('POST', '/api/customers', { id: 'kwt', name: 'Kenya Wildlife Trust' });
  dir = mkdtempSync(join(tmpdir(), 'lastseen-cli-'));
  closedPort = await freePort();
});
afterAll(async () => {
  await sys?.close();
  rmSync(dir, { recursive: true, force: true });
});

const iccid = (n: number) => {
  const body = `892540211000${String(n).padStart(7, '0')}`;
  return body + luhnCheckDigit(body);
};

function csv(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const onboard = (args: string[]) => runLastseen(['onboard', ...args], { LASTSEEN_ADMIN_TOKEN: sys.adminToken }, 30_000);
const simulate = (args: string[]) =>
  runLastseen(
    ['simulate', '--mqtt', sys.mqttUrl, '--duration', '1', '--fleet', 'tracker:2', ...args],
    { LASTSEEN_ADMIN_TOKEN: sys.adminToken },
    30_000,
  );

/** The whole stderr is one line, without a stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0];
}

describe('lastseen simulate', () => {
  it('names the server and the reason in one line, exit 1, when the server cannot be reached', async () => {
    const r = await simulate(['--server', `http://127.0.0.1:${closedPort}`]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `lastseen: cannot reach the lastseen server at http://127.0.0.1:${closedPort} (ECONNREFUSED); is it running, and is --server right?`,
    );
  });

  it('says the fleet already exists in one line, exit 1, on a second run against the same server', async () => {
    const first = await simulate(['--server', sys.url, '--prefix', 'again-']);
    expect(first.code, first.stderr).toBe(0);
    const second = await simulate(['--server', sys.url, '--prefix', 'again-']);
    expect(second.code).toBe(1);
    expect(oneLine(second.stderr)).toMatch(/^lastseen: device again-tracker-001 already exists on the server; .*--prefix/);
  });
});

describe('lastseen onboard', () => {
  it('names the server and the reason in one line, exit 1, when the server cannot be reached', async () => {
    const file = csv('one.csv', 'deviceId,customerId\nu-1,kwt\n');
    const r = await onboard([file, '--server', `http://127.0.0.1:${closedPort}`]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      new RegExp(`^lastseen: cannot reach the lastseen server at http://127\\.0\\.0\\.1:${closedPort}/? \\(ECONNREFUSED\\)`),
    );
  });

  it('names a missing file in one line with exit 2', async () => {
    const missing = join(dir, 'nope.csv');
    const r = await onboard([missing, '--server', sys.url]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`lastseen: cannot read ${missing}: no such file`);
  });

  it('reads a semicolon-separated file as German and Swedish Excel write it', async () => {
    const file = csv('excel.csv', `\ufeffdeviceId;customerId;name;iccid\r\nse-1;kwt;"Älg; the tall";${iccid(1)}\r\nse-2;kwt;Varg;\r\n`);
    const r = await onboard([file, '--server', sys.url]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^created 2, rejected 0 in /);
    expect(r.code).toBe(0);
    expect(sys.registry.getDevice('se-1')!.name).toBe('Älg; the tall');
  });

  it('reports a broken quote on its own line and still onboards the line after it', async () => {
    const file = csv('quote.csv', ['deviceId,customerId,name', 'q-1,kwt,ok', 'q-2,kwt,"Twiga', 'q-3,kwt,ok', 'q-4,kwt,ok'].join('\n'));
    const r = await onboard([file, '--server', sys.url]);
    expect(r.stdout).toMatch(/^created 3, rejected 1 in /);
    expect(r.stderr).toContain('line 3: not valid CSV: a quote opened on this line is never closed');
    expect(sys.registry.getDevice('q-3')).toBeTruthy();
  });

  it('counts an ICCID that belongs to another device as a rejection, not as already onboarded', async () => {
    await sys.api('POST', '/api/devices', { id: 'owner-1', customerId: 'kwt', iccid: iccid(9) });
    const file = csv('taken.csv', `deviceId,customerId,iccid\nthief-1,kwt,${iccid(9)}\n`);
    const r = await onboard([file, '--server', sys.url]);
    expect(r.stdout).toMatch(/^created 0, rejected 1 in /);
    expect(r.stderr).toContain(`line 2: ICCID ${iccid(9)} already belongs to device owner-1`);
    expect(r.code).toBe(1);
  });
});
