import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWebhookAllow } from '../../monitor/alerts/channels/webhook-destination.ts';
import { ConfigError, loadConfig } from '../../monitor/config.ts';
import type { ChannelConfig } from '../../monitor/types.ts';
import { startReceiver } from '../monitor/alerts/receiver.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

/**
 * Server-side request forgery through webhooks: a customer must not make lastseen POST to
 * loopback, private, link-local or other internal addresses — not when configuring, and not at
 * delivery after DNS resolution (a name whose answer changed after configuration). Real
 * receivers on 127.0.0.1 count every request they get.
 */
const SECRET = 'ssrf-probe-secret';
const FAST = { holdMs: 200, confirmIntervals: 0 };

const INTERNAL_HOSTS = [
  '127.0.0.1',
  '2130706433',
  '0x7f.1',
  '0177.0.0.1',
  '127.1',
  '[::ffff:127.0.0.1]',
  '[::1]',
  '0.0.0.0',
  '0',
  '[::]',
  '169.254.169.254',
  '[fe80::1]',
  '[fc00::1]',
  '[fd12:3456::1]',
  '100.64.0.1',
  '10.1.2.3',
  '172.16.0.1',
  '172.31.255.254',
  '192.168.1.1',
  '224.0.0.1',
  '255.255.255.255',
  'localhost',
  '[::ffff:10.0.0.1]',
  '[64:ff9b::7f00:1]',
];
const PUBLIC_HOSTS = ['93.184.215.14', '172.32.0.1', '[2606:4700::1111]', 'hooks.example.com'];

const metric = async (sys: TestSystem, re: RegExp) => Number(re.exec(await (await fetch(`${sys.url}/metrics`)).text())?.[1] ?? 0);

/** A device of `customerId` that reports once and goes silent, so one offline alert is sent. */
async function silentDevice(sys: TestSystem, id: string, customerId: string): Promise<string> {
  const token = await sys.addDevice(id, customerId, { offlineAfter: 1 });
  const c = await sys.connect(id, token);
  await c.publishAsync(`devices/${id}/heartbeat`, '{}', { qos: 1 });
  await c.endAsync();
  const alert = await waitFor(async () => (await sys.api('GET', `/api/alerts?deviceId=${id}`)).body.items?.[0], 15_000);
  return alert.id as string;
}

describe('webhook destinations without an allow-list', () => {
  let sys: TestSystem;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    rx = await startReceiver(SECRET);
    sys = await startTestSystem();
    expect((await sys.api('POST', '/api/customers', { id: 'acme', name: 'Acme', alertPolicy: FAST })).status).toBe(201);
  });
  afterAll(async () => {
    await sys?.close();
    await rx?.close();
  });

  it('refuses every internal address form when a customer configures it: 422 with the reason, counted, nothing stored', async () => {
    const key = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'acme' })).body.token;
    const before = await metric(sys, /^lastseen_api_rejected_total\{reason="webhook_destination"\} (\d+)/m);
    for (const host of INTERNAL_HOSTS) {
      const channels = [{ type: 'webhook', url: `http://${host}:${rx.port}/hook`, secret: SECRET }];
      const patch = await sys.api('PATCH', '/api/customers/acme', { channels }, key);
      expect(patch.status, host).toBe(422);
      expect(patch.body.error, host).toMatch(
        /^customer field "channels\.0\.url": .* is an? [A-Za-z0-9 -]+ address; webhooks go to public addresses only unless LASTSEEN_WEBHOOK_ALLOW lists it\.$/,
      );
      const create = await sys.api('POST', '/api/customers', { id: 'probe', name: 'Probe', channels });
      expect(create.status, host).toBe(422);
    }
    expect((await sys.api('GET', '/api/customers/probe')).status).toBe(404);
    expect(sys.registry.getCustomer('acme')!.channels).toEqual([]);
    expect(await metric(sys, /^lastseen_api_rejected_total\{reason="webhook_destination"\} (\d+)/m)).toBe(
      before + 2 * INTERNAL_HOSTS.length,
    );
    expect(rx.attempts()).toBe(0);
  });

  it('accepts public addresses and names', async () => {
    for (const host of PUBLIC_HOSTS) {
      const r = await sys.api('PATCH', '/api/customers/acme', {
        channels: [{ type: 'webhook', url: `https://${host}/hook`, secret: SECRET }],
      });
      expect(r.status, `${host}: ${JSON.stringify(r.body)}`).toBe(200);
    }
    expect((await sys.api('PATCH', '/api/customers/acme', { channels: [] })).status).toBe(200);
  });

  it('refuses at delivery a stored destination that resolves to, or is, loopback: the receiver gets nothing, refused is counted and shown', async () => {
    // Stored behind the API's back, as if the name had resolved publicly when it was configured.
    const forms = ['localhost', '127.0.0.1', '2130706433', '0x7f.1', '0177.0.0.1', '[::ffff:127.0.0.1]'];
    const channels: ChannelConfig[] = forms.map((h) => ({ type: 'webhook', url: `http://${h}:${rx.port}/hook`, secret: SECRET }));
    sys.registry.updateCustomer('acme', { channels });
    const alertId = await silentDevice(sys, 'acme-1', 'acme');
    const alert = await waitFor(async () => {
      const a = (await sys.api('GET', `/api/alerts/${alertId}`)).body;
      return a.deliveries?.length === forms.length && a.deliveries.every((d: { state: string }) => d.state === 'refused') ? a : undefined;
    }, 15_000);
    for (const d of alert.deliveries) {
      expect(d.channel).toMatch(/^webhook:http:\/\//);
      expect(d.error).toMatch(/refused: .*is a loopback address; webhooks go to public addresses only/);
    }
    expect(alert.deliveries.find((d: { channel: string }) => d.channel.includes('localhost')).error).toContain(
      'localhost (127.0.0.1) is a loopback address',
    );
    expect(await metric(sys, /^lastseen_alert_deliveries_total\{channel="webhook",result="refused"\} (\d+)/m)).toBe(forms.length);
    // Not retried: nothing is queued, and still nothing arrived.
    expect(await metric(sys, /^lastseen_alert_queue_depth (\d+)/m)).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.attempts()).toBe(0);
  }, 30_000);

  it('stops start-up on a malformed LASTSEEN_WEBHOOK_ALLOW, naming the variable and the entry', () => {
    expect(() => loadConfig({ LASTSEEN_WEBHOOK_ALLOW: '10.0.0.0/8, 10.0.0.0/99' })).toThrow(ConfigError);
    expect(() => loadConfig({ LASTSEEN_WEBHOOK_ALLOW: 'hooks.internal,not a host' })).toThrow(
      /^LASTSEEN_WEBHOOK_ALLOW: "not a host" is neither an address range nor a host name$/,
    );
    expect(loadConfig({ LASTSEEN_WEBHOOK_ALLOW: '10.0.0.0/8, fd00::/8, 127.0.0.1, hooks.internal' }).webhookAllow).toHaveLength(4);
  });
});

