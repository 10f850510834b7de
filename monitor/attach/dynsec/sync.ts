import { randomBytes } from 'node:crypto';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import { systemClock, type Clock, type TimerHandle } from '../../clock.ts';
import type { Logger } from '../../logger.ts';
import type { CredentialChange, CredentialChanges } from '../../registry/credential-changes.ts';
import type { Registry } from '../../registry/registry.ts';
import { DynsecControl, type Response } from './control.ts';
import { customerRoleName, desiredCustomer, desiredDevice, deviceRoleName, UnsafeIdError } from './desired.ts';
import {
  CLIENT_MARK,
  isOurs,
  planClient,
  ROLE_PREFIX,
  type ActualClient,
  type ActualRole,
  type Command,
  type DesiredClient,
} from './plan.ts';
import type { SecretVault } from './secret-vault.ts';

export interface DynsecSyncOptions {
  /** mqtt://ADMIN:PASSWORD@host:port — ADMIN is a dynsec client with the `admin` role of `mosquitto_ctrl dynsec init`. */
  url: string;
  registry: Registry;
  /** The sealed tokens and keys; must already be the registry's keeper (`registry.keepSecretsWith(vault)`). */
  vault: SecretVault;
  changes: CredentialChanges;
  log: Logger;
  /** The monitor's prom-client registry (`metrics.registry`), where the dynsec counters are added. */
  metrics: PromRegistry;
  clock?: Clock;
  /** First retry after a failure; doubles up to `maxBackoffMs`. Default 1 000 ms. */
  minBackoffMs?: number;
  /** Default 60 000 ms. */
  maxBackoffMs?: number;
  /** A full resync also runs this often, catching changes no credential event announces (a SIM re-activated). Default 10 min. */
  resyncEveryMs?: number;
  /** How long one batch may wait for Mosquitto's answer. Default 10 000 ms. */
  timeoutMs?: number;
}

export interface DynsecSync {
  /** Connect and run the first resync; resolves once it succeeded or first failed (it is then retried). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once connected, resynced and nothing is pending (tests, and a readiness probe). */
  settled(): Promise<void>;
  /** Changes not yet confirmed by Mosquitto. */
  pending(): number;
}

/** Clients read or changed per message: 50 clients is ~200 commands, a few kB of JSON. */
const ITEMS_PER_BATCH = 50;
/** Commands per message in a resync. Mosquitto rewrites its whole JSON after every change, so big batches only save round trips. */
const COMMANDS_PER_MESSAGE = 200;
const PAGE = 1000;

/**
 * Keeps Mosquitto's dynamic-security clients and roles equal to lastseen's devices and customer
 * keys. Level-triggered: a credential change only marks a device or customer dirty, and
 * reconciling reads both sides afresh (getClient/getRole, the registry, the vault), so a change
 * that failed, arrived twice or raced another is simply reconciled again until it holds.
 *
 *   event                                       action
 *   ------------------------------------------  ----------------------------------------------
 *   (re)connected to Mosquitto, every 10 min    full resync: list all clients and roles, fix all
 *   device created / token rotated or revoked   device dirty (the vault announces it)
 *   SIM deactivated or retired                  device dirty
 *   customer key created                        customer dirty (the vault announces it)
 *   customer key revoked / customer deleted     key(s) dropped from the vault, customer dirty
 *   a batch fails (timeout, closed, an error)   logged with the ids, counted, its items stay dirty,
 *                                               retried after 1 s, 2 s, 4 s … 60 s
 *
 * A reconnection always resyncs: Mosquitto may have restarted from an older JSON.
 */
