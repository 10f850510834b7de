import type { Redis } from 'ioredis';
import { BUCKETS } from './keys.ts';

/**
 * The cluster's decisions, each one Lua script: Redis runs a script alone, start to end, so a
 * transition a script makes is seen by exactly one caller — whichever worker asked, whichever
 * received the heartbeats. The state format is ./keys.ts's.
 *
 * heartbeats (a batch)   per heartbeat received at r, heard no earlier than h (h = r, except
 *                        from a worker that woke from a stall at w: ./cluster-liveness.ts),
 *                        state (s, lastSeen, since):
 *   no state                         → online since r                 transition unknown → online
 *   r ≤ lastSeen                     → nothing (older than one applied: order across workers)
 *   offline since S, h < S           → stale: lastSeen = max(lastSeen, h), still offline (the
 *                                      outage was decided while this heartbeat sat in a stopped
 *                                      worker or its socket; it is history)
 *   online / late, h < r, h ≤ lastSeen < w
 *                                    → nothing: another worker heard the device after this one
 *                                      may have come, and nobody since the wake; taken at r it
 *                                      would move the deadline of a device silent since then past
 *                                      its time (lastSeen ≥ w: heard since, by this worker too —
 *                                      alone, its first heartbeats after waking set lastSeen)
 *   online                           → lastSeen = r, deadline moves   no transition
 *   late / offline (h ≥ S)           → online since r                 transition, and a recovery
 *                                                                     entry in the stream for offline
 *   the deadline: lastSeen + lateAfter (to late), else lastSeen + offlineAfter (to offline)
 *
 * due (now, limit)       per device whose deadline ≤ now, recomputed from its state:
 *   online with a late phase         → late since the deadline; next: lastSeen + offlineAfter
 *   online (no late) or late         → offline since the deadline; no deadline; an offline entry
 *                                      is added to the stream in the same script, so an outage is
 *                                      never decided without its alert, nor alerted twice
 *   recomputed deadline > now        → not due: the set's score is repaired
 *
 * A worker stopped (SIGSTOP) before a script reaches Redis decides nothing stale: the script
 * runs against the state as it is when it arrives, and a heartbeat it carries that is older
 * than an offline decided meanwhile is the stale row above. Heartbeats that were still in its
 * socket (or queued for it at the broker) get their receipt time only when it wakes; their
 * h, the last moment it was seen running, is what keeps them from passing for new ones.
 */
const COMMON = `
local D = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(n)
  n = math.floor(n)
  if n <= 0 then return '0' end
  local s = ''
  while n > 0 do
    local r = n % 36
    s = string.sub(D, r + 1, r + 1) .. s
    n = math.floor(n / 36)
  end
  return s
end
local function fields(v)
  local f, start = {}, 2
  while true do
    local c = string.find(v, ',', start, true)
    if not c then f[#f + 1] = string.sub(v, start); break end
    f[#f + 1] = string.sub(v, start, c - 1)
    start = c + 1
  end
  return f
end
local function bucket(prefix, id)
  local h = 0
  for i = 1, #id do h = (h * 31 + string.byte(id, i)) % ${BUCKETS} end
  return prefix .. h
end
local function pack(letter, seen, since, off, late)
  return letter .. b36(seen) .. ',' .. b36(since) .. ',' .. b36(off) .. ',' .. ((late and late >= 0) and b36(late) or '')
end
`;

