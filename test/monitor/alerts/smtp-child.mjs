// A real SMTP server in its own process, for the e-mail channel tests.
// Prints one JSON line when listening ({ port }) and one per accepted message ({ from, to, raw }).
// SMTP_REJECT=1 makes it refuse every message with 550 after reading it.
import { SMTPServer } from 'smtp-server';

const reject = process.env.SMTP_REJECT === '1';
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      if (reject) {
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
