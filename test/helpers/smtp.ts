import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server (smtp-server) in a child process on a free port; `rejectFirst` messages get 550. */
export async function startSmtpServer(opts: { rejectFirst?: number } = {}) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./smtp-server.mjs', import.meta.url))], {
    env: { ...process.env, SMTP_REJECT_FIRST: String(opts.rejectFirst ?? 0) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const mails: Mail[] = [];
  let rejected = 0;
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`smtp server exited with ${code}`)));
    lines.on('line', (l) => {
      const msg = JSON.parse(l);
      if (msg.port) resolve(msg.port);
      else if (msg.rejected) rejected++;
      else mails.push(msg);
    });
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    get rejected() {
      return rejected;
    },
    stop: () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM')))),
  };
}

/** A mail's header value, RFC 2047 encoded words decoded ("=?UTF-8?Q?Ger=C3=A4t?=" → "Gerät"). */
export function mailHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) return undefined;
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([qb])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

/** The plain-text body as sent (quoted-printable or 7bit), with CRLF turned into LF. */
export function mailText(raw: string): string {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\r\n\r\n');
  const qp = /content-transfer-encoding:\s*quoted-printable/i.test(head);
  const b64 = /content-transfer-encoding:\s*base64/i.test(head);
  const text = b64
    ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    : qp
      ? Buffer.from(
          body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8')
      : body;
  return text.replace(/\r\n/g, '\n').replace(/\n$/, '');
}
