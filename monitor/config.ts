import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseWebhookAllow, type AllowEntry } from './alerts/channels/webhook-destination.ts';

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
  /** QoS 1 heartbeats one device may hold waiting for that budget before its connection is closed unacknowledged (monitor/ingest/pacing.ts). */
  heartbeatHeldLimit: number;
  /** Failed logins a minute of one identity from one address before it is blocked there for 5 minutes (monitor/security/login-guard.ts). */
  loginFailures: number;
  /** MQTT connections from one source address that may be waiting to log in (accepted, no CONNACK yet) at once. */
  mqttPreauthPerAddress: number;
  /** PEM certificate and key: when both are set, HTTP becomes HTTPS and MQTT over TLS listens on mqttsPort. */
  tls: { cert: Buffer; key: Buffer } | null;
  mqttsPort: number;
  /** A silence covering more devices than this needs an admin (agents and customers are refused with 403). */
  silenceMaxDevices: number;
  /**
   * Internal webhook destinations the operator opens (LASTSEEN_WEBHOOK_ALLOW: CIDRs and host names,
   * comma-separated); without an entry a customer's webhook may reach public addresses only.
   */
  webhookAllow: readonly AllowEntry[];
  /**
   * `mqtt://USER:PASS@host:port` or `mqtts://…`: the monitor attaches to this broker as a client
   * and opens no MQTT listener (`lastseen monitor`); null = no external broker.
   */
  brokerUrl: string | null;
  /**
   * `postgres://USER:PASS@host:port/db`: customers, devices, keys, users and the audit log live
   * in PostgreSQL, each process holding a replica (monitor/registry/postgres/); null = the
   * embedded SQLite registry in the data directory.
   */
  registryUrl: string | null;
  /** Who authenticates devices at the external broker: lastseen keeping Mosquitto's dynamic security in sync, or the operator. */
  brokerAuth: BrokerAuth;
  /** The monitor's MQTT client id at the external broker: fixed, so its persistent session survives restarts. */
  brokerClientId: string;
  /** `lastseen broker`: the secret the monitor logs in with as `~monitor` (LASTSEEN_MONITOR_TOKEN). */
  monitorToken: string | null;
  /** Single sign-on for operators (web/session-oidc.ts); null when LASTSEEN_OIDC_ISSUER is unset. */
  oidc: OidcConfig | null;
  /**
   * RADIUS accounting (monitor/network/): UDP port (0 = a free one), null = off. It is off
   * unless a secret is set: a server with no secret could only drop every packet.
   */
  radiusPort: number | null;
  /** The shared secret for every NAS not listed in radiusClients. */
  radiusSecret: string | null;
  /** Per-NAS secrets by source address; with no radiusSecret only these are heard. */
  radiusClients: Record<string, string>;
  /** The SIM platform's Push API shared secret; null = no receiver (monitor/simplatform/). */
  simPushSecret: string | null;
  /** The SIM platform's REST API to poll for SIM state changes, with its credentials; null = none. */
  simPlatformUrl: string | null;
  simPlatformPollSeconds: number;
  /**
   * `redis://…` or `rediss://…` (LASTSEEN_STATE): liveness and alerts shared by a cluster of
   * monitors (monitor/cluster/); null = this process alone decides.
   */
  state: string | null;
  /** LASTSEEN_ADOPT_AFTER: a worker silent this long has its broker queue drained by another (monitor/cluster/adoption.ts). */
  adoptAfterSeconds: number;
}

export interface OidcConfig {
  /** The OpenID provider's issuer URL (its discovery document is `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The claim (ID token or userinfo) whose value names the lastseen role: `admin` or `agent`. */
  roleClaim: string;
  /** Where the provider sends the browser back; default: this server's `/api/session/oidc/callback`. */
  redirectUrl: string | null;
}

