import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLastseen } from '../helpers/process.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-refuse-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const start = (env: Record<string, string>) =>
  runLastseen(['start'], { LASTSEEN_MQTT_PORT: '0', LASTSEEN_HTTP_PORT: '0', LASTSEEN_LOG_LEVEL: 'silent', ...env }, 15_000);

/** The one stderr line of a refused start, after checking it is one line and exit code 2. */
function refusal(r: Awaited<ReturnType<typeof start>>): string {
  expect(r.timedOut, 'lastseen hung instead of refusing').toBe(false);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

describe('lastseen start refuses in one line: exit 2 for a bad place to live, exit 1 for a service it cannot reach', () => {
  it('names LASTSEEN_DATA_DIR at once when the directory cannot be created under /proc', async () => {
    const r = await start({ LASTSEEN_DATA_DIR: '/proc/nope' });
    expect(refusal(r)).toBe('lastseen: LASTSEEN_DATA_DIR /proc/nope is not a writable directory (ENOENT)');
  }, 30_000);

  it('names LASTSEEN_HOST, not a port, for a host that is no address, and writes no admin token', async () => {
    const dataDir = tempDir();
    const r = await start({ LASTSEEN_DATA_DIR: dataDir, LASTSEEN_HOST: '999.1.1.1' });
    expect(refusal(r)).toMatch(/^lastseen: LASTSEEN_HOST=999\.1\.1\.1 is neither an IP address nor a name that resolves/);
    expect(existsSync(join(dataDir, 'admin-token'))).toBe(false);
  }, 30_000);

  it('names LASTSEEN_HOST for an address of another machine, and writes no admin token', async () => {
    const dataDir = tempDir();
    // 192.0.2.0/24 is reserved for documentation: never an address of this machine.
    const r = await start({ LASTSEEN_DATA_DIR: dataDir, LASTSEEN_HOST: '192.0.2.1' });
    expect(refusal(r)).toMatch(/^lastseen: LASTSEEN_HOST=192\.0\.2\.1: no network interface of this machine has that address/);
    expect(existsSync(join(dataDir, 'admin-token'))).toBe(false);
  }, 30_000);

  it('says in one line, exit 1, when the PostgreSQL registry it names cannot be reached', async () => {
    // A port nothing listens on (the refusal comes from the kernel at once).
    const r = await start({ LASTSEEN_DATA_DIR: tempDir(), LASTSEEN_REGISTRY: 'postgres://lastseen:pw@127.0.0.1:1/lastseen' });
    expect(r.timedOut, 'lastseen hung instead of refusing').toBe(false);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^lastseen: cannot start: the PostgreSQL registry at postgres:\/\/lastseen:\*\*\*@127\.0\.0\.1:1\/lastseen is unreachable/,
    );
  }, 30_000);
});
