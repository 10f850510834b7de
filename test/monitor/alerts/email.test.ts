import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { EmailChannel, smtpTransport } from '../../../monitor/alerts/channels/email.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { Outbox } from '../../../monitor/alerts/outbox.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { CustomerInfo } from '../../../monitor/alerts/types.ts';
import { device, tempFile } from './harness.ts';

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** Start the SMTP server script in a child `node` process; resolves once it listens. */
async function startSmtp(env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(new URL('./smtp-child.mjs', import.meta.url))], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const mails: Mail[] = [];
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`smtp child exited with ${code}`)));
    lines.on('line', (l) => {
      const msg = JSON.parse(l);
      if (msg.port) resolve(msg.port);
      else mails.push(msg);
    });
  });
  return {
    port,
    mails,
    stop: () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM')))),
  };
}

/** Decode a quoted-printable body as nodemailer writes it. */
function decodeQp(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const customer: CustomerInfo = {
  id: 'kws',
  name: 'Kenya Wildlife',
  language: 'en',
  channels: [{ type: 'email', to: 'ops@kws.example, vet@kws.example' }],
};
const alert = () =>
  render(
    {
      id: 'a_mail',
      type: 'device.offline',
      at: T0,
      customerId: 'kws',
      customerName: 'Kenya Wildlife',
      device: device('kito', 'kws', { name: 'Kito', battery: 12, rssi: -97 }),
      lastSeen: T0 - 7_800_000 + 300_000,
      cause: 'unknown',
    },
    'en',
    T0 + 300_000,
  );

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('e-mail channel', () => {
  it('sends a mail whose subject and body say which device, since when, where and what to do', async () => {
    const smtp = await startSmtp();
    cleanups.push(smtp.stop);
    const transport = smtpTransport(`smtp://127.0.0.1:${smtp.port}`);
    cleanups.push(() => transport.close());
    await new EmailChannel({ to: 'ops@kws.example, vet@kws.example' }, transport, 'lastseen <alerts@lastseen.example>').send(
      alert(),
      customer,
    );
    await expect.poll(() => smtp.mails.length).toBe(1);
    const mail = smtp.mails[0];
    expect(mail.to).toEqual(['ops@kws.example', 'vet@kws.example']);
    expect(mail.raw).toMatch(/^Subject: Offline: Kito \(kito\) silent for 2 h 10 min\r?$/m);
    expect(mail.raw).toMatch(/^X-Lastseen-Alert-Id: a_mail\r?$/im);
    const body = decodeQp(
      mail.raw
        .split(/\r?\n\r?\n/)
        .slice(1)
        .join('\n\n'),
    );
    expect(body).toContain('Kito (kito, ICCID 8944500102198304826) has been silent since 2026-01-01 09:55 UTC (for 2 h 10 min)');
    expect(body).toContain(
      'Last position: -1.29210, 36.82190 (2026-01-01 00:00 UTC) https://www.openstreetmap.org/?mlat=-1.29210&mlon=36.82190',
    );
    expect(body).toContain('Battery: 12 %');
    expect(body).toContain('Signal: -97 dBm');
    expect(body).toContain('Probable cause: not yet known');
    expect(body).toContain('Next step: If it does not report again soon, check its power and coverage at the last known position.');
  });

  it('keeps the alert queued and counts a failure when the SMTP server rejects it', async () => {
    const smtp = await startSmtp({ SMTP_REJECT: '1' });
    cleanups.push(smtp.stop);
    const transport = smtpTransport(`smtp://127.0.0.1:${smtp.port}`);
    cleanups.push(() => transport.close());
    const t = tempFile();
    cleanups.push(t.cleanup);
    const store = new AlertStore(t.file);
    cleanups.push(() => store.close());
    const registry = new Registry();
    const outbox = new Outbox({
      db: store.db,
      clock: new ManualClock(T0),
      log: silentLogger,
      registry,
      channelFor: (c) => (c.type === 'email' ? new EmailChannel(c, transport) : null),
    });
    outbox.enqueue(alert(), customer);
    await outbox.runDue();
    expect(outbox.depth()).toBe(1);
    expect(await registry.getSingleMetricAsString('lastseen_alert_deliveries_total')).toContain(
      'lastseen_alert_deliveries_total{channel="email",result="failed"} 1',
    );
  });
});
