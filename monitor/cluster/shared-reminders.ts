import type { Redis } from 'ioredis';
import { CLAIM_MS, clusterKeys, type ClusterKeys } from './keys.ts';

/**
 * Claim the outage's reminder, and if the claim is new, append its delivery to the alert queue —
 * both or neither. Redis runs a script alone, so no other worker's claim comes between the two;
 * but a script does not undo what it wrote when a later command fails, so a refused XADD (a key
 * of the wrong type, Redis out of memory) gives the claim back, and the reminder is claimed again
 * by the next pass instead of being lost to a claim without its entry.
 * Returns 1 when this call claimed it, 0 when someone did before.
 *
 * KEYS: claim, alert queue stream.
 * ARGV: who claims it, claim ms, then the queue entry's fields.
 */
const REMIND = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local entry = {KEYS[2], '*'}
for i = 3, #ARGV do entry[#entry + 1] = ARGV[i] end
local added = redis.pcall('XADD', unpack(entry))
if type(added) == 'table' and added.err then
  redis.call('DEL', KEYS[1])
  return added
end
return 1
`;

interface RemindCommand {
  lsRemind(claim: string, alerts: string, ...args: (string | number)[]): Promise<number>;
}

/** One reminder as a worker's reminder pass (./reminders.ts) decided it. */
export interface ReminderClaim {
  /** The open `device.offline` alert it reminds of. */
  offlineId: string;
  deviceId: string;
  /** When the outage began (the offline alert's `at`): the delivery checks the device is still in it. */
  outageAt: number;
  /** The offline alert's lastSeen, which the reminder renders. */
  lastSeen: number | null;
  /** When it was decided: the reminder's `at`. */
  at: number;
}

export interface SharedRemindersOptions {
  redis: Redis;
  worker: string;
  prefix?: string;
}

/**
 * Reminders in a cluster. Every worker's alerts.db holds every cluster alert (the history
 * replica) and every worker mirrors every device's status, so every worker's reminder pass finds
 * the same outage due at the same moment; one Redis key per offline alert decides which worker
 * reminds of it.
 *
 *   `{p}rem:{offline alert id}`   claim         then
 *   ---------------------------   ------------  ------------------------------------------------
 *   absent                        this worker   one `reminder` entry on the alert queue, sent
 *                                               once by whichever worker takes it
 *                                               (./alert-queue.ts), taken over if that worker
 *                                               dies; its record reaches every history
 *   set (by any worker)           nobody        nothing: that worker's entry is queued already
 */
export class SharedReminders {
  private keys: ClusterKeys;
  private redis: Redis & RemindCommand;

  constructor(private o: SharedRemindersOptions) {
    this.keys = clusterKeys(o.prefix);
    o.redis.defineCommand('lsRemind', { numberOfKeys: 2, lua: REMIND });
    this.redis = o.redis as Redis & RemindCommand;
  }

  /** True when this call claimed the reminder (and queued it); false when it was claimed before. */
  async claim(r: ReminderClaim): Promise<boolean> {
    const entry = ['t', 'reminder', 'd', r.deviceId, 'a', r.offlineId, 'at', String(r.at), 'since', String(r.outageAt)];
    if (r.lastSeen !== null) entry.push('ls', String(r.lastSeen));
    const won = await this.redis.lsRemind(this.keys.reminder(r.offlineId), this.keys.alerts, `r:${this.o.worker}`, CLAIM_MS, ...entry);
    return won === 1;
  }
}
