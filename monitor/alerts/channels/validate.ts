import type { ChannelConfig } from '../../types.ts';

export class ChannelConfigError extends Error {}

const EMAIL = /^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/;

/**
 * Check a customer's `channels` (docs/contract.md §6) when they are configured, so a typo is a 400 with
 * a clear sentence now instead of a silent failure at 3 a.m. Returns the normalised list.
 * `emailEnabled: false` (no LASTSEEN_SMTP_URL) refuses e-mail channels.
 */
export function validateChannels(input: unknown, opts: { emailEnabled?: boolean } = {}): ChannelConfig[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new ChannelConfigError('channels must be a list of channel objects.');
  return input.map((c, i) => {
    const v = validateChannel(c, i, opts);
    const esc = (c as { escalation?: unknown }).escalation;
    if (esc !== undefined && typeof esc !== 'boolean') throw new ChannelConfigError(`channels[${i}]: escalation must be true or false.`);
    return esc ? { ...v, escalation: true } : v;
  });
}

function validateChannel(c: unknown, i: number, opts: { emailEnabled?: boolean }): ChannelConfig {
  const at = `channels[${i}]`;
  if (typeof c !== 'object' || c === null) throw new ChannelConfigError(`${at} must be an object with a type.`);
  const o = c as Record<string, unknown>;
  switch (o.type) {
    case 'webhook': {
      if (typeof o.url !== 'string' || o.url === '') throw new ChannelConfigError(`${at}: a webhook needs a url.`);
      let url: URL;
      try {
        url = new URL(o.url);
      } catch {
        throw new ChannelConfigError(`${at}: webhook url "${o.url}" is not a valid URL.`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new ChannelConfigError(`${at}: webhook url must start with http:// or https://, not ${url.protocol}//.`);
      }
      if (typeof o.secret !== 'string' || o.secret.length < 8) {
        throw new ChannelConfigError(`${at}: a webhook needs a secret of at least 8 characters to sign its requests.`);
      }
      return { type: 'webhook', url: url.toString(), secret: o.secret };
    }
    case 'email': {
      if (opts.emailEnabled === false) throw new ChannelConfigError(`${at}: e-mail alerts need LASTSEEN_SMTP_URL to be set on the server.`);
      const to =
        typeof o.to === 'string'
          ? o.to
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : [];
      if (to.length === 0) throw new ChannelConfigError(`${at}: an e-mail channel needs "to", one or more addresses separated by commas.`);
      const bad = to.find((a) => !EMAIL.test(a));
      if (bad) throw new ChannelConfigError(`${at}: "${bad}" is not an e-mail address.`);
      return { type: 'email', to: to.join(', ') };
    }
    case 'mqtt':
      return { type: 'mqtt' };
    default:
      throw new ChannelConfigError(`${at}: unknown channel type ${JSON.stringify(o.type)}; use webhook, email or mqtt.`);
  }
}

/** A stable name for one configured channel, used to dedupe queued deliveries. */
export function channelKey(c: ChannelConfig): string {
  return c.type === 'webhook' ? `webhook:${c.url}` : c.type === 'email' ? `email:${c.to}` : 'mqtt';
}
