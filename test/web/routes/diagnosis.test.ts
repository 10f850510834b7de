import express from 'express';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnosisRouter } from '../../../web/routes/diagnosis.ts';
import type { DiagnosisInput } from '../../../monitor/diagnosis/types.ts';
import { HOUR, replayOne } from '../../monitor/diagnosis/fixtures.ts';
import { batteryRunsOut, endOf } from '../../monitor/diagnosis/scenarios.ts';

describe('diagnosis routes', () => {
  let server: Server;
  let base: string;
  const track = batteryRunsOut('twiga-07');
  const input = replayOne(track, endOf(track) + 3 * HOUR);
  const asked: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.use(
      '/api',
      diagnosisRouter({
        load: async (id, req) => {
          asked.push(`${id}:${req.get('x-test') ?? ''}`);
          return id === 'twiga-07' ? (input as DiagnosisInput) : null;
        },
      }),
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the diagnosis of a device the loader finds', async () => {
    const res = await fetch(`${base}/api/devices/twiga-07/diagnosis`, { headers: { 'x-test': 'agent' } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ deviceId: 'twiga-07', status: 'offline', cause: 'battery_depleted', confidence: 'high' });
    expect(body.checks.map((c: { name: string }) => c.name)).toEqual([
      'sim',
      'session',
      'heartbeat',
      'gps',
      'battery',
      'signal',
      'motion',
      'clock',
      'network',
      'neighbours',
    ]);
    expect(asked).toContain('twiga-07:agent');
  });

  it('serves the timeline as a list oldest first', async () => {
    const res = await fetch(`${base}/api/devices/twiga-07/timeline`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { at: string; kind: string }[];
    expect(body.at(-1)).toMatchObject({ kind: 'status' });
    expect(body.map((e) => e.at)).toEqual([...body.map((e) => e.at)].sort());
  });

  it('answers 404 with a JSON error when the loader returns null', async () => {
    for (const path of ['diagnosis', 'timeline']) {
      const res = await fetch(`${base}/api/devices/nobody/${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'Device nobody not found.' });
    }
  });
});
