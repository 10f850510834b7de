import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe } from '../../broker/acl.ts';
import { presenceMessage, presenceReason } from '../../broker/presence.ts';
import { presenceConnection, subscriptionsFor } from '../../monitor/attach/topics.ts';

describe('presence events (EMQX-shaped) from lastseen broker to the monitor', () => {
  const at = Date.UTC(2026, 11, 4, 12, 0, 0);

  it('a connected event round-trips into the device connecting, at the event time', () => {
    const m = presenceMessage('lastseen@h', {
      kind: 'connected',
      clientId: 'giraffe-7',
      username: 'giraffe-7',
      at,
      ipaddress: '10.0.0.1',
      keepalive: 60,
      cleanStart: true,
    });
    expect(m.topic).toBe('$SYS/brokers/lastseen@h/clients/giraffe-7/connected');
    expect(JSON.parse(m.payload)).toMatchObject({ clientid: 'giraffe-7', username: 'giraffe-7', connected_at: at, ts: at, keepalive: 60 });
    expect(presenceConnection(m.topic, Buffer.from(m.payload), at + 5000)).toEqual({ deviceId: 'giraffe-7', connection: 'connected', at });
  });

  it('reasons: normal is a clean goodbye, anything else a lost connection', () => {
    expect(presenceReason(true, undefined)).toBe('normal');
    expect(presenceReason(false, 'keepalive timeout')).toBe('keepalive_timeout');
    expect(presenceReason(false, 'credentials revoked')).toBe('kicked');
    expect(presenceReason(false, undefined)).toBe('tcp_closed');
    for (const [reason, connection] of [
      ['normal', 'disconnected'],
      ['kicked', 'lost'],
      ['keepalive_timeout', 'lost'],
    ] as const) {
      const m = presenceMessage('n', { kind: 'disconnected', clientId: 'a', username: 'a', at, ipaddress: 'x', reason });
      expect(presenceConnection(m.topic, Buffer.from(m.payload), at)).toMatchObject({ deviceId: 'a', connection });
    }
  });

  it("a session with a suffixed client id is announced under its device's id (one topic level)", () => {
    const m = presenceMessage('n', { kind: 'disconnected', clientId: 'a/b', username: 'a', at, ipaddress: 'x', reason: 'normal' });
    expect(m.topic).toBe('$SYS/brokers/n/clients/a/disconnected');
    expect(JSON.parse(m.payload).clientid).toBe('a/b');
  });

  it('refuses what is not such an event, and does not believe a time in the future', () => {
    const topic = '$SYS/brokers/n/clients/a/connected';
    expect(presenceConnection(topic, Buffer.from('not json'), at)).toBeNull();
    expect(presenceConnection(topic, Buffer.from('{"clientid":"a"}'), at)).toBeNull();
    expect(presenceConnection('$SYS/brokers/n/clients/a/subscribed', Buffer.from('{"username":"a"}'), at)).toBeNull();
    expect(presenceConnection('$SYS/brokers/n/uptime', Buffer.from('{"username":"a"}'), at)).toBeNull();
    expect(presenceConnection(topic, Buffer.from(JSON.stringify({ username: 'a', ts: at + 60_000 })), at)?.at).toBe(at);
  });

  it('the monitor identity may subscribe only to its own filters and publish only alerts', () => {
    const monitor = { kind: 'monitor' } as const;
    for (const f of subscriptionsFor(4).required.concat(subscriptionsFor(4).optional)) expect(maySubscribe(monitor, f), f).toBe(true);
    expect(maySubscribe(monitor, '#')).toBe(false);
    expect(maySubscribe(monitor, '$SYS/#')).toBe(false);
    expect(maySubscribe(monitor, 'alerts/#')).toBe(false);
    expect(mayPublish(monitor, 'alerts/kwt/giraffe-7')).toBe(true);
    expect(mayPublish(monitor, 'devices/giraffe-7/heartbeat')).toBe(false);
    expect(mayPublish(monitor, '$SYS/brokers/n/clients/a/connected')).toBe(false);
    // Devices and customers still may not touch $SYS.
    expect(maySubscribe({ kind: 'device', deviceId: 'a', customerId: 'c' }, '$SYS/brokers/+/clients/+/connected')).toBe(false);
  });

  it('MQTT 5 subscriptions are shared, 3.1.1 ones plain', () => {
    expect(subscriptionsFor(5).required.every((f) => f.startsWith('$share/lastseen/'))).toBe(true);
    expect(subscriptionsFor(4).required).toEqual(['devices/+/heartbeat', 'devices/+/status']);
  });
});
