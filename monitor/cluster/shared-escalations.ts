import type { Redis } from 'ioredis';
import type { DeskAction } from '../alerts/desk-actions.ts';
import type { EscalationDecision, EscalationWrites } from '../alerts/escalation.ts';
import { CLAIM_MS, clusterKeys, type ClusterKeys } from './keys.ts';
import { deskFields, type SharedDesk } from './shared-desk.ts';

/**
 * Claim the alert, and if the claim is new, append the escalation's case-log record to the desk
 * stream and its delivery to the alert queue — all three or none, as Redis runs a script alone.
 * Returns the desk record's id, or nil when the alert was claimed before (escalated already, or
 * acknowledged or resolved first: ./shared-desk.ts claims it then).
 *
 * KEYS: claim, desk stream, alert queue stream.
 * ARGV: worker, claim ms, desk MAXLEN, n, the desk record's n fields, then the queue entry's fields.
 */
const ESCALATE = `
if not redis.call('SET', KEYS[1], 'e:' .. ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local n = tonumber(ARGV[4])
local desk = {KEYS[2], 'MAXLEN', '~', ARGV[3], '*'}
for i = 5, 4 + n do desk[#desk + 1] = ARGV[i] end
local id = redis.call('XADD', unpack(desk))
local entry = {KEYS[3], '*'}
for i = 5 + n, #ARGV do entry[#entry + 1] = ARGV[i] end
redis.call('XADD', unpack(entry))
return id
`;

interface EscalateCommand {
  lsEscalate(claim: string, desk: string, alerts: string, ...args: (string | number)[]): Promise<string | null>;
}

export interface SharedEscalationsOptions {
  redis: Redis;
  /** This worker's replica of the desk: the winner applies its own record at once (read-your-writes). */
  desk: SharedDesk;
  worker: string;
  prefix?: string;
}

/**
 * Escalation in a cluster. Every worker's alerts.db holds every cluster alert (the history
 * replica) and every ack (the desk replica), so every worker's escalator finds the same alert
 * due at the same moment; one Redis key per alert decides which worker escalates it, if any.
 *
 *   first to claim `{p}esc:{alert id}`          then
 *   ------------------------------------------  ----------------------------------------------
 *   an escalator (ESCALATE above)               its record on the desk stream (every worker's
 *                                               case log: escalated, to which channels) and
 *                                               one entry on the alert queue, sent once by
 *                                               whichever worker takes it (./alert-queue.ts),
 *                                               taken over if that worker dies
 *   an ack or a manual resolve (./shared-desk)  no escalation, whichever worker's escalator
 *                                               runs later and whatever its replica has seen
 *   another escalator                           nothing: the first one's record is on its way
 *                                               to this worker's journal
 *
 * So an ack taken on worker A a millisecond before worker B's escalator fires holds back the
 * escalation although B's alerts.db has not heard of the ack yet: Redis saw the ack first.
 */
export class SharedEscalations implements EscalationWrites {
  private keys: ClusterKeys;
  private redis: Redis & EscalateCommand;

  constructor(private o: SharedEscalationsOptions) {
    this.keys = clusterKeys(o.prefix);
    o.redis.defineCommand('lsEscalate', { numberOfKeys: 3, lua: ESCALATE });
    this.redis = o.redis as Redis & EscalateCommand;
  }

  async escalate(d: EscalationDecision): Promise<boolean> {
    const a = d.alert;
    const action: DeskAction = { kind: 'escalation', alertId: a.id, customerId: a.customerId, by: 'escalation', text: d.text, at: d.at };
    const record = [...deskFields(action), 'w', this.o.worker];
    const entry = ['t', 'escalation', 'd', a.deviceId ?? '', 'a', a.id, 'at', String(d.at), 'after', String(d.afterMs)];
    const id = await this.redis.lsEscalate(
      this.keys.escalation(a.id),
      this.keys.desk,
      this.keys.alerts,
      this.o.worker,
      CLAIM_MS,
      this.o.desk.maxLen,
      record.length,
      ...record,
      ...entry,
    );
    if (id === null) return false;
    this.o.desk.applyAppended(id, action);
    return true;
  }
}
