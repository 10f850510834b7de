import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookChannel } from '../../../monitor/alerts/channels/webhook.ts';
import { WebhookDestinations } from '../../../monitor/alerts/channels/webhook-destination.ts';
import { incidentAlertId } from '../../../monitor/alerts/engine.ts';
import { AlertJournal } from '../../../monitor/alerts/journal.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { Outbox } from '../../../monitor/alerts/outbox.ts';
import { AlertStore, type AlertRecord, type IncidentRecord } from '../../../monitor/alerts/store.ts';
import type { Cause } from '../../../monitor/alerts/types.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import type { Role } from '../../../monitor/types.ts';
import { alertRoutes, type Caller } from '../../../web/routes/alerts.ts';
import { device, tempFile } from '../../monitor/alerts/harness.ts';
import { errorsAsJson } from './errors-as-json.ts';

const AT = Date.UTC(2026, 0, 1, 12);
const CALLERS: Record<string, Caller> = {
  admin: { role: 'admin', username: 'root' },
  agent: { role: 'agent', username: 'wanjiru' },
  kws: { role: 'customer', customerId: 'kws', username: 'kim' },
  other: { role: 'customer', customerId: 'other', username: 'olle' },
};
const PEOPLE: Record<string, { username: string; role: Role }> = {
  root: { username: 'root', role: 'admin' },
  wanjiru: { username: 'wanjiru', role: 'agent' },
  kim: { username: 'kim', role: 'customer' },
};

let base = '';
let store: AlertStore;
let journal: AlertJournal;
let outbox: Outbox;
let changes: string[];
let close: () => Promise<void>;
let cleanup: () => void;
let incident: IncidentRecord;
const clock = new ManualClock(AT + 60_000);

function offline(id: string, customerId: string, deviceId: string, at: number, cause: Cause = 'unknown') {
  const ev = render(
    {
      id,
      type: 'device.offline',
      at,
      customerId,
      customerName: customerId,
      device: device(deviceId, customerId),
      lastSeen: at - 600_000,
      cause,
    },
    'en',
    at,
  );
  store.insert(ev, 'firing', at);
  return ev;
}

beforeEach(async () => {
  const t = tempFile();
  cleanup = t.cleanup;
  store = new AlertStore(t.file);
  journal = new AlertJournal(store.db);
  // Deliveries to loopback are refused at delivery without LASTSEEN_WEBHOOK_ALLOW: a real failed delivery.
  outbox = new Outbox({
    db: store.db,
    clock,
    log: silentLogger,
    channelFor: (c) => (c.type === 'webhook' ? new WebhookChannel(c, undefined, new WebhookDestinations()) : null),
  });
  changes = [];
  offline('a_kws1', 'kws', 'c1', AT);
  // A cell outage of five collars, two of them back.
  incident = {
    id: 'i_cell',
    customerId: 'kws',
    scope: 'cell',
    key: '639-02-40021',
    openedAt: AT + 1000,
    members: { c2: false, c3: true, c4: false, c5: true, c6: false },
    resolvedAt: null,
  };
  store.saveIncident(incident);
  const inc = render(
    {
      id: incidentAlertId(incident),
      type: 'incident.opened',
      at: incident.openedAt,
      customerId: 'kws',
      customerName: 'kws',
      lastSeen: null,
      cause: 'network_outage',
      incident: {
        id: incident.id,
        scope: 'cell',
        key: incident.key,
        openedAt: incident.openedAt,
        members: ['c2', 'c3', 'c4', 'c5', 'c6'].map((d) => device(d, 'kws')),
        stillOffline: [],
      },
    },
    'en',
    incident.openedAt,
  );
  store.insert(inc, 'firing', incident.openedAt);
  const oth = offline('a_oth1', 'other', 'd1', AT + 2000, 'battery_depleted');
  outbox.enqueue(oth, {
    id: 'other',
    name: 'Other',
    language: 'en',
    channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'secret-123' }],
  });
  await outbox.runDue();
  const app = express();
  app.use(express.json());
  app.use(
    '/api',
    alertRoutes(store, (req) => CALLERS[(req.headers.authorization ?? '').replace(/^Bearer /, '')], {
      clock,
      journal,
      deliveries: (id) => outbox.deliveryStates(id),
      person: (u) => PEOPLE[u],
      member: (id) => ({ id, name: `Collar ${id}`, status: 'offline', lastPosition: { lat: -1.3, lon: 36.8 } }),
      changed: (a: AlertRecord) => void changes.push(a.id),
    }),
  );
  app.use(errorsAsJson);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((r) => server.close(() => r()));
});
afterEach(async () => {
  await close();
  outbox.stop();
  store.close();
  cleanup();
});

