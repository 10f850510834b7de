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

/** The `sign in as:` line of the demo's banner: username → password. */
function printedPeople(output: string): Map<string, string> {
  const line = output.split('\n').find((l) => l.includes('sign in as:')) ?? '';
  return new Map([...line.matchAll(/(\w+) \/ (\S+) \(/g)].map((m) => [m[1], m[2]] as [string, string]));
}

async function signIn(
  port: number,
  username: string,
  password: string,
): Promise<{ status: number; role?: string; customerId?: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, ...((await res.json()) as { role?: string; customerId?: string | null }) };
}

describe('lastseen demo', () => {
  it('prints an agent and a customer user to sign in as; started again, new passwords replace the old', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-demo-people-'));
    const env = { LASTSEEN_DATA_DIR: dir, LASTSEEN_LOG_LEVEL: 'warn' };
    try {
      const first = await spawnLastseen(['demo'], env);
      await waitFor(async () => printedPeople(first.output()).size === 2, 10_000, 100);
      const before = printedPeople(first.output());
      expect(await signIn(first.httpPort, 'agent', before.get('agent')!)).toMatchObject({ status: 201, role: 'agent' });
      expect(await signIn(first.httpPort, 'ranger', before.get('ranger')!)).toMatchObject({
        status: 201,
        role: 'customer',
        customerId: 'kenya-wildlife',
      });
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      const second = await spawnLastseen(['demo'], env);
      try {
        await waitFor(async () => printedPeople(second.output()).size === 2, 10_000, 100);
        const after = printedPeople(second.output());
        expect(after.get('agent')).not.toBe(before.get('agent'));
        expect((await signIn(second.httpPort, 'agent', before.get('agent')!)).status).toBe(401);
        expect((await signIn(second.httpPort, 'agent', after.get('agent')!)).status).toBe(201);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

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
