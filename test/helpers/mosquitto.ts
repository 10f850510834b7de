import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ensureDebianBinary } from './debian.ts';
import { freePort } from './ports.ts';

export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export interface Mosquitto {
  port: number;
  url(user: string, password: string): string;
  /** Stop the broker (SIGTERM, waits for exit); its dynsec JSON stays in `dir`. */
  stop(): Promise<void>;
  /** Start it again on the same port from the same JSON. */
  start(): Promise<void>;
  /** Freeze the broker (SIGSTOP): connections stay open, nothing is answered. `resume` thaws it. */
  pause(): void;
  resume(): void;
  /** `mosquitto_ctrl dynsec …` as the admin; returns stdout, throws on a non-zero exit. */
  ctrl(...args: string[]): string;
  /** `mosquitto_pub` with this username/password; returns its exit code (0 = connected and sent). */
  pub(user: string, password: string, topic: string, message?: string): number;
}

/**
 * Debian's Mosquitto 2 on a free port with the dynamic-security plugin, its JSON made by
 * `mosquitto_ctrl dynsec init` with admin `admin`. `user root` keeps a root-run broker from
 * dropping to the `mosquitto` user, who could not write the JSON in a root-owned temp dir.
 */
export async function startMosquitto(dir: string, adminPassword = 'admin-pw'): Promise<Mosquitto> {
  const bin = ensureDebianBinary('mosquitto', 'mosquitto');
  const ctrlBin = ensureDebianBinary('mosquitto_ctrl', 'mosquitto-clients');
  const pubBin = ensureDebianBinary('mosquitto_pub', 'mosquitto-clients');
  if (!existsSync(DYNSEC_PLUGIN)) throw new Error(`${DYNSEC_PLUGIN} is missing: install the Debian package "mosquitto"`);
  const port = await freePort();
  const json = join(dir, 'dynsec.json');
  const init = spawnSync(ctrlBin, ['dynsec', 'init', json, 'admin', adminPassword], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}`);
  const conf = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `plugin ${DYNSEC_PLUGIN}`,
    `plugin_opt_config_file ${json}`,
    'persistence false',
    // What a persistent session may hold while its client is away (default 1000, then dropped).
    'max_queued_messages 100000',
    'log_type error',
    'log_type warning',
  ];
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  let child: ChildProcess | null = null;

  const start = async () => {
    child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    port,
    url: (user, password) => `mqtt://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    start,
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    ctrl(...args) {
      const r = spawnSync(ctrlBin, ['-h', '127.0.0.1', '-p', String(port), '-u', 'admin', '-P', adminPassword, 'dynsec', ...args], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`mosquitto_ctrl dynsec ${args.join(' ')}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    pub(user, password, topic, message = '{}') {
      const r = spawnSync(
        pubBin,
        ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-t', topic, '-m', message, '-q', '1'],
        {
          encoding: 'utf8',
          timeout: 10_000,
        },
      );
      return r.status ?? -1;
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * One dynsec login every simulated device shares, allowed to publish on `devices/#` only: load
 * generators publish many devices' topics over a few connections (lastseen attached with
 * LASTSEEN_BROKER_AUTH=none takes the device from the topic).
 */
export function addFleetLogin(mosq: Mosquitto, username: string, password: string): void {
  mosq.ctrl('createRole', 'devices');
  mosq.ctrl('addRoleACL', 'devices', 'publishClientSend', 'devices/#', 'allow');
  mosq.ctrl('createClient', username, '-p', password);
  mosq.ctrl('addClientRole', username, 'devices');
}
