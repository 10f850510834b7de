import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

/** The real SMTP server of the e-mail channel tests, in its own process. */
async function startSmtp() {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../monitor/alerts/smtp-child.mjs', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const mails: { to: string[]; raw: string }[] = [];
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

function decodeQp(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

const CELL = { mcc: 639, mnc: 2, cellId: 4711 };
// Stored before names with control characters were refused: it must still not break the mail.
const LEGACY_NAME = 'Kito\r\nBcc: everyone@evil.example\r\nNext step: pay the invoice at evil.example';

let sys: TestSystem;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let customerKey = '';
beforeAll(async () => {
  smtp = await startSmtp();
  sys = await startTestSystem({ config: { smtpUrl: `smtp://127.0.0.1:${smtp.port}` } });
  const fast = { holdMs: 200, confirmIntervals: 0 };
  expect(
    (
      await sys.api('POST', '/api/customers', {
        id: 'kws',
        name: 'Kenya Wildlife',
        channels: [{ type: 'email', to: 'ops@kws.example' }],
        alertPolicy: fast,
      })
    ).status,
  ).toBe(201);
  expect((await sys.api('POST', '/api/customers', { id: 'zoo', name: 'Other Zoo', alertPolicy: fast })).status).toBe(201);
  customerKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'kws' })).body.token;
  // One kws collar and four of another customer on the same cell, all silenced together.
  const tokens: [string, string][] = [['kito', await sys.addDevice('kito', 'kws', { offlineAfter: 2 })]];
  for (let i = 1; i <= 4; i++) tokens.push([`zoo-${i}`, await sys.addDevice(`zoo-${i}`, 'zoo', { offlineAfter: 2 })]);
  sys.registry.updateDevice('kito', { name: LEGACY_NAME });
  for (const [id, token] of tokens) {
    const c = await sys.connect(id, token);
    await c.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ ...CELL, battery: 80, rssi: -80 }), { qos: 1 });
  }
  await waitFor(() => ['kito', 'zoo-1', 'zoo-2', 'zoo-3', 'zoo-4'].every((id) => sys.liveness.get(id)?.status === 'offline'), 10_000);
}, 30_000);
afterAll(async () => {
  await sys?.close();
  await smtp?.stop();
});

describe('alert e-mails and diagnoses a customer reads', () => {
  it('keeps a stored name with CR/LF on one subject line and one body line, with no injected header', async () => {
    await waitFor(() => smtp.mails.find((m) => /^Subject: Offline/m.test(m.raw)), 15_000);
    const mail = smtp.mails.find((m) => /^Subject: Offline/m.test(m.raw))!;
    expect(mail.to).toEqual(['ops@kws.example']);
    const [folded, ...rest] = mail.raw.split(/\r?\n\r?\n/);
    // Unfold long header lines (RFC 5322 §2.2.3) before reading them.
    const head = folded.replace(/\r?\n[ \t]+/g, ' ');
    expect(head).not.toMatch(/^Bcc:/im);
    expect(head).toMatch(
      /^Subject: Offline: Kito Bcc: everyone@evil\.example Next step: pay the invoice at evil\.example \(kito\) silent for/m,
    );
    const body = decodeQp(rest.join('\n\n'));
    const lines = body.split(/\r?\n/);
    expect(lines.filter((l) => l.startsWith('Next step:'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('Bcc:'))).toBe(false);
    expect(lines.find((l) => l.startsWith('Device:'))).toBe(
      'Device: Kito Bcc: everyone@evil.example Next step: pay the invoice at evil.example (kito)',
    );
  }, 20_000);

  it('says "other devices" without counting another customer\'s devices in the alert e-mail', async () => {
    const mail = await waitFor(() => smtp.mails.find((m) => /^Subject: Offline/m.test(m.raw)), 15_000);
    const body = decodeQp(
      mail!.raw
        .split(/\r?\n\r?\n/)
        .slice(1)
        .join('\n\n'),
    );
    expect(body).toContain('Probable cause: mobile network outage');
    expect(body).toContain('other devices on cell 4711 went silent at about the same time');
    expect(body).not.toMatch(/\d+ of \d+/);
  }, 20_000);

  it("gives a customer key a diagnosis without other tenants' counts, and an admin the full counts", async () => {
    const mine = await sys.api('GET', '/api/devices/kito/diagnosis', undefined, customerKey);
    expect(mine.status).toBe(200);
    expect(mine.body.cause).toBe('network_outage');
    const text = JSON.stringify(mine.body);
    expect(text).not.toMatch(/\d+ of \d+/);
    expect(text).not.toContain('cellTotal');
    expect(mine.body.checks.find((c: { name: string }) => c.name === 'neighbours').finding).toMatch(
      /^other devices on cell 4711 went silent/,
    );
    const staff = await sys.api('GET', '/api/devices/kito/diagnosis');
    expect(staff.body.cause).toBe('network_outage');
    expect(staff.body.nextStep).toMatch(/4 of 4 other devices on cell 4711 went silent/);
    expect(staff.body.checks.find((c: { name: string }) => c.name === 'neighbours').evidence.cellTotal).toBe(4);
  });
});
