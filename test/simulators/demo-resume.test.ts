import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnLastseen } from '../helpers/process.ts';
import { waitFor } from '../helpers/system.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-demo-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function lastSeen(port: number, token: string, id: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/devices/${id}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { lastSeen: string | null };
  return body.lastSeen ? Date.parse(body.lastSeen) : 0;
}

describe('lastseen demo', () => {
  it('resumes its fleet when started again on the same data dir', async () => {
    const env = { LASTSEEN_DATA_DIR: dataDir, LASTSEEN_LOG_LEVEL: 'warn' };
    const first = await spawnLastseen(['demo'], env);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    await waitFor(async () => (await lastSeen(first.httpPort, token, 'otter-001')) > 0, 20_000, 200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const restarted = Date.now();
    const second = await spawnLastseen(['demo'], env);
    try {
      // At speed 90 an otter reports every 7 s: a resumed fleet is heard again within seconds.
      await waitFor(async () => (await lastSeen(second.httpPort, token, 'otter-001')) > restarted, 20_000, 200);
      await waitFor(async () => (await lastSeen(second.httpPort, token, 'giraffe-001')) > restarted, 20_000, 200);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);
});
