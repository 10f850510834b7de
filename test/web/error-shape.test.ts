import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

async function call(method: string, path: string, body?: string) {
  const res = await fetch(`${sys.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${sys.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The one error shape: JSON with exactly one key, `error`, a sentence. */
function expectErrorShape(r: Awaited<ReturnType<typeof call>>): string {
  expect(r.type).toMatch(/^application\/json/);
  const body = JSON.parse(r.text);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(/^[A-Z].*\.$/);
  return body.error;
}

describe('error bodies', () => {
  it('have one shape for malformed JSON, an unknown API route, a wrong method and an unknown page', async () => {
    const malformed = await call('POST', '/api/devices', '{"id": ');
    expect(malformed.status).toBe(400);
    expect(expectErrorShape(malformed)).toBe('The request body is not valid JSON.');

    const unknown = await call('GET', '/api/nope');
    expect(unknown.status).toBe(404);
    expect(expectErrorShape(unknown)).toBe('There is no API endpoint GET /api/nope.');

    const wrongMethod = await call('PUT', '/api/devices');
    expect(wrongMethod.status).toBe(404);
    expectErrorShape(wrongMethod);

    const outsideApi = await call('POST', '/healthz');
    expect(outsideApi.status).toBe(404);
    expect(expectErrorShape(outsideApi)).toBe('There is nothing at POST /healthz.');

    const unknownDevice = await call('GET', '/api/devices/nobody/diagnosis');
    expect(unknownDevice.status).toBe(404);
    expectErrorShape(unknownDevice);
  });
});
