import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnLastseen, type LastseenProcess } from '../helpers/process.ts';

const TOKEN = 'test-admin-token-0123456789';

describe('LASTSEEN_MQTT_PREAUTH_PER_ADDRESS in the real process', () => {
  const dirs: string[] = [];
  const procs: LastseenProcess[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'lastseen-preauth-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const p of procs) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('stops start-up with one line naming the variable when it is not a whole number ≥ 1', async () => {
    for (const bad of ['0', '2.5', 'many']) {
      const err = await spawnLastseen(['start'], {
        LASTSEEN_DATA_DIR: dir(),
        LASTSEEN_ADMIN_TOKEN: TOKEN,
        LASTSEEN_MQTT_PREAUTH_PER_ADDRESS: bad,
      }).then(
        () => null,
        (e: Error) => e.message,
      );
      expect(err, bad).toMatch(/LASTSEEN_MQTT_PREAUTH_PER_ADDRESS must be/);
    }
  }, 60_000);

  it('answers the third connection from one address waiting to log in with CONNACK 3 when it is 2', async () => {
    const p = await spawnLastseen(['start'], {
      LASTSEEN_DATA_DIR: dir(),
      LASTSEEN_ADMIN_TOKEN: TOKEN,
      LASTSEEN_LOG_LEVEL: 'warn',
      LASTSEEN_MQTT_PREAUTH_PER_ADDRESS: '2',
    });
    procs.push(p);
    const open = async () => {
      const s: Socket = connect({ port: p.mqttPort, host: '127.0.0.1', localAddress: '127.0.0.1' });
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const idle = [await open(), await open()];
    await new Promise((r) => setTimeout(r, 200));
    const extra = await open();
    const answer = await new Promise<Buffer>((resolve) => {
      let got = Buffer.alloc(0);
      extra.on('data', (b) => (got = Buffer.concat([got, b])));
      extra.once('close', () => resolve(got));
      setTimeout(() => resolve(got), 5000);
    });
    expect([...answer]).toEqual([0x20, 0x02, 0x00, 0x03]);
    const metrics = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^lastseen_mqtt_refused_total\{reason="preauth_per_address"\} 1$/m);
    for (const s of idle) s.destroy();
  }, 60_000);
});
