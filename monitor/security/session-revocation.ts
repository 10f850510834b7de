import type { CredentialChange } from '../registry/credential-changes.ts';

/**
 * What an open session was opened with, remembered by the broker (MQTT) and the socket.io layer
 * at login. A device session has `deviceId` (and its customer); an MQTT `customer:{id}` session
 * and a socket.io connection have the `keyId` of the API key they presented, and the customer
 * that key belongs to (none for admin and agent keys); a socket.io connection of a person signed
 * in with a session cookie has their `userId` and the `sessionId` instead of a key.
 */
export interface SessionCredential {
  deviceId?: string;
  keyId?: string;
  customerId?: string;
  userId?: string;
  sessionId?: string;
}

/**
 * Whether a credential change ends an open session: pure, so the broker and socket.io decide
 * alike.
 *
 *   change                  ends the session when
 *   ----------------------  --------------------------------------------------------------
 *   key_revoked K           it was opened with key K (another key of the customer: kept)
 *   device_token_changed D  it is device D's (rotated or revoked token)
 *   sim_blocked D           it is device D's (SIM deactivated or retired)
 *   customer_deleted C      it belongs to customer C, whatever credential opened it
 *   user_removed U          it was opened by person U (any of their sign-in sessions)
 *   session_ended S         it was opened with sign-in session S (signed out, expired)
 */
export function endsSession(change: CredentialChange, session: SessionCredential): boolean {
  switch (change.kind) {
    case 'key_revoked':
      return session.keyId !== undefined && session.keyId === change.keyId;
    case 'device_token_changed':
    case 'sim_blocked':
      return session.deviceId !== undefined && session.deviceId === change.deviceId;
    case 'customer_deleted':
      return session.customerId !== undefined && session.customerId === change.customerId;
    case 'user_removed':
      return session.userId !== undefined && session.userId === change.userId;
    case 'session_ended':
      return session.sessionId !== undefined && session.sessionId === change.sessionId;
  }
}