/** `http` (an auth/ACL endpoint for brokers that call out) is planned: docs/contract.md §9. */
export const BROKER_AUTH = ['dynsec', 'http', 'none'] as const;
export type BrokerAuth = (typeof BROKER_AUTH)[number];

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
      (s) => s === 'sqlite' || STORE_SCHEMES.some((p) => p !== 'sqlite' && s.startsWith(`${p}//`)),
      'LASTSEEN_STORE must be "sqlite", "influxdb://host:port/database" or "influxdb2://host:port?org=O&bucket=B&token=T"',
    ),
  LASTSEEN_ADMIN_TOKEN: z.string().min(16, 'LASTSEEN_ADMIN_TOKEN must be at least 16 characters').optional(),
  LASTSEEN_SMTP_URL: z
    .string()
    .refine((s) => /^smtps?:\/\//.test(s), 'LASTSEEN_SMTP_URL must start with smtp:// or smtps://')
    .optional(),
  LASTSEEN_SMTP_FROM: z
    .string()
    .max(200)
    .refine((s) => !/[\r\n]/.test(s), 'LASTSEEN_SMTP_FROM must be one line')
    .default('lastseen support <support@lastseen.invalid>'),
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
  LASTSEEN_HEARTBEAT_RATE: z.coerce
    .number({ error: 'LASTSEEN_HEARTBEAT_RATE must be a number' })
    .positive('LASTSEEN_HEARTBEAT_RATE must be > 0')
    .default(2),
  LASTSEEN_HEARTBEAT_BURST: z.coerce
    .number({ error: 'LASTSEEN_HEARTBEAT_BURST must be a number' })
    .int()
    .min(1, 'LASTSEEN_HEARTBEAT_BURST must be ≥ 1')
    .default(120),
  LASTSEEN_HEARTBEAT_HELD_LIMIT: z.coerce
    .number({ error: 'LASTSEEN_HEARTBEAT_HELD_LIMIT must be a number' })
    .int('LASTSEEN_HEARTBEAT_HELD_LIMIT must be a whole number')
    .min(1, 'LASTSEEN_HEARTBEAT_HELD_LIMIT must be ≥ 1')
    .default(4096),
  LASTSEEN_TLS_CERT: z.string().min(1).optional(),
  LASTSEEN_TLS_KEY: z.string().min(1).optional(),
  LASTSEEN_MQTTS_PORT: port('LASTSEEN_MQTTS_PORT').default(8883),
  LASTSEEN_LOGIN_FAILURES: z.coerce
    .number({ error: 'LASTSEEN_LOGIN_FAILURES must be a number' })
    .int()
    .min(1, 'LASTSEEN_LOGIN_FAILURES must be ≥ 1')
    .default(20),
  LASTSEEN_MQTT_PREAUTH_PER_ADDRESS: z.coerce
    .number({ error: 'LASTSEEN_MQTT_PREAUTH_PER_ADDRESS must be a number' })
    .int('LASTSEEN_MQTT_PREAUTH_PER_ADDRESS must be a whole number')
    .min(1, 'LASTSEEN_MQTT_PREAUTH_PER_ADDRESS must be ≥ 1')
    .default(1000),
  LASTSEEN_SILENCE_MAX_DEVICES: z.coerce
    .number({ error: 'LASTSEEN_SILENCE_MAX_DEVICES must be a number' })
    .int('LASTSEEN_SILENCE_MAX_DEVICES must be a whole number')
    .min(1, 'LASTSEEN_SILENCE_MAX_DEVICES must be ≥ 1')
    .default(100),
  LASTSEEN_WEBHOOK_ALLOW: z
    .string()
    .default('')
    .superRefine((s, ctx) => {
      try {
        parseWebhookAllow(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `LASTSEEN_WEBHOOK_ALLOW: ${(err as Error).message}` });
      }
    }),
  LASTSEEN_BROKER_URL: z
    .string()
    .superRefine((s, ctx) => {
      const problem = brokerUrlProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: `LASTSEEN_BROKER_URL ${problem}` });
    })
    .optional(),
  // The value is never echoed in the message: it carries the database password.
  LASTSEEN_REGISTRY: z
    .string()
    .refine((s) => s === 'sqlite' || /^postgres(ql)?:\/\/[^/]/.test(s), {
      message: 'LASTSEEN_REGISTRY must be "sqlite" or a "postgres://user:password@host:port/database" URL',
    })
    .optional(),
  LASTSEEN_BROKER_AUTH: z.enum(BROKER_AUTH, { error: `LASTSEEN_BROKER_AUTH must be one of ${BROKER_AUTH.join(', ')}` }).default('none'),
  LASTSEEN_BROKER_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'LASTSEEN_BROKER_CLIENT_ID must be 1–64 of A–Z a–z 0–9 . _ : -')
    .default('lastseen-monitor'),
  LASTSEEN_MONITOR_TOKEN: z.string().min(16, 'LASTSEEN_MONITOR_TOKEN must be at least 16 characters').optional(),
  LASTSEEN_OIDC_ISSUER: z.url({ protocol: /^https?$/, error: 'LASTSEEN_OIDC_ISSUER must be an http:// or https:// URL' }).optional(),
  LASTSEEN_OIDC_CLIENT_ID: z.string().min(1).optional(),
  LASTSEEN_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  LASTSEEN_OIDC_ROLE_CLAIM: z.string().min(1).default('lastseen_role'),
  LASTSEEN_OIDC_REDIRECT_URL: z
    .url({ protocol: /^https?$/, error: 'LASTSEEN_OIDC_REDIRECT_URL must be an http:// or https:// URL' })
    .optional(),
  LASTSEEN_RADIUS_PORT: z
    .string()
    .default('1813')
    .refine((s) => s === 'off' || (/^\d{1,5}$/.test(s) && Number(s) <= 65535), 'LASTSEEN_RADIUS_PORT must be between 0 and 65535, or "off"')
    .transform((s) => (s === 'off' ? ('off' as const) : Number(s))),
  LASTSEEN_STATE: z
    .string()
    .refine((s) => /^rediss?:\/\/[^/]/.test(s), 'LASTSEEN_STATE must be a redis:// or rediss:// URL (redis://host:6379)')
    .optional(),
  LASTSEEN_ADOPT_AFTER: z.coerce
    .number({ error: 'LASTSEEN_ADOPT_AFTER must be a number of seconds' })
    .int('LASTSEEN_ADOPT_AFTER must be a whole number of seconds')
    .min(5, 'LASTSEEN_ADOPT_AFTER must be ≥ 5 seconds (a worker refreshes every 1.7 s)')
    .default(10),
  LASTSEEN_RADIUS_SECRET: z.string().min(8, 'LASTSEEN_RADIUS_SECRET must be at least 8 characters').optional(),
  LASTSEEN_RADIUS_CLIENTS: z
    .string()
    .refine(
      (s) => radiusClients(s) !== null,
      'LASTSEEN_RADIUS_CLIENTS must be address=secret pairs separated by commas (10.0.0.1=secret1,10.0.0.2=secret2; secrets of 8 characters or more)',
    )
    .optional(),
  LASTSEEN_SIM_PUSH_SECRET: z.string().min(16, 'LASTSEEN_SIM_PUSH_SECRET must be at least 16 characters').optional(),
  LASTSEEN_SIM_PLATFORM_URL: z
    .url({ protocol: /^https?$/, error: 'LASTSEEN_SIM_PLATFORM_URL must be an http:// or https:// URL (https://user:apikey@host)' })
    .optional(),
  LASTSEEN_SIM_PLATFORM_POLL: z.coerce
    .number({ error: 'LASTSEEN_SIM_PLATFORM_POLL must be a number of seconds' })
    .int('LASTSEEN_SIM_PLATFORM_POLL must be a whole number of seconds')
    .min(10, 'LASTSEEN_SIM_PLATFORM_POLL must be ≥ 10 seconds')
    .default(300),
});

