import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

/** docs/contract.md §2. Every setting is an environment variable; units are in the names' docs. */
export interface Config {
  /** MQTT over TCP; 0 = pick a free port. */
  mqttPort: number;
  /** REST, socket.io, the map and MQTT over WebSocket at /mqtt; 0 = pick a free port. */
  httpPort: number;
  host: string;
  dataDir: string;
  /** `sqlite`, `influxdb://…` or `influxdb2://…`. */
  store: string;
  adminToken: string | null;
  smtpUrl: string | null;
  /** Sender address of letters to customers (monitor/letters/). */
  smtpFrom: string;
  /** The address agents and customers reach the web map at; deep links in letters start with it. Unset: the request's origin. */
  publicUrl: string | null;
  logLevel: string;
  /** Base-map tile URL template for the web map. */
  tileUrl: string;
  /** Heartbeats per device per second, sustained (token bucket refill). */
  heartbeatRate: number;
  /** Heartbeats a device may send at once (store-and-forward bursts). */
  heartbeatBurst: number;
  /** Failed logins a minute of one identity from one address before it is blocked there for 5 minutes (monitor/security/login-guard.ts). */
  loginFailures: number;
  /** MQTT connections from one source address that may be waiting to log in (accepted, no CONNACK yet) at once. */
  mqttPreauthPerAddress: number;
  /** PEM certificate and key: when both are set, HTTP becomes HTTPS and MQTT over TLS listens on mqttsPort. */
  tls: { cert: Buffer; key: Buffer } | null;
  mqttsPort: number;
}

export class ConfigError extends Error {}

const port = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(0, `${name} must be between 0 and 65535`)
    .max(65535, `${name} must be between 0 and 65535`);

const STORE_SCHEMES = ['sqlite', 'influxdb:', 'influxdb2:'];

const envSchema = z.object({
  LASTSEEN_MQTT_PORT: port('LASTSEEN_MQTT_PORT').default(1883),
  LASTSEEN_HTTP_PORT: port('LASTSEEN_HTTP_PORT').default(8080),
  LASTSEEN_HOST: z.string().min(1, 'LASTSEEN_HOST must not be empty').default('127.0.0.1'),
  LASTSEEN_DATA_DIR: z.string().min(1, 'LASTSEEN_DATA_DIR must not be empty').default('./data'),
  LASTSEEN_STORE: z
    .string()
    .default('sqlite')
    .refine(
      (s) => s === 'sqlite' || STORE_SCHEMES.some((p) => p !== 'sqlite' && s.startsWith(p + '//')),
      'LASTSEEN_STORE must be "sqlite", "influxdb://host:port/database" or "influxdb2://host:port?org=O&bucket=B&token=T"',
    ),
  LASTSEEN_ADMIN_TOKEN: z.string().min(16, 'LASTSEEN_ADMIN_TOKEN must be at least 16 characters').optional(),
  LASTSEEN_SMTP_URL: z
    .string()
    .refine((s) => /^smtps?:\/\//.test(s), 'LASTSEEN_SMTP_URL must start with smtp:// or smtps://')
    .optional(),
  LASTSEEN_SMTP_FROM: z.string().max(200).refine((s) => !/[\r\n]/.test(s), 'LASTSEEN_SMTP_FROM must be one line').default('lastseen support <support@lastseen.invalid>'),
  LASTSEEN_PUBLIC_URL: z
    .string()
    .refine((s) => /^https?:\/\/[^\s]+$/.test(s), 'LASTSEEN_PUBLIC_URL must be an http:// or https:// URL')
    .optional(),
  LASTSEEN_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LASTSEEN_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  LASTSEEN_TILE_URL: z.string().default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),
  LASTSEEN_HEARTBEAT_RATE: z.coerce.number({ error: 'LASTSEEN_HEARTBEAT_RATE must be a number' }).positive('LASTSEEN_HEARTBEAT_RATE must be > 0').default(2),
  LASTSEEN_HEARTBEAT_BURST: z.coerce.number({ error: 'LASTSEEN_HEARTBEAT_BURST must be a number' }).int().min(1, 'LASTSEEN_HEARTBEAT_BURST must be ≥ 1').default(120),
  LASTSEEN_TLS_CERT: z.string().min(1).optional(),
  LASTSEEN_TLS_KEY: z.string().min(1).optional(),
  LASTSEEN_MQTTS_PORT: port('LASTSEEN_MQTTS_PORT').default(8883),
  LASTSEEN_LOGIN_FAILURES: z.coerce.number({ error: 'LASTSEEN_LOGIN_FAILURES must be a number' }).int().min(1, 'LASTSEEN_LOGIN_FAILURES must be ≥ 1').default(20),
  LASTSEEN_MQTT_PREAUTH_PER_ADDRESS: z.coerce
    .number({ error: 'LASTSEEN_MQTT_PREAUTH_PER_ADDRESS must be a number' })
    .int('LASTSEEN_MQTT_PREAUTH_PER_ADDRESS must be a whole number')
    .min(1, 'LASTSEEN_MQTT_PREAUTH_PER_ADDRESS must be ≥ 1')
    .default(1000),
});

