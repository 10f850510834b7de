import nodemailer from 'nodemailer';
import type { AlertEvent, CustomerInfo } from '../types.ts';
import type { Channel } from './channel.ts';
import { oneLine } from '../../security/plain-text.ts';

export type MailTransport = ReturnType<typeof nodemailer.createTransport>;

/** One SMTP transport for all customers, from `LASTSEEN_SMTP_URL` (e.g. `smtp://user:pass@host:25`). */
export function smtpTransport(url: string): MailTransport {
  return nodemailer.createTransport(url);
}

/**
 * E-mail the rendered alert: subject and plain-text body from the core, one mail per alert per
 * address list. An SMTP rejection rejects `send`, and the outbox retries.
 */
export class EmailChannel implements Channel {
  constructor(
    private config: { to: string },
    private transport: MailTransport,
    private from = 'lastseen alerts <alerts@lastseen.invalid>',
  ) {}

  async send(alert: AlertEvent, _customer: CustomerInfo): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: this.config.to,
      // A subject is one header line whatever the rendering produced.
      subject: oneLine(alert.subject),
      text: alert.body,
      headers: { 'X-Lastseen-Alert-Id': alert.id, 'X-Lastseen-Event': alert.type },
    });
  }
}
