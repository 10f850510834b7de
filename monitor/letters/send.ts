import type { MailTransport } from '../alerts/channels/email.ts';
import { oneLine } from '../security/plain-text.ts';
import type { LetterStore, StoredLetter } from './store.ts';

/**
 * Hands a stored letter to the SMTP server (the alert e-mail channel's nodemailer transport,
 * from LASTSEEN_SMTP_URL) and records what became of it. Never throws for an SMTP failure:
 * the letter comes back `failed` with the server's answer, kept for a retry.
 *
 *   transport   SMTP answer           letter
 *   ----------  --------------------  ---------------------------------------------
 *   none        –                     failed: "no mail server is configured (…)"
 *   present     250 for the message   sent, sentAt = now
 *   present     4xx/5xx, no answer    failed: the server's words (or the socket error)
 */
export class LetterSender {
  /** Letters whose SMTP dialogue is under way: a repeated POST waits for the same outcome (./duplicate.ts). */
  private sending = new Map<string, Promise<StoredLetter>>();

  constructor(
    readonly store: LetterStore,
    private transport: MailTransport | null,
    private from: string,
    private now: () => number,
    /**
     * Each outcome as recorded, for a cluster's other workers (monitor/cluster/shared-desk.ts
     * shareLetter); awaited, and it handles its own failures: the letter is sent and kept here
     * whatever becomes of its copy.
     */
    private shared?: (l: StoredLetter) => Promise<void>,
  ) {}

  send(letter: StoredLetter): Promise<StoredLetter> {
    const running = this.sending.get(letter.id);
    if (running) return running;
    const p = this.attempt(letter)
      .then(async (l) => {
        await this.shared?.(l);
        return l;
      })
      .finally(() => this.sending.delete(letter.id));
    this.sending.set(letter.id, p);
    return p;
  }

  /** Whether this letter is being handed to the SMTP server right now. */
  inFlight(id: string): boolean {
    return this.sending.has(id);
  }

  /** The outcome of a letter in flight, or undefined when none is under way. */
  outcome(id: string): Promise<StoredLetter> | undefined {
    return this.sending.get(id);
  }

  private async attempt(letter: StoredLetter): Promise<StoredLetter> {
    if (!this.transport) {
      return this.store.record(letter.id, { result: 'failed', error: 'No mail server is configured: set LASTSEEN_SMTP_URL, then retry.' });
    }
    try {
      await this.transport.sendMail({
        from: this.from,
        to: letter.to,
        subject: oneLine(letter.subject),
        text: letter.body,
        // Which device or incident it is about, for the support team's own mail rules; never an empty header.
        headers: {
          'X-Lastseen-Letter-Id': letter.id,
          ...(letter.deviceId !== null ? { 'X-Lastseen-Device-Id': letter.deviceId } : {}),
          ...(letter.incidentId !== null ? { 'X-Lastseen-Incident-Id': letter.incidentId } : {}),
        },
      });
      return this.store.record(letter.id, { result: 'sent', at: this.now() });
    } catch (err) {
      const e = err as { response?: string; message?: string };
      return this.store.record(letter.id, { result: 'failed', error: oneLine(e.response ?? e.message ?? String(err)).slice(0, 500) });
    }
  }

  close(): void {
    this.transport?.close();
  }
}