const call = async (method: string, path: string, who?: string, body?: unknown) => {
  const res = await fetch(base + path, {
    method,
    headers: { ...(who ? { authorization: `Bearer ${who}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};
const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((a) => a.id);
const INC = () => incidentAlertId(incident);

describe('the inbox (GET /api/alerts with incidents and filters)', () => {
  it('lists alerts and incidents together with status, severity, assignee and incident member counts', async () => {
    const r = await call('GET', '/api/alerts', 'agent');
    expect(ids(r)).toEqual(['a_oth1', INC(), 'a_kws1']);
    const inc = r.body.items[1];
    expect(inc).toMatchObject({ type: 'incident.opened', status: 'firing', severity: 'critical', assignee: null });
    expect(inc.incident).toEqual({ id: 'i_cell', scope: 'cell', key: '639-02-40021', members: { total: 5, back: 2 } });
    expect(r.body.items[2]).toMatchObject({ severity: 'major', status: 'firing' });
  });

  it('filters by customer, cause, severity, acknowledgement and failed deliveries', async () => {
    expect(ids(await call('GET', '/api/alerts?customerId=kws', 'agent'))).toEqual([INC(), 'a_kws1']);
    expect(ids(await call('GET', '/api/alerts?severity=critical', 'agent'))).toEqual([INC()]);
    expect(ids(await call('GET', '/api/alerts?severity=major,minor', 'agent'))).toEqual(['a_oth1', 'a_kws1']);
    expect(ids(await call('GET', '/api/alerts?cause=battery_depleted', 'agent'))).toEqual(['a_oth1']);
    expect(ids(await call('GET', '/api/alerts?cause=network_outage', 'agent'))).toEqual([INC()]);
    // The other customer's webhook points at loopback: refused at delivery, so it is a failed one.
    expect(outbox.deliveryStates('a_oth1').map((d) => d.state)).toEqual(['refused']);
    expect(ids(await call('GET', '/api/alerts?failed=true', 'agent'))).toEqual(['a_oth1']);
    expect((await call('POST', '/api/alerts/a_kws1/ack', 'agent', {})).status).toBe(200);
    expect(ids(await call('GET', '/api/alerts?state=acknowledged', 'agent'))).toEqual(['a_kws1']);
    expect(ids(await call('GET', '/api/alerts?state=firing&acked=false', 'agent'))).toEqual(['a_oth1', INC()]);
    expect((await call('GET', '/api/alerts?state=acknowledged', 'agent')).body.items[0].status).toBe('acknowledged');
  });

  it('refuses bad filters with a sentence', async () => {
    expect(await call('GET', '/api/alerts?severity=urgent', 'agent')).toEqual({
      status: 400,
      body: { error: 'severity must be a comma-separated list of critical, major, minor, warning, info.' },
    });
    expect((await call('GET', '/api/alerts?failed=yes', 'agent')).status).toBe(400);
    expect((await call('GET', '/api/alerts?cause=%3Cscript%3E', 'agent')).status).toBe(400);
    expect((await call('GET', '/api/alerts?acked=1', 'agent')).status).toBe(400);
  });

  it('shows a customer only its own alerts and incidents, whatever it filters on', async () => {
    expect(ids(await call('GET', '/api/alerts', 'kws'))).toEqual([INC(), 'a_kws1']);
    expect(ids(await call('GET', '/api/alerts?failed=true', 'kws'))).toEqual([]);
    expect(ids(await call('GET', '/api/alerts?customerId=other', 'kws'))).toEqual([]);
    expect((await call('GET', '/api/alerts/a_oth1', 'kws')).status).toBe(404);
    expect((await call('GET', `/api/incidents/i_cell/log`, 'other')).status).toBe(404);
  });

  it('gives one incident with its member devices for the map', async () => {
    const r = await call('GET', `/api/alerts/${INC()}`, 'kws');
    expect(r.status).toBe(200);
    expect(r.body.incident.members.items).toHaveLength(5);
    expect(r.body.incident.members.items[0]).toEqual({
      id: 'c2',
      name: 'Collar c2',
      status: 'offline',
      lastPosition: { lat: -1.3, lon: 36.8 },
      back: false,
    });
    expect(r.body.incident.members.items.filter((m: { back: boolean }) => m.back).map((m: { id: string }) => m.id)).toEqual(['c3', 'c5']);
  });
});

describe('assigning, commenting and resolving', () => {
  it('assigns an alert to an admin or agent by username, shows it, and unassigns with null', async () => {
    const r = await call('PATCH', '/api/alerts/a_kws1', 'admin', { assignee: 'wanjiru' });
    expect(r).toMatchObject({ status: 200, body: { id: 'a_kws1', assignee: 'wanjiru' } });
    expect((await call('GET', '/api/alerts?customerId=kws', 'agent')).body.items[1].assignee).toBe('wanjiru');
    expect((await call('GET', '/api/alerts/a_kws1', 'kws')).body.assignee).toBe('wanjiru');
    expect((await call('PATCH', '/api/alerts/a_kws1', 'agent', { assignee: null })).body.assignee).toBeNull();
    expect(changes).toEqual(['a_kws1', 'a_kws1']);
  });

  it('refuses an unknown or customer assignee, unknown fields, customers and foreign alerts', async () => {
    expect(await call('PATCH', '/api/alerts/a_kws1', 'agent', { assignee: 'nobody' })).toEqual({
      status: 422,
      body: { error: 'alert field "assignee": "nobody" is not an admin\'s or agent\'s username.' },
    });
    expect((await call('PATCH', '/api/alerts/a_kws1', 'agent', { assignee: 'kim' })).status).toBe(422);
    expect((await call('PATCH', '/api/alerts/a_kws1', 'agent', { assignee: 'root', state: 'x' })).status).toBe(422);
    expect((await call('PATCH', '/api/alerts/a_kws1', 'agent', {})).status).toBe(422);
    expect((await call('PATCH', '/api/alerts/a_kws1', 'kws', { assignee: 'root' })).status).toBe(403);
    expect((await call('PATCH', '/api/alerts/a_kws1', 'other', { assignee: 'root' })).status).toBe(404);
    expect((await call('PATCH', '/api/alerts/a_kws1', undefined, { assignee: 'root' })).status).toBe(401);
    expect(journal.of('a_kws1')).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('takes comments from staff and the customer on its own alert, as inert text, into the alert’s case log', async () => {
    const c1 = await call('POST', '/api/alerts/a_kws1/comments', 'agent', { text: '  called the ranger <b>Otieno</b>  ' });
    expect(c1).toMatchObject({ status: 201, body: { by: 'wanjiru', text: 'called the ranger <b>Otieno</b>' } });
    clock.advance(1000);
    expect((await call('POST', '/api/alerts/a_kws1/comments', 'kws', { text: 'collar was taken off' })).status).toBe(201);
    expect((await call('POST', '/api/alerts/a_kws1/comments', 'other', { text: 'hi' })).status).toBe(404);
    expect((await call('POST', '/api/alerts/a_kws1/comments', 'agent', { text: '  ' })).status).toBe(422);
    expect((await call('POST', '/api/alerts/a_kws1/comments', 'agent', { text: 'a\u0007b' })).status).toBe(422);
    expect((await call('POST', '/api/alerts/a_kws1/comments', 'agent', { text: 'x'.repeat(4001) })).status).toBe(422);
    const log = await call('GET', '/api/alerts/a_kws1/log', 'kws');
    expect(log.body.items.map((e: { kind: string; by?: string }) => [e.kind, e.by ?? null])).toEqual([
      ['fired', null],
      ['comment', 'wanjiru'],
      ['comment', 'kim'],
    ]);
    expect(log.body.items[1].text).toBe('called the ranger <b>Otieno</b>');
  });

  it('resolves by hand once, for staff only, naming who and why in the case log', async () => {
    expect((await call('POST', '/api/alerts/a_kws1/resolve', 'kws', {})).status).toBe(403);
    const r = await call('POST', '/api/alerts/a_kws1/resolve', 'agent', { reason: 'collar recovered in the field' });
    expect(r).toMatchObject({ status: 200, body: { state: 'resolved', status: 'resolved' } });
    expect((await call('POST', '/api/alerts/a_kws1/resolve', 'agent', {})).status).toBe(409);
    const log = (await call('GET', '/api/alerts/a_kws1/log', 'agent')).body.items;
    expect(log.at(-1)).toEqual({
      at: new Date(clock.now()).toISOString(),
      kind: 'resolved',
      by: 'wanjiru',
      text: 'collar recovered in the field',
    });
    expect(log.filter((e: { kind: string }) => e.kind === 'resolved')).toHaveLength(1);
  });
});

describe('an incident’s case log (GET /api/incidents/:id/log)', () => {
  it('lists its devices, who joined and came back, acks, comments and assignment in time order, by incident or alert id', async () => {
    journal.add({ alertId: INC(), customerId: 'kws', kind: 'joined', by: 'lastseen', text: null, deviceIds: ['c6'], at: AT + 5000 });
    journal.add({ alertId: INC(), customerId: 'kws', kind: 'back', by: 'lastseen', text: null, deviceIds: ['c3'], at: AT + 30_000 });
    await call('PATCH', `/api/alerts/${INC()}`, 'admin', { assignee: 'wanjiru' });
    await call('POST', `/api/alerts/${INC()}/ack`, 'agent', {});
    await call('POST', `/api/alerts/${INC()}/comments`, 'agent', { text: 'operator confirms cell 40021 is down' });
    const byIncident = await call('GET', '/api/incidents/i_cell/log', 'kws');
    expect(byIncident.status).toBe(200);
    expect(byIncident.body.incidentId).toBe('i_cell');
    expect(byIncident.body.items.map((e: { kind: string }) => e.kind)).toEqual(['fired', 'joined', 'back', 'assign', 'comment', 'ack']);
    expect(byIncident.body.items[0].deviceIds).toEqual(['c2', 'c3', 'c4', 'c5', 'c6']);
    expect(byIncident.body.items[3]).toMatchObject({ by: 'root', assignee: 'wanjiru' });
    expect(byIncident.body.items[5]).toMatchObject({ by: 'wanjiru' });
    expect((await call('GET', `/api/incidents/${INC()}/log`, 'agent')).body.items).toEqual(byIncident.body.items);
    expect((await call('GET', '/api/incidents/a_kws1/log', 'agent')).status).toBe(404);
  });
});
