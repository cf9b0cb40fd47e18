// The Lua of the flow gate (flow-gate.ts). Each script runs atomically in Redis, so the
// check and the write of a slot or of a rate-window entry can never interleave between
// workers. Times come from Redis (`TIME`), never from the workers' clocks.
//
// Keys of one group: `slots` (sorted set: member = BullMQ job id, score = lease expiry in
// ms), `waiting` (sorted set: member = job id, score = BullMQ priority × 2^31 + arrival
// number, so lowest first = best priority, then first come), `seq` (the arrival counter),
// `rate` (sorted set: one member per admitted start, score = its time).

/** `now` in ms from the Redis clock, and `handOff`, shared by the scripts below. */
const PRELUDE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Drops expired slots (dead workers), then gives each free slot to the best waiter whose
-- job still exists, reserving it for a lease; \`self\` (a job id or '') takes its slot
-- itself. Returns whether \`self\` got one; appends the others to \`promoted\`.
local function handOff(slots, waiting, limit, lease, jobKeyPrefix, self, promoted)
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  local free = limit - redis.call('ZCARD', slots)
  local took = false
  while free > 0 do
    local head = redis.call('ZRANGE', waiting, 0, 0)[1]
    if not head then break end
    redis.call('ZREM', waiting, head)
    if head == self then
      took = true
      free = free - 1
    elseif redis.call('EXISTS', jobKeyPrefix .. head) == 1 then
      redis.call('ZADD', slots, string.format('%.0f', now + lease), head)
      promoted[#promoted + 1] = head
      free = free - 1
    end
  end
  return took
end
`;

/**
 * Admits a job, or says why not. KEYS: slots, waiting, seq, rate, rate-waiting. ARGV: job
 * id, concurrency limit (0: none), lease ms, BullMQ priority, rate limit (0: none),
 * interval ms, rate member, job key prefix. Returns `{ code, value, promoted }`: code 1 =
 * run (value = the start's time), 2 = parked in the group's waiting list (value = its
 * rank there, 0 first), 3 = over the rate limit (value = ms to wait). `promoted` =
 * waiters handed a slot.
 */
export const ACQUIRE_SCRIPT = `${PRELUDE}
local slots, waiting, seq, rate, rateWaiting = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local jobId = ARGV[1]
local limit = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local priority = tonumber(ARGV[4])
local rateLimit = tonumber(ARGV[5])
local interval = tonumber(ARGV[6])
local jobKeyPrefix = ARGV[8]
local promoted = {}

-- Rate: a sliding window of the starts of the last \`interval\` ms.
local wait = 0
if rateLimit > 0 then
  redis.call('ZREMRANGEBYSCORE', rate, '-inf', now - interval)
  local count = redis.call('ZCARD', rate)
  if count >= rateLimit then
    local gate = redis.call('ZRANGE', rate, count - rateLimit, count - rateLimit, 'WITHSCORES')
    wait = math.max(1, tonumber(gate[2]) + interval - now)
    -- Behind the jobs told to come back before it (\`rateLimit\` of them per window); a
    -- job sent back again keeps its place before those told after it.
    local own = redis.call('ZSCORE', rateWaiting, jobId)
    redis.call('ZREM', rateWaiting, jobId)
    redis.call('ZREMRANGEBYSCORE', rateWaiting, '-inf', now - interval)
    local ahead
    if own then
      ahead = redis.call('ZCOUNT', rateWaiting, '-inf', '(' .. own)
    else
      ahead = redis.call('ZCARD', rateWaiting)
    end
    wait = wait + math.floor(ahead / rateLimit) * interval
    redis.call('ZADD', rateWaiting, string.format('%.0f', now + wait), jobId)
    if redis.call('PTTL', rateWaiting) < wait + interval then
      redis.call('PEXPIRE', rateWaiting, wait + interval)
    end
  end
end

if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  local holds = redis.call('ZSCORE', slots, jobId)
  if wait > 0 then
    -- Not starting now: a slot handed to it goes on to the next waiter.
    redis.call('ZREM', waiting, jobId)
    if holds then
      redis.call('ZREM', slots, jobId)
      handOff(slots, waiting, limit, lease, jobKeyPrefix, '', promoted)
    end
    return {3, wait, promoted}
  end
  if not holds then
    if not redis.call('ZSCORE', waiting, jobId) then
      local arrival = redis.call('INCR', seq) % 2147483648
      redis.call('ZADD', waiting, string.format('%.0f', priority * 2147483648 + arrival), jobId)
    end
    if not handOff(slots, waiting, limit, lease, jobKeyPrefix, jobId, promoted) then
      return {2, redis.call('ZRANK', waiting, jobId), promoted}
    end
  end
  redis.call('ZADD', slots, string.format('%.0f', now + lease), jobId)
elseif wait > 0 then
  return {3, wait, promoted}
end

if rateLimit > 0 then
  redis.call('ZADD', rate, string.format('%.0f', now), ARGV[7])
  redis.call('PEXPIRE', rate, interval)
  redis.call('ZREM', rateWaiting, jobId)
end
return {1, now, promoted}
`;

/**
 * Gives a slot back and hands the free slots to the best waiters. KEYS: slots, waiting.
 * ARGV: job id, limit, lease ms, job key prefix. Returns the waiters handed a slot.
 */
export const RELEASE_SCRIPT = `${PRELUDE}
local promoted = {}
redis.call('ZREM', KEYS[1], ARGV[1])
handOff(KEYS[1], KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], '', promoted)
return promoted
`;

/**
 * Extends a running job's slot to now + lease. The job runs, so it is counted even when
 * its lease had lapsed meanwhile (an event loop blocked past it): the group may then be
 * over its limit until it ends, and no other job starts meanwhile. KEYS: slots. ARGV:
 * job id, lease ms.
 */
export const RENEW_SCRIPT = `${PRELUDE}
return redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
`;
