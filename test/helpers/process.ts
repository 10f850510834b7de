import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/lastseen.js', import.meta.url));

export interface LastseenProcess {
  child: ChildProcess;
  /** 0 for a process with no MQTT listener (`lastseen monitor`). */
  mqttPort: number;
  httpPort: number;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Every process spawned here and still running. A test that times out never reaches its own
 * teardown; when the test worker exits, these are killed, so no server outlives its test file.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Run `lastseen <args>` as a real process and wait until it logs that it is up. */
export function spawnLastseen(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<LastseenProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LASTSEEN_MQTT_PORT: '0', LASTSEEN_HTTP_PORT: '0', LASTSEEN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not up in time: it is of no use to anyone, and must not keep its ports and CPU.
      child.kill('SIGKILL');
      reject(new Error(`lastseen did not come up in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      // Up when the banner (ports, admin token) has been printed, whatever the log level.
      if (!out.includes('  data dir:')) return;
      const http = /(?:map and API|health):\s+https?:\/\/[^:]+:(\d+)/.exec(out);
      const mqtt = /MQTT:\s+mqtt:\/\/[^:]+:(\d+)/.exec(out);
      if (!http) return;
      clearTimeout(timer);
      resolve({ child, mqttPort: mqtt ? Number(mqtt[1]) : 0, httpPort: Number(http[1]), output: () => out, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`lastseen exited with ${code} before coming up:\n${out}`));
    });
  });
}

/**
 * Run `lastseen <args>` to completion; returns exit code and output. After `timeoutMs` the
 * process is killed and `code` is null with `timedOut` set (a hang is a result, not a stuck test).
 */
export function runLastseen(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}