/** KEYS: deadlines, alerts. ARGV: bucket prefix, n, then n × (id, receivedAt, heardAfter, wokeAt or -1, offlineAfterMs, lateAfterMs or -1). */
const HEARTBEATS = `${COMMON}
local out = {}
local earliest = -1
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local a = 3 + i * 6
  local id = ARGV[a]
  local r, h, w = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local off, late = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local bk = bucket(ARGV[1], id)
  local v = redis.call('HGET', bk, id)
  local from, seen, since = 'u', -1, 0
  if v then
    local f = fields(v)
    from, seen, since = string.sub(v, 1, 1), tonumber(f[1], 36), tonumber(f[2], 36)
  end
  if r <= seen then
    -- older than a heartbeat already applied
  elseif from == 'x' and h < since then
    if h > seen then redis.call('HSET', bk, id, pack('x', h, since, off, late)) end
    out[#out + 1] = id; out[#out + 1] = from; out[#out + 1] = 's'; out[#out + 1] = h; out[#out + 1] = seen
  elseif h < r and (from == 'o' or from == 'l') and h <= seen and seen < w then
    -- heard by another worker since this one may have come (see the table)
  else
    local newSince = since
    if from ~= 'o' then newSince = r end
    redis.call('HSET', bk, id, pack('o', r, newSince, off, late))
    local dl = r + off
    if late >= 0 then dl = r + late end
    redis.call('ZADD', KEYS[1], dl, id)
    if earliest < 0 or dl < earliest then earliest = dl end
    if from ~= 'o' then
      out[#out + 1] = id; out[#out + 1] = from; out[#out + 1] = 'o'; out[#out + 1] = r; out[#out + 1] = seen
      if from == 'x' then
        redis.call('XADD', KEYS[2], '*', 't', 'online', 'd', id, 'at', r, 'ls', seen, 'since', since)
      end
    end
  end
end
table.insert(out, 1, earliest)
return out
`;

/** KEYS: deadlines, alerts. ARGV: bucket prefix, now, limit. */
const DUE = `${COMMON}
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
local out = {}
for j = 1, #due, 2 do
  local id = due[j]
  local bk = bucket(ARGV[1], id)
  local v = redis.call('HGET', bk, id)
  if not v then
    redis.call('ZREM', KEYS[1], id)
  else
    local s = string.sub(v, 1, 1)
    local f = fields(v)
    local seen, off = tonumber(f[1], 36), tonumber(f[3], 36)
    local late = -1
    if f[4] ~= '' then late = tonumber(f[4], 36) end
    local at, to = nil, nil
    if s == 'o' and late >= 0 then at, to = seen + late, 'l'
    elseif s == 'o' or s == 'l' then at, to = seen + off, 'x' end
    if not at then
      redis.call('ZREM', KEYS[1], id)
    elseif at > now then
      redis.call('ZADD', KEYS[1], at, id)
    else
      redis.call('HSET', bk, id, pack(to, seen, at, off, late))
      if to == 'l' then redis.call('ZADD', KEYS[1], seen + off, id) else redis.call('ZREM', KEYS[1], id) end
      out[#out + 1] = id; out[#out + 1] = s; out[#out + 1] = to; out[#out + 1] = at; out[#out + 1] = seen
      if to == 'x' then
        redis.call('XADD', KEYS[2], '*', 't', 'offline', 'd', id, 'at', at, 'ls', seen)
      end
    end
  end
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
table.insert(out, 1, #due / 2)
table.insert(out, 1, nxt[2] or -1)
return out
`;

/**
 * A worker joins or refreshes: if no worker is alive (the key expired with the last one), the
 * cluster (re)starts now and restart grace counts from here; the worker's own refresh time is
 * noted (./adoption.ts). KEYS: alive, since, workers. ARGV: now, ttlMs, worker.
 */
const JOIN = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[1])
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
return redis.call('GET', KEYS[2])
`;

/**
 * Claim another worker's queue (./adoption.ts): only if its last refresh is older than
 * `staleMs`, its queue was not drained after that refresh already, and nobody holds the lease.
 * KEYS: workers, adopted, lease. ARGV: worker, me, now, staleMs, leaseMs. → its last refresh, or -1.
 */
const ADOPT = `
local t = redis.call('HGET', KEYS[1], ARGV[1])
if not t then return -1 end
if tonumber(ARGV[3]) - tonumber(t) < tonumber(ARGV[4]) then return -1 end
if redis.call('HGET', KEYS[2], ARGV[1]) == t then return -1 end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[5]) then return tonumber(t) end
return -1
`;

/** Keep the lease while draining. KEYS: lease. ARGV: me, leaseMs. 1 = still ours. */
const ADOPT_RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/**
 * The queue is drained (or its worker took it back): noted against the refresh it was claimed
 * after, and the lease let go; a complete drain is also noted in `drained`, for the worker
 * itself when it wakes (./cluster-liveness.ts). KEYS: adopted, lease, drained. ARGV: worker, me,
 * refresh, outcome.
 */
const ADOPTED = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] == 'drained' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
`;

