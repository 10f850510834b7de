import { describe, expect, it } from 'vitest';
import { IncidentBook } from '../../../monitor/alerts/incident-book.ts';
import type { IncidentRecord } from '../../../monitor/alerts/store.ts';

const incident = (members: string[]): IncidentRecord => ({
  id: 'i1',
  customerId: 'zoo',
  scope: 'cell',
  key: '228-01-1234',
  openedAt: 0,
  members: Object.fromEntries(members.map((m) => [m, false])),
  resolvedAt: null,
});

describe('IncidentBook', () => {
  it('counts members back one by one and forgets a resolved incident', () => {
    const book = new IncidentBook();
    const inc = incident(['a', 'b', 'c']);
    book.add(inc);
    expect(book.memberBack(inc, 'a')).toEqual({ members: 3, back: 1 });
    expect(book.memberBack(inc, 'a')).toEqual({ members: 3, back: 1 });
    expect(book.memberBack(inc, 'b')).toEqual({ members: 3, back: 2 });
    book.resolve(inc, 10);
    expect(book.get('i1')).toBeUndefined();
    expect(book.openIncidents()).toEqual([]);
    expect(book.takeChanged().map((i) => i.resolvedAt)).toEqual([10]);
    expect(book.takeChanged()).toEqual([]);
  });

  it('counts a member that was back and goes offline again as not back, so the incident does not end early', () => {
    const book = new IncidentBook();
    const inc = incident(['a', 'b']);
    book.add(inc);
    book.memberBack(inc, 'a');
    book.join('i1', ['a', 'n']);
    expect(book.memberBack(inc, 'b')).toEqual({ members: 3, back: 1 });
  });

  it('restores the tally of persisted incidents', () => {
    const book = new IncidentBook();
    const inc = { ...incident(['a', 'b', 'c']), members: { a: true, b: false, c: false } };
    book.load([inc]);
    expect(book.memberBack(inc, 'c')).toEqual({ members: 3, back: 2 });
  });
});