/** Why a broker URL cannot be used, or null. The password is never echoed. */
export function brokerUrlProblem(s: string): string | null {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'must be a URL like mqtt://user:password@host:1883';
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') return `must start with mqtt:// or mqtts:// (got ${u.protocol}//)`;
  if (!u.hostname) return 'must name a host';
  return null;
}

/** `10.0.0.1=s1,10.0.0.2=s2` → { address: secret }, null when malformed. Secrets may hold '=' but not ','. */
export function radiusClients(s: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    const address = part.slice(0, eq).trim();
    const secret = part.slice(eq + 1);
    if (isIP(address) === 0 || secret.length < 8) return null;
    out[address] = secret;
  }
  return out;
}

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
    heartbeatHeldLimit: e.LASTSEEN_HEARTBEAT_HELD_LIMIT,
    loginFailures: e.LASTSEEN_LOGIN_FAILURES,
    mqttPreauthPerAddress: e.LASTSEEN_MQTT_PREAUTH_PER_ADDRESS,
    tls: readTls(e.LASTSEEN_TLS_CERT, e.LASTSEEN_TLS_KEY),
    mqttsPort: e.LASTSEEN_MQTTS_PORT,
    silenceMaxDevices: e.LASTSEEN_SILENCE_MAX_DEVICES,
    webhookAllow: parseWebhookAllow(e.LASTSEEN_WEBHOOK_ALLOW),
    brokerUrl: e.LASTSEEN_BROKER_URL ?? null,
    registryUrl: e.LASTSEEN_REGISTRY && e.LASTSEEN_REGISTRY !== 'sqlite' ? e.LASTSEEN_REGISTRY : null,
    brokerAuth: e.LASTSEEN_BROKER_AUTH,
    brokerClientId: e.LASTSEEN_BROKER_CLIENT_ID,
    monitorToken: e.LASTSEEN_MONITOR_TOKEN ?? null,
    oidc: readOidc(e),
    ...radiusConfig(e.LASTSEEN_RADIUS_PORT, e.LASTSEEN_RADIUS_SECRET, e.LASTSEEN_RADIUS_CLIENTS),
    simPushSecret: e.LASTSEEN_SIM_PUSH_SECRET ?? null,
    simPlatformUrl: e.LASTSEEN_SIM_PLATFORM_URL ?? null,
    simPlatformPollSeconds: e.LASTSEEN_SIM_PLATFORM_POLL,
    state: e.LASTSEEN_STATE ?? null,
    adoptAfterSeconds: e.LASTSEEN_ADOPT_AFTER,
  };
}