describe('webhook destinations the operator allows (LASTSEEN_WEBHOOK_ALLOW)', () => {
  let sys: TestSystem;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let target: Awaited<ReturnType<typeof startReceiver>>;
  let redirector: Server;
  let redirectPort = 0;
  beforeAll(async () => {
    rx = await startReceiver(SECRET);
    target = await startReceiver(SECRET);
    redirector = createServer((_req, res) => res.writeHead(302, { location: target.url }).end());
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    redirectPort = (redirector.address() as AddressInfo).port;
    sys = await startTestSystem({ config: { webhookAllow: parseWebhookAllow('127.0.0.0/8') } });
  });
  afterAll(async () => {
    await sys?.close();
    await rx?.close();
    await target?.close();
    await new Promise((r) => redirector?.close(r));
  });

  it('delivers to an allowed loopback receiver, by address and by a name resolving into the range; other internal ranges stay refused', async () => {
    const refused = await sys.api('POST', '/api/customers', {
      id: 'meta',
      name: 'M',
      channels: [{ type: 'webhook', url: 'http://169.254.169.254/latest', secret: SECRET }],
    });
    expect(refused.status).toBe(422);
    const channels = [
      { type: 'webhook', url: `http://127.0.0.1:${rx.port}/by-address`, secret: SECRET },
      { type: 'webhook', url: `http://localhost:${rx.port}/by-name`, secret: SECRET },
    ];
    expect((await sys.api('POST', '/api/customers', { id: 'kws', name: 'KWS', channels, alertPolicy: FAST })).status).toBe(201);
    const alertId = await silentDevice(sys, 'kws-1', 'kws');
    await waitFor(() => rx.received.length >= 2, 15_000);
    expect(rx.received.every((r) => r.verified && (r.body as { id: string }).id === alertId)).toBe(true);
    const states = (await sys.api('GET', `/api/alerts/${alertId}`)).body.deliveries;
    expect(states.map((d: { state: string }) => d.state)).toEqual(['delivered', 'delivered']);
  }, 30_000);

  it('does not follow a redirect, even to an allowed receiver: the delivery stays queued with the reason', async () => {
    const channels = [{ type: 'webhook', url: `http://127.0.0.1:${redirectPort}/moved`, secret: SECRET }];
    expect((await sys.api('POST', '/api/customers', { id: 'redir', name: 'R', channels, alertPolicy: FAST })).status).toBe(201);
    const alertId = await silentDevice(sys, 'redir-1', 'redir');
    const d = await waitFor(
      async () => (await sys.api('GET', `/api/alerts/${alertId}`)).body.deliveries?.find((x: { attempts: number }) => x.attempts >= 1),
      15_000,
    );
    expect(d).toMatchObject({ state: 'queued', error: expect.stringMatching(/answered HTTP 302 \(redirects are not followed\)$/) });
    expect(target.attempts()).toBe(0);
  }, 30_000);
});
