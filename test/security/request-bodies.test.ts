import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
  await sys.addDevice('collar-1', 'acme');
});
afterAll(async () => {
  await sys?.close();
});

async function send(method: string, path: string, body: string, type: string | null = 'application/json') {
  const res = await fetch(sys.url + path, {
    method,
    headers: { authorization: `Bearer ${sys.adminToken}`, ...(type ? { 'content-type': type } : {}) },
    body,
  });
  return { status: res.status, body: (await res.json()) as { error?: string } & Record<string, unknown> };
}

async function rejected(reason: string): Promise<number> {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`lastseen_api_rejected_total{reason="${reason}"} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('request bodies', () => {
  it('answers a text/plain or untyped body with 415 and "send application/json", and counts it', async () => {
    const before = await rejected('content_type');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', null]) {
      const r = await send('PATCH', '/api/devices/collar-1', '{"name":"x"}', type);
      expect(r.status).toBe(415);
      expect(r.body.error).toMatch(/^Send the body as JSON with "Content-Type: application\/json"/);
    }
    expect((await send('POST', '/api/customers', '{"id":"c2","name":"C"}', 'text/plain')).status).toBe(415);
    expect(await rejected('content_type')).toBe(before + 4);
    expect(sys.registry.getDevice('collar-1')!.name).toBeNull();
    // Good traffic is unaffected, also with a charset parameter.
    expect((await send('PATCH', '/api/devices/collar-1', '{"name":"Twiga"}', 'application/json; charset=utf-8')).status).toBe(200);
  });

  it('still takes onboarding as text/csv', async () => {
    const r = await send('POST', '/api/onboarding', 'deviceId,customerId,name\ncsv-1,acme,From CSV\n', 'text/csv');
    expect(r.status).toBe(200);
    expect(r.body.created).toBe(1);
  });

  it('answers a deeply nested body with 422, never 500, on every JSON route', async () => {
    const before = await rejected('body_too_deep');
    for (const [method, path, body] of [
      ['PATCH', '/api/devices/collar-1', `{"custom":${nested(5000)}}`],
      ['PATCH', '/api/devices/collar-1', `{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
      ['POST', '/api/customers', `{"id":"deep","name":"D","diagnosis":${nested(5000)}}`],
      ['POST', '/api/onboarding', `[${nested(5000)}]`],
      ['POST', '/api/keys', `{"role":${nested(40)}}`],
    ] as const) {
      const r = await send(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(422);
      expect(r.body.error).toBe('The request body is nested more than 32 levels deep; flatten it.');
    }
    expect(await rejected('body_too_deep')).toBe(before + 5);
  });

  it('bounds custom fields in keys, bytes and depth with 413, and lets null remove a key to make room', async () => {
    await sys.addDevice('collar-2', 'acme');
    const fields = (from: number, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${from + i}`, 'v']));
    // Repeated merges cannot grow it past 64 keys.
    expect((await sys.api('PATCH', '/api/devices/collar-2', { custom: fields(0, 40) })).status).toBe(200);
    expect((await sys.api('PATCH', '/api/devices/collar-2', { custom: fields(40, 24) })).status).toBe(200);
    const full = await sys.api('PATCH', '/api/devices/collar-2', { custom: { k64: 'one too many' } });
    expect(full.status).toBe(413);
    expect(full.body.error).toBe("The device's custom fields would have 65 keys; at most 64 are kept (set a key to null to remove it).");
    expect(Object.keys(sys.registry.getDevice('collar-2')!.custom)).toHaveLength(64);
    const swap = await sys.api('PATCH', '/api/devices/collar-2', { custom: { k0: null, k64: 'fits now' } });
    expect(swap.status).toBe(200);
    expect(swap.body.custom).not.toHaveProperty('k0');
    expect(swap.body.custom.k64).toBe('fits now');

    const big = await sys.api('PATCH', '/api/devices/collar-1', { custom: { notes: 'x'.repeat(9000) } });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/^The device's custom fields would be \d+ bytes as JSON; at most 8192 are kept\.$/);
    const deep = await sys.api('PATCH', '/api/devices/collar-1', { custom: { a: { b: { c: { d: { e: 1 } } } } } });
    expect(deep.status).toBe(413);
    expect(deep.body.error).toBe("The device's custom fields is nested 5 levels deep; at most 4 are kept.");
    expect((await sys.api('PATCH', '/api/devices/collar-1', { custom: { vet: { name: 'Dr Njoroge' } } })).status).toBe(200);
    const created = await sys.api('POST', '/api/devices', { id: 'collar-3', customerId: 'acme', custom: fields(0, 65) });
    expect(created.status).toBe(413);
    expect(sys.registry.getDevice('collar-3')).toBeUndefined();
  });

  it('refuses the device and customer ids "." and "..", keeping "...", ".a" and "a..b" valid', async () => {
    const before = await rejected('reserved_id');
    for (const id of ['.', '..']) {
      const d = await sys.api('POST', '/api/devices', { id, customerId: 'acme' });
      expect(d.status).toBe(422);
      expect(d.body.error).toBe('device field "id": must not be "." or ".." (a URL path would resolve them away)');
      expect((await sys.api('POST', '/api/customers', { id, name: 'Dots' })).status).toBe(422);
    }
    expect(await rejected('reserved_id')).toBe(before + 4);
    for (const id of ['...', '.a', 'a..b']) expect((await sys.api('POST', '/api/devices', { id, customerId: 'acme' })).status).toBe(201);
    expect((await sys.api('GET', '/api/devices/...')).status).toBe(200);
    for (const id of ['a/b', 'a+b', 'a#b', 'a b', 'a\u0000b', 'a\tb'])
      expect((await sys.api('POST', '/api/devices', { id, customerId: 'acme' })).status).toBe(422);
    const csv = await send('POST', '/api/onboarding', 'deviceId,customerId\n..,acme\n', 'text/csv');
    expect(csv.body.rejected).toEqual([
      { line: 2, status: 422, error: 'deviceId must not be "." or ".." (a URL path would resolve them away)' },
    ]);
  });

  it('refuses names with control characters on create, PATCH and onboarding with 422, and counts them', async () => {
    const before = await rejected('control_characters');
    const bad = ['Kito\r\nBcc: all@evil.example', 'Kito\nline', 'tab\there', 'nul\u0000', 'sep\u2028x'];
    for (const name of bad) {
      const p = await sys.api('PATCH', '/api/devices/collar-1', { name });
      expect(p.status).toBe(422);
      expect(p.body.error).toBe('device field "name": must not contain control characters (line breaks, tabs, NUL)');
    }
    expect((await sys.api('POST', '/api/devices', { id: 'ctl-1', customerId: 'acme', nickname: 'a\rb' })).status).toBe(422);
    expect((await sys.api('POST', '/api/customers', { id: 'ctl', name: 'Evil\r\nCo' })).status).toBe(422);
    expect(await rejected('control_characters')).toBe(before + bad.length + 2);
    const rows = await sys.api('POST', '/api/onboarding', [{ deviceId: 'ctl-2', customerId: 'acme', name: 'a\nb' }]);
    expect(rows.body.rejected[0]).toMatchObject({
      line: 1,
      status: 422,
      error: 'name must not contain control characters (line breaks, tabs, NUL)',
    });
    expect(sys.registry.getDevice('collar-1')!.name).toBe('Twiga');
    expect((await sys.api('PATCH', '/api/devices/collar-1', { name: 'Twiga «Süd» 🦒 = fine' })).status).toBe(200);
  });
});
