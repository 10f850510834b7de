import { describe, expect, it } from 'vitest';
import { parsePushEvent } from '../../../monitor/simplatform/push-event.ts';
import { checkPushSignature, pushSignature } from '../../../monitor/simplatform/push-signature.ts';
import { simStateOf } from '../../../monitor/simplatform/sim-status.ts';

const SECRET = 'control-center-shared-secret';
const now = Date.parse('2026-12-04T12:00:00.000Z');
const signed = (timestamp: string, secret = SECRET) => ({ timestamp, signature: pushSignature(timestamp, secret).toString() });

describe('the Push API signature: Base64(HMAC-SHA1(secret, timestamp)) within 5 minutes', () => {
  it.each([
    ['signed now', signed('2026-12-04T12:00:00.000Z'), 'ok'],
    ['signed 4 min ago', signed('2026-12-04T11:56:00.000Z'), 'ok'],
    ['signed 6 min ago', signed('2026-12-04T11:54:00.000Z'), 'stale'],
    ['signed 6 min ahead', signed('2026-12-04T12:06:00.000Z'), 'stale'],
    ['signed but not a date', signed('yesterday'), 'stale'],
    ['another secret', signed('2026-12-04T12:00:00.000Z', 'another-secret-of-16'), 'bad_signature'],
    ['no signature', { timestamp: '2026-12-04T12:00:00.000Z' }, 'bad_signature'],
    ['no timestamp', { signature: 'x' }, 'bad_signature'],
    ['a signature of another length', { timestamp: '2026-12-04T12:00:00.000Z', signature: 'abc' }, 'bad_signature'],
  ])('%s → %s', (_name, fields, expected) => {
    expect(checkPushSignature(fields, SECRET, now)).toBe(expected);
  });

  it('is the known HMAC-SHA1 value (RFC 2202 test case 2: key "Jefe")', () => {
    // HMAC-SHA1("Jefe", "what do ya want for nothing?") = effcdf6ae5eb2fa2d27416d5f184df9c259a7c79
    expect(Buffer.from(pushSignature('what do ya want for nothing?', 'Jefe').toString(), 'base64').toString('hex')).toBe(
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    );
  });
});

const stateChange = (inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><SimStateChange xmlns="http://api.jasperwireless.com/ws/schema">${inner}</SimStateChange>`;

describe('reading a pushed event', () => {
  it('reads a SIM state change, keeping the ICCID as text', () => {
    const e = parsePushEvent({
      eventId: 'SIM_STATE_CHANGE-1',
      eventType: 'SIM_STATE_CHANGE',
      timestamp: '2026-12-04T12:00:00.000Z',
      data: stateChange(
        '<iccid>89460000000000000017</iccid><previousState>Activated</previousState><currentState>Deactivated</currentState><dateChanged>2026-12-04T11:59:58.000Z</dateChanged>',
      ),
    });
    expect(e).toEqual({
      kind: 'sim_state',
      id: 'SIM_STATE_CHANGE-1',
      iccid: '89460000000000000017',
      status: 'Deactivated',
      at: Date.parse('2026-12-04T11:59:58.000Z'),
    });
  });

  it('reads session start and stop, the timestamp standing in for a missing date', () => {
    expect(
      parsePushEvent({
        eventId: 's1',
        eventType: 'SESSION_START',
        timestamp: '2026-12-04T12:00:00.000Z',
        data: '<Session><iccid>8946</iccid><ipAddress>10.1.2.3</ipAddress></Session>',
      }),
    ).toEqual({ kind: 'session_start', id: 's1', iccid: '8946', at: now, ip: '10.1.2.3' });
    expect(
      parsePushEvent({
        eventId: 's2',
        eventType: 'SESSION_STOP',
        timestamp: 'x',
        data: '<Session><iccid>8946</iccid><dateSessionEnded>2026-12-04T12:00:00Z</dateSessionEnded></Session>',
      }),
    ).toEqual({ kind: 'session_stop', id: 's2', iccid: '8946', at: now });
  });

  it('passes other event types on without reading their data', () => {
    expect(parsePushEvent({ eventId: 'u1', eventType: 'CTD_USAGE', data: '<not xml' })).toEqual({
      kind: 'other',
      id: 'u1',
      eventType: 'CTD_USAGE',
    });
  });

  it.each([
    [{ eventType: 'SIM_STATE_CHANGE', data: '<a/>' }, 'eventId is missing.'],
    [{ eventId: '1', data: '<a/>' }, 'eventType is missing.'],
    [{ eventId: '1', eventType: 'SIM_STATE_CHANGE' }, 'data is missing'],
    [{ eventId: '1', eventType: 'SIM_STATE_CHANGE', data: '<SimStateChange><iccid>1</iccid>' }, 'not well-formed XML'],
    [{ eventId: '1', eventType: 'SIM_STATE_CHANGE', data: stateChange('<currentState>Activated</currentState>') }, 'no iccid'],
    [{ eventId: '1', eventType: 'SIM_STATE_CHANGE', data: stateChange('<iccid>1</iccid>') }, 'no currentState'],
    [
      {
        eventId: '1',
        eventType: 'SIM_STATE_CHANGE',
        data: stateChange('<iccid>1</iccid><currentState>A</currentState><dateChanged>soon</dateChanged>'),
      },
      'dateChanged is not a date',
    ],
  ])('refuses %j with a reason', (fields, reason) => {
    const e = parsePushEvent(fields);
    expect(e).toMatchObject({ reason: 'malformed' });
    expect((e as { message: string }).message).toContain(reason);
  });

  it('does not expand entities declared in the document (no billion laughs)', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><SimStateChange><iccid>&b;</iccid><currentState>Activated</currentState></SimStateChange>`;
    const e = parsePushEvent({ eventId: '1', eventType: 'SIM_STATE_CHANGE', timestamp: '2026-12-04T12:00:00Z', data: bomb });
    expect(e).toMatchObject({ kind: 'sim_state', iccid: '&b;' });
  });
});

describe('platform status names', () => {
  it.each([
    ['ACTIVATED', 'activated'],
    ['Activated', 'activated'],
    ['ACTIVATED_NAME', 'activated'],
    ['Activation Ready', 'activation_ready'],
    ['INVENTORY', 'activation_ready'],
    ['TEST_READY_NAME', 'test'],
    ['Deactivated', 'deactivated'],
    ['SUSPENDED', 'deactivated'],
    ['Retired', 'retired'],
    ['PURGED', 'retired'],
    ['SOMETHING_NEW', null],
  ])('%s → %s', (status, state) => {
    expect(simStateOf(status)).toBe(state);
  });
});
