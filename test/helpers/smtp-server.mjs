// A real SMTP server in its own process (smtp-server), for tests that send mail.
// Prints one JSON line when listening ({ port }) and one per accepted message ({ from, to, raw }).
// SMTP_REJECT_FIRST=n refuses the first n messages with 550 after reading them ({ rejected } line each).
import { SMTPServer } from 'smtp-server';

let rejectLeft = Number(process.env.SMTP_REJECT_FIRST ?? 0);
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      if (rejectLeft > 0) {
        rejectLeft--;
        process.stdout.write(`${JSON.stringify({ rejected: true })}\n`);
        const err = new Error('Mailbox unavailable');
        err.responseCode = 550;
        return callback(err);
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      process.stdout.write(
        `${JSON.stringify({ from: session.envelope.mailFrom?.address, to: session.envelope.rcptTo.map((r) => r.address), raw })}\n`,
      );
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.server.address().port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