export function createDynsecSync(opts: DynsecSyncOptions): DynsecSync {
  const { registry, vault, log } = opts;
  const clock = opts.clock ?? systemClock;
  const minBackoff = opts.minBackoffMs ?? 1_000;
  const maxBackoff = opts.maxBackoffMs ?? 60_000;
  const resyncEvery = opts.resyncEveryMs ?? 600_000;
  const m = dynsecMetrics(opts.metrics);

  const dirty = new Set<string>();
  let resyncWanted = true;
  let running = false;
  let stopped = false;
  let failures = 0;
  let timer: TimerHandle | null = null;
  let resyncTimer: TimerHandle | null = null;
  let control: DynsecControl | null = null;
  let firstOutcome: (() => void) | null = null;
  let settledWaiters: (() => void)[] = [];
  const offs: (() => void)[] = [];

  const pending = () => dirty.size + (resyncWanted ? 1 : 0);
  const gauge = () => m.pending.set(pending());

  function mark(key: string): void {
    dirty.add(key);
    gauge();
    kick(0);
  }

  function kick(delayMs: number): void {
    if (stopped || running) return;
    if (timer !== null) {
      if (delayMs > 0) return;
      clock.clearTimer(timer);
    }
    timer = clock.setTimer(() => {
      timer = null;
      void run();
    }, delayMs);
  }

  async function run(): Promise<void> {
    // Not connected is tried too: the attempt fails, is counted and backs off like any other.
    if (stopped || running || !control) return;
    running = true;
    try {
      if (resyncWanted) {
        resyncWanted = false;
        try {
          await resync();
        } catch (err) {
          resyncWanted = true;
          throw err;
        }
        firstOutcome?.();
      }
      while (dirty.size > 0 && !stopped) {
        const batch = [...dirty].slice(0, ITEMS_PER_BATCH);
        for (const k of batch) dirty.delete(k);
        try {
          await reconcile(batch);
        } catch (err) {
          for (const k of batch) dirty.add(k);
          throw err;
        }
        gauge();
      }
      failures = 0;
    } catch (err) {
      failures++;
      const delay = Math.min(maxBackoff, minBackoff * 2 ** (failures - 1));
      log.warn({ err: (err as Error).message, pending: pending(), retryInMs: delay }, 'dynsec sync failed; retrying');
      firstOutcome?.();
      running = false;
      gauge();
      kick(delay);
      return;
    }
    running = false;
    gauge();
    if (pending() === 0) {
      const w = settledWaiters;
      settledWaiters = [];
      for (const f of w) f();
    }
  }

  /** Send commands, count each answer; returns the answers and the errors by command index. */
  async function send(commands: Command[], what: (i: number) => string): Promise<{ responses: Response[]; errors: Map<number, string> }> {
    const errors = new Map<number, string>();
    let responses: Response[];
    try {
      responses = await control!.send(commands);
    } catch (err) {
      for (const c of commands)
        m.commands.inc({ command: c.command, result: /within/.test((err as Error).message) ? 'timeout' : 'failed' });
      throw err;
    }
    commands.forEach((c, i) => {
      const r = responses[i];
      const error = !r ? 'no response' : r.error;
      // Reading something that is not there is an answer, not a failure.
      const notFound = error === 'Client not found' || error === 'Role not found';
      const isRead = c.command.startsWith('get') || c.command.startsWith('list');
      if (error && !(isRead && notFound)) {
        errors.set(i, error);
        m.commands.inc({ command: c.command, result: 'error' });
        const key = what(i);
        log.error(
          { command: c.command, [key.slice(0, key.indexOf(':'))]: key.slice(key.indexOf(':') + 1), error },
          'dynsec command refused by Mosquitto',
        );
      } else m.commands.inc({ command: c.command, result: 'ok' });
    });
    return { responses, errors };
  }

  function desiredOf(key: string): DesiredClient | null | 'unsafe' {
    const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    try {
      return kind === 'device' ? desiredDevice(registry, vault, id) : desiredCustomer(registry, vault, id);
    } catch (err) {
      if (!(err instanceof UnsafeIdError)) throw err;
      m.commands.inc({ command: 'plan', result: 'rejected' });
      log.error({ [kind]: id, err: err.message }, 'not synced to Mosquitto: unsafe id');
      return 'unsafe';
    }
  }

  const usernameOf = (key: string) =>
    key.startsWith('device:') ? key.slice('device:'.length) : `customer:${key.slice('customer:'.length)}`;
  const roleOf = (key: string) => (key.startsWith('device:') ? deviceRoleName(key.slice(7)) : customerRoleName(key.slice(9)));
  const randomPassword = () => randomBytes(24).toString('base64url');

  /** Reconcile a few dirty devices/customers: read their client and role, then fix them. */
  async function reconcile(keys: string[]): Promise<void> {
    const reads: Command[] = keys.flatMap((k) => [
      { command: 'getClient', username: usernameOf(k) },
      { command: 'getRole', rolename: roleOf(k) },
    ]);
    const { responses, errors: readErrors } = await send(reads, (i) => keys[i >> 1]);
    if (readErrors.size > 0) throw new Error(`${readErrors.size} reads refused`);
    const commands: Command[] = [];
    const owner: string[] = [];
    keys.forEach((k, j) => {
      const client = (responses[2 * j]?.data?.client as ActualClient | undefined) ?? null;
      const role = (responses[2 * j + 1]?.data?.role as ActualRole | undefined) ?? null;
      const desired = desiredOf(k);
      if (desired === 'unsafe') return;
      const p = planClient(desired, client, isOurs(client) || !client ? role : null, randomPassword);
      if (p.conflict) conflict(k);
      for (const c of p.commands) {
        commands.push(c);
        owner.push(k);
      }
    });
    const { errors } = await send(commands, (i) => owner[i]);
    if (errors.size > 0) {
      const failed = [...new Set([...errors.keys()].map((i) => owner[i]))];
      throw new Error(`Mosquitto refused ${errors.size} command(s) for ${failed.join(', ')}`);
    }
  }

  function conflict(key: string): void {
    m.commands.inc({ command: 'plan', result: 'conflict' });
    log.error({ username: usernameOf(key) }, 'a dynsec client of this name exists and is not managed by lastseen; left alone');
  }

  async function list(command: 'listClients' | 'listRoles', field: 'clients' | 'roles'): Promise<Record<string, unknown>[]> {
    const all: Record<string, unknown>[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const { responses, errors } = await send([{ command, verbose: true, count: PAGE, offset }], () => `list:${command}`);
      if (errors.size > 0) throw new Error(`${command} refused: ${errors.get(0)}`);
      const page = (responses[0]?.data?.[field] as Record<string, unknown>[] | undefined) ?? [];
      all.push(...page);
      if (page.length < PAGE) return all;
    }
  }

  /** Read every client and role at Mosquitto and fix every difference. */
  async function resync(): Promise<void> {
    const started = clock.now();
    const clients = new Map((await list('listClients', 'clients')).map((c) => [c.username as string, c as unknown as ActualClient]));
    const roles = new Map(
      (await list('listRoles', 'roles')).map((r) => [r.rolename as string, r as unknown as ActualRole & { textname?: string }]),
    );
    const covered = new Set(dirty);
    dirty.clear();
    const commands: Command[] = [];
    const owner: string[] = [];
    const wanted = new Set<string>();
    let noToken = 0;
    const add = (key: string) => {
      const desired = desiredOf(key);
      if (desired === 'unsafe') return;
      const username = usernameOf(key);
      if (desired) wanted.add(username);
      if (desired?.password === null) noToken++;
      const client = clients.get(username) ?? null;
      const p = planClient(desired, client, isOurs(client) || !client ? (roles.get(roleOf(key)) ?? null) : null, randomPassword);
      if (p.conflict) conflict(key);
      for (const c of p.commands) {
        commands.push(c);
        owner.push(key);
      }
    };
    try {
      for (const d of registry.allDevices()) add(`device:${d.id}`);
      for (const id of vault.customers()) add(`customer:${id}`);
      for (const k of covered) if (!wanted.has(usernameOf(k))) add(k);
      // Managed clients lastseen no longer knows (deleted devices, customers without keys).
      for (const [username, c] of clients) {
        if (!isOurs(c) || wanted.has(username)) continue;
        const key = username.startsWith('customer:') ? username : `device:${username}`;
        const p = planClient(null, c, null, randomPassword);
        for (const cmd of p.commands) {
          commands.push(cmd);
          owner.push(key);
        }
      }
      // Managed roles no client of lastseen's uses any more.
      const kept = new Set([...wanted].map((u) => (u.startsWith('customer:') ? customerRoleName(u.slice(9)) : deviceRoleName(u))));
      const deleting = new Set(commands.filter((c) => c.command === 'deleteRole').map((c) => c.rolename));
      for (const [name, r] of roles) {
        if (name.startsWith(ROLE_PREFIX) && r.textname === CLIENT_MARK && !kept.has(name) && !deleting.has(name)) {
          commands.push({ command: 'deleteRole', rolename: name });
          owner.push(`role:${name}`);
        }
      }
    } catch (err) {
      for (const k of covered) dirty.add(k);
      throw err;
    }
    let failed = 0;
    for (let i = 0; i < commands.length; i += COMMANDS_PER_MESSAGE) {
      const chunk = commands.slice(i, i + COMMANDS_PER_MESSAGE);
      let errors: Map<number, string>;
      try {
        ({ errors } = await send(chunk, (j) => owner[i + j]));
      } catch (err) {
        for (const k of owner.slice(i)) if (!k.startsWith('role:')) dirty.add(k);
        throw err;
      }
      for (const j of errors.keys()) {
        failed++;
        if (!owner[i + j].startsWith('role:')) dirty.add(owner[i + j]);
      }
    }
    if (noToken > 0)
      log.warn({ devices: noToken }, 'devices without a sealed token are disabled at Mosquitto until their token is rotated');
    log.info({ clients: wanted.size, commands: commands.length, failed, ms: clock.now() - started }, 'dynsec resync done');
    if (failed > 0) throw new Error(`resync: Mosquitto refused ${failed} command(s); those items are retried`);
  }

  function onChange(change: CredentialChange): void {
    if (change.kind === 'device_token_changed' || change.kind === 'sim_blocked') mark(`device:${change.deviceId}`);
    else if (change.kind === 'key_revoked') {
      const customer = vault.forgetKey(change.keyId);
      if (customer) mark(`customer:${customer}`);
    } else if (change.kind === 'customer_deleted') {
      vault.forgetCustomer(change.customerId);
      mark(`customer:${change.customerId}`);
    }
  }

  function scheduleResync(): void {
    resyncTimer = clock.setTimer(() => {
      resyncWanted = true;
      gauge();
      kick(0);
      scheduleResync();
    }, resyncEvery);
  }

  return {
    async start() {
      offs.push(opts.changes.on(onChange));
      vault.onChange = (what) => mark(`${what.kind}:${what.id}`);
      const first = new Promise<void>((resolve) => (firstOutcome = resolve));
      control = new DynsecControl(opts.url, opts.timeoutMs);
      // Logged once per outage, not at every reconnect attempt (2 s apart).
      let wasOnline = true;
      control.onReady = () => {
        wasOnline = true;
        log.info('connected to Mosquitto dynamic security');
        resyncWanted = true;
        gauge();
        kick(0);
      };
      control.onOffline = (reason) => {
        if (wasOnline) log.warn({ reason }, 'Mosquitto dynamic security unreachable; changes are kept and retried');
        wasOnline = false;
        firstOutcome?.();
      };
      scheduleResync();
      gauge();
      await first;
      firstOutcome = null;
    },
    async stop() {
      stopped = true;
      for (const off of offs) off();
      vault.onChange = undefined;
      if (timer !== null) clock.clearTimer(timer);
      if (resyncTimer !== null) clock.clearTimer(resyncTimer);
      await control?.close();
    },
    settled() {
      if (pending() === 0 && !running && control?.connected) return Promise.resolve();
      return new Promise((resolve) => settledWaiters.push(resolve));
    },
    pending,
  };
}

function dynsecMetrics(registry: PromRegistry) {
  const existing = registry.getSingleMetric('lastseen_dynsec_commands_total');
  if (existing) {
    return {
      commands: existing as Counter<'command' | 'result'>,
      pending: registry.getSingleMetric('lastseen_dynsec_pending_changes') as Gauge,
    };
  }
  return {
    commands: new Counter({
      name: 'lastseen_dynsec_commands_total',
      help: 'Dynamic-security commands sent to Mosquitto, by command and result (ok, error: refused by Mosquitto, timeout, failed: not sent; plan/rejected: an id unsafe in an ACL; plan/conflict: a client of that name is the operator own)',
      labelNames: ['command', 'result'] as const,
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'lastseen_dynsec_pending_changes',
      help: 'Devices and customers whose dynsec client is not yet confirmed by Mosquitto (a pending full resync counts 1)',
      registers: [registry],
    }),
  };
}
