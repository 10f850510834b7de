import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianBinary } from '../helpers/debian.ts';
import { runLastseen } from '../helpers/process.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
let dir: string;
let ca: Buffer;
beforeAll(async () => {
  const openssl = ensureDebianBinary('openssl', 'openssl');
  dir = mkdtempSync(join(tmpdir(), 'lastseen-tls-'));
  // A self-signed certificate for 127.0.0.1, as an operator would get one from their CA.
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  ca = readFileSync(join(dir, 'cert.pem'));
  sys = await startTestSystem({ config: { tls: { cert: ca, key: readFileSync(join(dir, 'key.pem')) }, mqttsPort: 0 } });
});
afterAll(async () => {
  await sys?.close();
  rmSync(dir, { recursive: true, force: true });
});

const httpsJson = (path: string) =>
  new Promise<{ status: number; body: any }>((resolve, reject) => {
    get({ host: '127.0.0.1', port: sys.httpPort, path, ca }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    }).on('error', reject);
  });

describe('TLS when certificate files are configured', () => {
  it('serves the API over HTTPS with a certificate the client verifies, and reports the MQTT TLS port', async () => {
    const r = await httpsJson('/healthz');
    expect(r.status).toBe(200);
    expect(r.body.mqttsPort).toBe(sys.mqttsPort);
    await expect(fetch(`http://127.0.0.1:${sys.httpPort}/healthz`)).rejects.toThrow();
  });

  it('accepts heartbeats over MQTT on TLS (mqtts) from a client that verifies the server', async () => {
    // The test helpers speak plain HTTP; go through the registry instead.
    sys.registry.createCustomer({ id: 'acme', name: 'Acme' });
    const { device, token } = sys.registry.createDevice({ id: 'tls-1', customerId: 'acme' });
    sys.track(device);
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${sys.mqttsPort}`, {
      clientId: 'tls-1',
      username: 'tls-1',
      password: token,
      ca,
      reconnectPeriod: 0,
    });
    await c.publishAsync('devices/tls-1/heartbeat', '{"battery": 12}', { qos: 1 });
    await waitFor(() => sys.liveness.get('tls-1')?.status === 'online');
    await c.endAsync();
    // A client that does not trust the certificate is refused by its own TLS check.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${sys.mqttsPort}`, { username: 'tls-1', password: token, reconnectPeriod: 0 }),
    ).rejects.toThrow(/self.signed|certificate/i);
  });

  it('stops start-up with one line when only one of the two files is given, or it cannot be read', async () => {
    const one = await runLastseen(['start'], { LASTSEEN_DATA_DIR: dir, LASTSEEN_TLS_CERT: join(dir, 'cert.pem') });
    expect(one.code).toBe(2);
    expect(one.stderr.trim()).toBe('lastseen: LASTSEEN_TLS_CERT and LASTSEEN_TLS_KEY must be set together');
    const missing = await runLastseen(['start'], {
      LASTSEEN_DATA_DIR: dir,
      LASTSEEN_TLS_CERT: join(dir, 'nope.pem'),
      LASTSEEN_TLS_KEY: join(dir, 'key.pem'),
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^lastseen: LASTSEEN_TLS_CERT .*nope\.pem cannot be read \(ENOENT\)$/);
  });
});
