import type { AlertJournal, JournalEntry } from './journal.ts';
import type { AlertStore } from './store.ts';

/**
 * What a person does to an alert at the desk (web/routes/alerts.ts), once the route's role and
 * tenant checks allowed it: who (`by`) and when (`at`, the clock of the process that took it)
 * travel with it, so every copy of it records the same.
 *
 *   kind     text                              what it changes
 *   -------  --------------------------------  ---------------------------------------------
 *   ack      —                                 the alert row's acknowledgement
 *   resolve  an optional reason                the row resolved; a `resolve` journal entry
 *   assign   the assignee's username, or null  an `assign` journal entry
 *   comment  the comment                       a `comment` journal entry
 *
 * And one the desk does not take but a cluster records the same way (by `escalation`, when one
 * worker's claim decided it, monitor/cluster/shared-escalations.ts):
 *
 *   escalation  the second-line channels, or null  an `escalation` journal entry
 */
export type DeskAction =
  | { kind: 'ack'; alertId: string; customerId: string; by: string; at: number }
  | { kind: 'resolve' | 'assign' | 'escalation'; alertId: string; customerId: string; by: string; text: string | null; at: number }
  | { kind: 'comment'; alertId: string; customerId: string; by: string; text: string; at: number };

/**
 * Where the desk's writes go: this process's alerts.db (`LocalDesk`), or in a cluster the
 * shared stream every worker's alerts.db replicates (monitor/cluster/shared-desk.ts).
 * Resolves once the action is stored in this process's alerts.db, so the caller reads its own
 * write; with the journal entry it wrote (null for an ack). Rejects with SharedWriteRefused
 * (./shared-write-refused.ts) when the cluster's Redis did not take it.
 */
export interface DeskWrites {
  write(a: DeskAction): JournalEntry | null | Promise<JournalEntry | null>;
}

/** One process alone: straight into its alerts.db, as the desk always wrote. */
export class LocalDesk implements DeskWrites {
  constructor(
    private store: AlertStore,
    private journal: AlertJournal | undefined,
  ) {}

  write(a: DeskAction): JournalEntry | null {
    if (a.kind === 'ack') {
      this.store.ack(a.alertId, a.by, a.at);
      return null;
    }
    const journal = this.journal;
    if (!journal) throw new Error('this alerts store keeps no journal');
    const entry = { alertId: a.alertId, customerId: a.customerId, kind: a.kind, by: a.by, text: a.text, at: a.at };
    if (a.kind !== 'resolve') return journal.add(entry);
    return this.store.db.transaction(() => {
      this.store.resolve(a.alertId, a.at);
      return journal.add(entry);
    })();
  }
}
