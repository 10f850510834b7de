import { describe, expect, it } from 'vitest';
import { ChannelConfigError, validateChannels } from '../../../monitor/alerts/channels/validate.ts';

const err = (input: unknown, opts = {}) => {
  try {
    validateChannels(input, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ChannelConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ChannelConfigError');
};

describe('channel configuration', () => {
  it('accepts webhook, e-mail and MQTT channels and normalises them', () => {
    expect(
      validateChannels([
        { type: 'webhook', url: 'https://hooks.kws.example/lastseen', secret: 's3cret-value' },
        { type: 'email', to: ' ops@kws.example ,vet@kws.example' },
        { type: 'mqtt' },
      ]),
    ).toEqual([
      { type: 'webhook', url: 'https://hooks.kws.example/lastseen', secret: 's3cret-value' },
      { type: 'email', to: 'ops@kws.example, vet@kws.example' },
      { type: 'mqtt' },
    ]);
    expect(validateChannels(undefined)).toEqual([]);
  });

  it('rejects an invalid webhook URL with a sentence naming the channel and the problem', () => {
    expect(err([{ type: 'webhook', url: 'not a url', secret: 's3cret-value' }])).toBe(
      'channels[0]: webhook url "not a url" is not a valid URL.',
    );
    expect(err([{ type: 'mqtt' }, { type: 'webhook', url: 'ftp://x.example/', secret: 's3cret-value' }])).toBe(
      'channels[1]: webhook url must start with http:// or https://, not ftp://.',
    );
    expect(err([{ type: 'webhook', url: 'https://x.example/' }])).toMatch(/needs a secret/);
  });

  it('rejects bad e-mail addresses, unknown types and e-mail without SMTP', () => {
    expect(err([{ type: 'email', to: 'ops@kws.example, nobody' }])).toBe('channels[0]: "nobody" is not an e-mail address.');
    expect(err([{ type: 'sms', to: '+254' }])).toBe('channels[0]: unknown channel type "sms"; use webhook, email or mqtt.');
    expect(err([{ type: 'email', to: 'ops@kws.example' }], { emailEnabled: false })).toMatch(/LASTSEEN_SMTP_URL/);
    expect(err({ type: 'mqtt' })).toBe('channels must be a list of channel objects.');
  });
});