/** All three of issuer, client id and secret, or none: half a single sign-on is a mistake to name. */
function readOidc(e: z.infer<typeof envSchema>): OidcConfig | null {
  const set = [e.LASTSEEN_OIDC_ISSUER, e.LASTSEEN_OIDC_CLIENT_ID, e.LASTSEEN_OIDC_CLIENT_SECRET];
  if (set.every((v) => v === undefined)) return null;
  if (set.some((v) => v === undefined)) {
    throw new ConfigError('LASTSEEN_OIDC_ISSUER, LASTSEEN_OIDC_CLIENT_ID and LASTSEEN_OIDC_CLIENT_SECRET must be set together');
  }
  return {
    issuer: e.LASTSEEN_OIDC_ISSUER!,
    clientId: e.LASTSEEN_OIDC_CLIENT_ID!,
    clientSecret: e.LASTSEEN_OIDC_CLIENT_SECRET!,
    roleClaim: e.LASTSEEN_OIDC_ROLE_CLAIM,
    redirectUrl: e.LASTSEEN_OIDC_REDIRECT_URL ?? null,
  };
}

function radiusConfig(
  port: number | 'off',
  secret?: string,
  clients?: string,
): Pick<Config, 'radiusPort' | 'radiusSecret' | 'radiusClients'> {
  const list = clients ? radiusClients(clients)! : {};
  const heard = secret !== undefined || Object.keys(list).length > 0;
  return { radiusPort: port === 'off' || !heard ? null : port, radiusSecret: secret ?? null, radiusClients: list };
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
