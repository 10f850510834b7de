import { describe, expect, it } from 'vitest';
import { REPEAT_WINDOW_MS, repeatedLetter, sameContent } from '../../../monitor/letters/duplicate.ts';
import type { StoredLetter } from '../../../monitor/letters/store.ts';

const NOW = Date.UTC(2026, 0, 5, 12);
const letter = (over: Partial<StoredLetter>): StoredLetter => ({
  id: 'l_1',
  deviceId: 'giraffe-7',
  incidentId: null,
  customerId: 'kwt',
  at: new Date(NOW - 60_000).toISOString(),
  sender: { role: 'agent', keyId: 'k', name: 'agent:k' },
  to: ['anna@kwt.example'],
  subject: 'Twiga',
  body: 'Hallo',
  language: 'de',
  result: 'sent',
  error: null,
  attempts: 1,
  sentAt: new Date(NOW - 60_000).toISOString(),
  ...over,
});
const same = { to: ['Anna@KWT.example'], subject: 'Twiga', body: 'Hallo' };
const never = () => false;

describe('repeatedLetter follows its table', () => {
  it('no earlier letter with the same content: none', () => {
    expect(repeatedLetter([], same, NOW, never)).toBeNull();
    expect(repeatedLetter([letter({ body: 'Hallo!' })], same, NOW, never)).toBeNull();
    expect(repeatedLetter([letter({ to: ['jo@kwt.example'] })], same, NOW, never)).toBeNull();
  });
  it('sent within the window: that one; longer ago: none', () => {
    expect(repeatedLetter([letter({})], same, NOW, never)?.id).toBe('l_1');
    expect(repeatedLetter([letter({ sentAt: new Date(NOW - REPEAT_WINDOW_MS).toISOString() })], same, NOW, never)).toBeNull();
  });
  it('in flight: that one; failed and not in flight: none', () => {
    const pending = letter({ result: 'failed', error: 'not sent yet', attempts: 0, sentAt: null });
    expect(repeatedLetter([pending], same, NOW, () => true)?.id).toBe('l_1');
    expect(repeatedLetter([pending], same, NOW, never)).toBeNull();
  });
  it('compares addresses as a set, in any case', () => {
    expect(sameContent({ ...same, to: ['b@x.example', 'A@x.example'] }, { ...same, to: ['a@x.example', 'b@x.example'] })).toBe(true);
  });
});