/**
 * Read configuration from the environment. Throws ConfigError whose message is one line per
 * problem, each naming the variable, so start-up can stop before anything is half-started.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => i.message).join('\n'));
  }
  const e = parsed.data;
  return {
    mqttPort: e.LASTSEEN_MQTT_PORT,
    httpPort: e.LASTSEEN_HTTP_PORT,
    host: e.LASTSEEN_HOST,
    dataDir: resolve(e.LASTSEEN_DATA_DIR),
    store: e.LASTSEEN_STORE,
    adminToken: e.LASTSEEN_ADMIN_TOKEN ?? null,
    smtpUrl: e.LASTSEEN_SMTP_URL ?? null,
    smtpFrom: e.LASTSEEN_SMTP_FROM,
    publicUrl: e.LASTSEEN_PUBLIC_URL ?? null,
    logLevel: e.LASTSEEN_LOG_LEVEL,
    tileUrl: e.LASTSEEN_TILE_URL,
    heartbeatRate: e.LASTSEEN_HEARTBEAT_RATE,
    heartbeatBurst: e.LASTSEEN_HEARTBEAT_BURST,
    loginFailures: e.LASTSEEN_LOGIN_FAILURES,
    mqttPreauthPerAddress: e.LASTSEEN_MQTT_PREAUTH_PER_ADDRESS,
    tls: readTls(e.LASTSEEN_TLS_CERT, e.LASTSEEN_TLS_KEY),
    mqttsPort: e.LASTSEEN_MQTTS_PORT,
  };
}

function readTls(certPath?: string, keyPath?: string): Config['tls'] {
  if (!certPath && !keyPath) return null;
  if (!certPath || !keyPath) throw new ConfigError('LASTSEEN_TLS_CERT and LASTSEEN_TLS_KEY must be set together');
  const read = (path: string, name: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`${name} ${path} cannot be read (${(err as NodeJS.ErrnoException).code})`);
    }
  };
  return { cert: read(certPath, 'LASTSEEN_TLS_CERT'), key: read(keyPath, 'LASTSEEN_TLS_KEY') };
}

/** Create the data dir if needed and check it is writable; ConfigError otherwise. */
export function prepareDataDir(dir: string): void {
  try {
    makeDir(dir);
    accessSync(dir, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new ConfigError(`LASTSEEN_DATA_DIR ${dir} is not a writable directory (${(err as NodeJS.ErrnoException).code})`);
  }
}

/**
 * `mkdir -p`, one level at a time. Node's own `mkdirSync(…, { recursive: true })` spins at 100 %
 * CPU forever under a parent that exists but refuses new entries with ENOENT (`/proc/nope`):
 * it creates the parent, sees EEXIST, and retries the child. Here ENOENT under an existing
 * parent is the answer.
 */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
      return;
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || isDir(parent)) throw err;
    makeDir(parent);
    mkdirSync(dir);
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Every environment variable lastseen reads (for deployment checks and docs). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);
