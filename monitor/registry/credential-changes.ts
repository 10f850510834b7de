/**
 * A credential stopped being valid. The registry announces each one as it commits it, whoever
 * made the change (REST, bulk tools, a future admin UI), so the broker and the socket.io layer
 * can close every session that was opened with it (../security/session-revocation.ts decides which).
 */
export type CredentialChange =
  /** An API key was revoked (rotation of a key is a new key, then this). */
  | { kind: 'key_revoked'; keyId: string }
  /** A device token was rotated or revoked: sessions opened with the old one must end. */
  | { kind: 'device_token_changed'; deviceId: string }
  /** A device's SIM was deactivated or retired: it may not stay connected. */
  | { kind: 'sim_blocked'; deviceId: string }
  /** A customer was deleted (its keys are revoked, each announced on its own, before this). */
  | { kind: 'customer_deleted'; customerId: string }
  /** A person was deleted: every session they signed in to must end. */
  | { kind: 'user_removed'; userId: string }
  /** One sign-in session ended (signed out, expired): sockets opened with it must close. */
  | { kind: 'session_ended'; sessionId: string };

export type CredentialListener = (change: CredentialChange) => void;

/** The registry's announcements: a listener set. */
export class CredentialChanges {
  private listeners = new Set<CredentialListener>();
  private muted = 0;

  /**
   * Run `fn` with announcements dropped: a PostgreSQL write is first planned on the replica and
   * undone (./postgres/pg-registry.ts); what it ends is announced from its rows once committed.
   */
  muteWhile<T>(fn: () => T): T {
    this.muted++;
    try {
      return fn();
    } finally {
      this.muted--;
    }
  }

  /** Listen; returns the function that stops listening. */
  on(listener: CredentialListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Tell every listener. One that throws does not keep the others from closing their sessions;
   * its error is thrown afterwards, so the caller (a REST request) answers 500 and logs it rather
   * than reporting success while a session may still be open.
   */
  emit(change: CredentialChange): void {
    if (this.muted > 0) return;
    const errors: unknown[] = [];
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} listeners failed on ${change.kind}`);
  }
}
