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
  return { status: res.status, type: res.headers.get('content-type') ?? '', allow: res.headers.get('allow'), text: await res.text() };
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
  it('have one shape for malformed JSON, an unknown API route, a wrong method (405 with Allow) and an unknown page', async () => {
    const malformed = await call('POST', '/api/devices', '{"id": ');
    expect(malformed.status).toBe(400);
    expect(expectErrorShape(malformed)).toBe('The request body is not valid JSON.');

    const unknown = await call('GET', '/api/nope');
    expect(unknown.status).toBe(404);
    expect(expectErrorShape(unknown)).toBe('There is no API endpoint GET /api/nope.');

    const wrongMethod = await call('PUT', '/api/devices');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.allow).toBe('GET, HEAD, POST');
    expect(expectErrorShape(wrongMethod)).toBe('PUT is not a method of /api/devices; it answers GET, HEAD, POST.');

    const wrongMethodOnOne = await call('POST', '/api/devices/some-id');
    expect(wrongMethodOnOne.status).toBe(405);
    expect(wrongMethodOnOne.allow).toBe('GET, HEAD, PATCH');

    const outsideApi = await call('POST', '/healthz');
    expect(outsideApi.status).toBe(405);
    expect(outsideApi.allow).toBe('GET, HEAD');
    expect(expectErrorShape(outsideApi)).toBe('POST is not a method of /healthz; it answers GET, HEAD.');

    const nowhere = await call('POST', '/nowhere');
    expect(nowhere.status).toBe(404);
    expect(expectErrorShape(nowhere)).toBe('There is nothing at POST /nowhere.');

    const unknownDevice = await call('GET', '/api/devices/nobody/diagnosis');
    expect(unknownDevice.status).toBe(404);
    expectErrorShape(unknownDevice);
  });
});
