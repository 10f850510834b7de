import { Command } from 'commander';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSimulateCommand } from '../../simulators/cli.ts';

let server: Server | null = null;
let broker: import('aedes').Aedes | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  if (broker) await new Promise<void>((r) => broker!.close(() => r()));
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  broker = null;
  server = null;
});

function program(): { program: Command; out: () => string } {
  let text = '';
  const p = new Command().name('lastseen').exitOverride();
  p.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  registerSimulateCommand(p);
  for (const c of p.commands) c.exitOverride().configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  return { program: p, out: () => text };
}

describe('lastseen simulate', () => {
  it('documents every option and the scenario syntax in --help', async () => {
    const { program: p, out } = program();
    await expect(p.parseAsync(['node', 'lastseen', 'simulate', '--help'])).rejects.toThrow();
    for (const flag of [
      '--server',
      '--mqtt',
      '--token',
      '--fleet',
      '--scenario',
      '--speed',
      '--seed',
      '--load',
      '--devices',
      '--rate',
      '--duration',
      '--qos',
      '--stop',
    ]) {
      expect(out()).toContain(flag);
    }
    expect(out()).toContain('kind:target@start[+duration][=value]');
  });

  it('refuses a bad --qos with a clear message', async () => {
    const { program: p, out } = program();
    await expect(p.parseAsync(['node', 'lastseen', 'simulate', '--qos', '2'])).rejects.toThrow();
    expect(out()).toMatch(/--qos.*2.*invalid|Allowed choices/i);
  });

  it('plays a fleet against a broker for --duration and prints a JSON summary', async () => {
    const { Aedes } = await import('aedes');
    broker = await Aedes.createBroker();
    let received = 0;
    broker.on('publish', (packet) => {
      if (packet.topic.endsWith('/heartbeat')) received++;
    });
    server = createServer(broker.handle);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { program: p } = program();
    await p.parseAsync([
      'node',
      'lastseen',
      'simulate',
      '--mqtt',
      `mqtt://127.0.0.1:${port}`,
      '--token',
      '',
      '--fleet',
      'tracker:3,giraffe:1',
      '--speed',
      '60',
      '--duration',
      '2',
      '--scenario',
      'connloss:tracker-002@1s',
    ]);
    vi.restoreAllMocks();
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ devices: 4, failed: 0, refused: 0, drops: 1 });
    expect(summary.published).toBeGreaterThanOrEqual(5);
    expect(received).toBe(summary.published);
  });
});