/**
 * Taking up entries, and the fence before a delivery: each entry must still be pending with this
 * worker (another may have taken it over while this one was stopped); if so its idle time is
 * reset and it is held until Redis's now + the lease, so nobody takes it meanwhile. All the
 * entries of one read are taken up in one call. KEYS: alerts, held. ARGV: group, consumer,
 * leaseMs, then the entry ids. → per id, in order: 1 = go, 0 = fenced.
 */
const RENEW = `
local t = redis.call('TIME')
local until_ = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if p[1] == nil or p[1][2] ~= ARGV[2] then
    out[#out + 1] = 0
  else
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
    redis.call('HSET', KEYS[2], id, until_)
    out[#out + 1] = 1
  end
end
return out
`;
const TAKE_UNHELD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[5])
local p = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', tonumber(ARGV[3]), ARGV[4], '+', count)
local taken = {}
for _, e in ipairs(p) do
  if e[2] ~= ARGV[2] then
    local until_ = redis.call('HGET', KEYS[2], e[1])
    if not until_ or tonumber(until_) < now then
      for _, x in ipairs(redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), e[1])) do taken[#taken + 1] = x end
    end
  end
end
local nextStart = '0'
if #p == count then nextStart = '(' .. p[#p][1] end
return {nextStart, taken}
`;

/**
 * An entry is done: acknowledged and deleted (the stream holds only what is pending), its hold
 * gone, and the outcome noted for the recovery that may follow. KEYS: alerts, reported, held.
 * ARGV: group, entry id, device id, note ('' = none, 'del' = forget the device's note, else the
 * value to set).
 */
const DONE = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
if ARGV[4] == 'del' then redis.call('HDEL', KEYS[2], ARGV[3])
elseif ARGV[4] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end
return 1
`;

export interface ClusterCommands {
  lsHeartbeats(deadlines: string, alerts: string, ...args: (string | number)[]): Promise<(string | number)[]>;
  lsDue(deadlines: string, alerts: string, prefix: string, now: number, limit: number): Promise<(string | number)[]>;
  lsJoin(alive: string, since: string, workers: string, now: number, ttlMs: number, worker: string): Promise<string>;
  lsAdopt(
    workers: string,
    adopted: string,
    lease: string,
    worker: string,
    me: string,
    now: number,
    staleMs: number,
    leaseMs: number,
  ): Promise<number>;
  lsAdoptRenew(lease: string, me: string, leaseMs: number): Promise<number>;
  lsAdopted(adopted: string, lease: string, drained: string, worker: string, me: string, refresh: number, outcome: string): Promise<number>;
  /** Per id, in order: 1 still pending with `consumer` and now held for `leaseMs`, 0 taken over by another. */
  lsRenew(alerts: string, held: string, group: string, consumer: string, leaseMs: number, ...ids: string[]): Promise<number[]>;
  lsTakeUnheld(
    alerts: string,
    held: string,
    group: string,
    consumer: string,
    minIdle: number,
    start: string,
    count: number,
  ): Promise<[string, [string, string[]][]]>;
  lsDone(alerts: string, reported: string, held: string, group: string, id: string, deviceId: string, note: string): Promise<number>;
}

export type ClusterRedis = Redis & ClusterCommands;

/** Register the scripts on a connection (ioredis sends EVALSHA, and the source once if Redis lacks it). */
export function withScripts(redis: Redis): ClusterRedis {
  redis.defineCommand('lsHeartbeats', { numberOfKeys: 2, lua: HEARTBEATS });
  redis.defineCommand('lsDue', { numberOfKeys: 2, lua: DUE });
  redis.defineCommand('lsJoin', { numberOfKeys: 3, lua: JOIN });
  redis.defineCommand('lsAdopt', { numberOfKeys: 3, lua: ADOPT });
  redis.defineCommand('lsAdoptRenew', { numberOfKeys: 1, lua: ADOPT_RENEW });
  redis.defineCommand('lsAdopted', { numberOfKeys: 3, lua: ADOPTED });
  redis.defineCommand('lsRenew', { numberOfKeys: 2, lua: RENEW });
  redis.defineCommand('lsTakeUnheld', { numberOfKeys: 2, lua: TAKE_UNHELD });
  redis.defineCommand('lsDone', { numberOfKeys: 3, lua: DONE });
  return redis as ClusterRedis;
}
