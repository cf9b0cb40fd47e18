/*
 * The Lua scripts of RedisStore. Every script receives the store's key base (e.g.
 * `{au}`) as ARGV[1] and builds the keys it touches from it; the base carries a hash
 * tag, so every key a script touches sits in one slot (Redis Cluster).
 *
 * Layout under the base:
 *   :r:<key>       hash, one field per record field, each value JSON-encoded
 *   :i:all         sorted set of every key, scored by createdAt (ties by key)
 *   :i:s:<status>  sorted set per status
 *   :i:t:<task>    sorted set per task
 *   :i:g:<tag>     sorted set per tag
 *   :exp           sorted set of keys with an expiresAt, scored by it
 *   :expinfo       hash key -> [task, tags] of those records, to clean their index
 *                  entries after Redis has expired the record itself
 *   :c:<key>       pub/sub channel: each new version of the record, as JSON
 */

// Each script starts with only the helpers it uses: Redis runs a script's whole text on
// every call, and defining every helper and table costs each call about 15 µs.

/** The key base, and JSON field values. */
const core = `
local base = ARGV[1]
local function decode(raw)
  if raw == false or raw == nil then return nil end
  return cjson.decode(raw)
end
local function expired(raw, now)
  return raw and tonumber(raw) <= now
end
`;

/** The record as one JSON object: the stored field values are JSON already. */
const toJson = `
local function to_json(k)
  local flat = redis.call('HGETALL', k)
  local parts = {}
  for i = 1, #flat, 2 do
    parts[#parts + 1] = '"' .. flat[i] .. '":' .. flat[i + 1]
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
`;

/** Expiry bookkeeping: the :exp index and the record's native TTL. */
const expiry = `
local expz = base .. ':exp'
local expinfo = base .. ':expinfo'
local function forget_expiry(key)
  redis.call('ZREM', expz, key)
  redis.call('HDEL', expinfo, key)
end
-- Mirrors the record's expiresAt onto the key's native TTL and the :exp index.
local function sync_expiry(k, key)
  local f = redis.call('HMGET', k, 'expiresAt', 'task', 'tags')
  if f[1] then
    local at = string.format('%.0f', math.ceil(tonumber(f[1])))
    redis.call('ZADD', expz, at, key)
    redis.call('HSET', expinfo, key, '[' .. f[2] .. ',' .. (f[3] or 'null') .. ']')
    redis.call('PEXPIREAT', k, at)
  else
    forget_expiry(key)
    redis.call('PERSIST', k)
  end
end
`;

/** Index upkeep when records appear and disappear (needs the expiry helpers). */
const indexes = `
local function rkey(k) return base .. ':r:' .. k end
local allidx = base .. ':i:all'
local statuses = { 'pending', 'running', 'completed', 'failed', 'cancelled' }

local function unindex(key, status, task, tags, allStatuses)
  redis.call('ZREM', allidx, key)
  if allStatuses then
    for _, s in ipairs(statuses) do redis.call('ZREM', base .. ':i:s:' .. s, key) end
  elseif status then
    redis.call('ZREM', base .. ':i:s:' .. status, key)
  end
  if task then redis.call('ZREM', base .. ':i:t:' .. task, key) end
  if type(tags) == 'table' then
    for _, tag in ipairs(tags) do redis.call('ZREM', base .. ':i:g:' .. tag, key) end
  end
end

-- Removes the index entries a record left behind after Redis expired it.
local function clean_stale(key)
  local info = redis.call('HGET', expinfo, key)
  if info then
    local parsed = cjson.decode(info)
    unindex(key, nil, parsed[1], parsed[2], true)
    forget_expiry(key)
  end
end

-- Removes a record that still exists, with all its index entries.
local function drop(k, key)
  local f = redis.call('HMGET', k, 'status', 'task', 'tags')
  unindex(key, decode(f[1]), decode(f[2]), decode(f[3]), false)
  redis.call('DEL', k)
  forget_expiry(key)
end

-- Whether a live (unexpired) record has this key.
local function live(k, now)
  return redis.call('EXISTS', k) == 1 and not expired(redis.call('HGET', k, 'expiresAt'), now)
end

-- Writes a new record and indexes it; an expired one under the key is dropped first.
local function insert(k, key, fields)
  if redis.call('EXISTS', k) == 1 then drop(k, key) else clean_stale(key) end
  redis.call('HSET', k, unpack(fields))
  local f = redis.call('HMGET', k, 'status', 'task', 'tags', 'createdAt', 'expiresAt')
  local score = f[4]
  redis.call('ZADD', allidx, score, key)
  redis.call('ZADD', base .. ':i:s:' .. decode(f[1]), score, key)
  redis.call('ZADD', base .. ':i:t:' .. decode(f[2]), score, key)
  local tags = decode(f[3])
  if type(tags) == 'table' then
    for _, tag in ipairs(tags) do redis.call('ZADD', base .. ':i:g:' .. tag, score, key) end
  end
  -- A new hash has no TTL and no :exp entry: only an expiresAt needs syncing.
  if f[5] then sync_expiry(k, key) end
end
`;

/** The status machine's transitions (core's canTransition). */
const transitions = `
local terminal = { completed = true, failed = true, cancelled = true }
local allowed = {
  pending = { running = true, failed = true, cancelled = true },
  running = { pending = true, completed = true, failed = true, cancelled = true },
}
`;

/**
 * KEYS[1] record key. ARGV: base, key, now, then field/value pairs.
 * Returns 1 when created, 0 when a live record has the key.
 */
export const createScript = `${core}${expiry}${indexes}
local k = KEYS[1]
local key = ARGV[2]
if live(k, tonumber(ARGV[3])) then return 0 end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
insert(k, key, fields)
return 1
`;

/**
 * All or none. ARGV: base, now, then per record: key, number of field/value pairs, the
 * pairs. Returns 1 when every record was created, else the first key that has a live
 * record (and nothing is written).
 */
export const createManyScript = `${core}${expiry}${indexes}
local now = tonumber(ARGV[2])
local records = {}
local i = 3
while i <= #ARGV do
  local key = ARGV[i]
  local n = tonumber(ARGV[i + 1]) * 2
  if live(rkey(key), now) then return key end
  records[#records + 1] = { key, i + 2, i + 1 + n }
  i = i + 2 + n
end
for _, r in ipairs(records) do
  local fields = {}
  for j = r[2], r[3] do fields[#fields + 1] = ARGV[j] end
  insert(rkey(r[1]), r[1], fields)
end
return 1
`;

/**
 * The executor's claim (core's applyClaim, in Lua). KEYS[1] record key. ARGV: base,
 * key, now, reclaimRunning ('1'/'0'), startedAt. Returns nil when there is no live
 * record, else { 1 when claimed or 0, the record as JSON }.
 */
export const claimScript = `${core}${toJson}
local k = KEYS[1]
local key = ARGV[2]
local f = redis.call('HMGET', k, 'status', 'expiresAt', 'createdAt', 'attempt', 'runAt')
if not f[1] then return false end
if expired(f[2], tonumber(ARGV[3])) then return false end
local status = decode(f[1])
if not (status == 'pending' or (ARGV[4] == '1' and status == 'running')) then return { 0, to_json(k) } end
local attempt = (tonumber(f[4]) or 0) + 1
redis.call('HSET', k, 'status', '"running"', 'attempt', string.format('%d', attempt), 'startedAt', ARGV[5])
if f[5] then redis.call('HDEL', k, 'runAt') end
if status ~= 'running' then
  redis.call('ZREM', base .. ':i:s:' .. status, key)
  redis.call('ZADD', base .. ':i:s:running', f[3], key)
end
local json = to_json(k)
redis.call('PUBLISH', base .. ':c:' .. key, json)
return { 1, json }
`;

/**
 * The conditional update: core's applyPatch, in Lua.
 * KEYS[1] record key. ARGV: base, key, now, ifStatus (JSON array or 'null'),
 * touchesValueOrError ('1'/'0'), number of set pairs, set pairs..., fields to remove...
 * Returns the new record as JSON, or false when nothing was written.
 */
export const updateScript = `${core}${toJson}${expiry}${transitions}
local k = KEYS[1]
local key = ARGV[2]
local now = tonumber(ARGV[3])
local f = redis.call('HMGET', k, 'status', 'expiresAt', 'createdAt', 'tags')
if not f[1] then return false end
if expired(f[2], now) then return false end
local status = decode(f[1])
local ifStatus = decode(ARGV[4])
if type(ifStatus) == 'table' then
  local found = false
  for _, s in ipairs(ifStatus) do if s == status then found = true end end
  if not found then return false end
end
local setCount = tonumber(ARGV[6])
local sets = {}
local newStatus = nil
local touchesTags = false
local touchesExpiry = false
for i = 7, 6 + setCount * 2, 2 do
  local name = ARGV[i]
  sets[#sets + 1] = name
  sets[#sets + 1] = ARGV[i + 1]
  if name == 'status' then newStatus = decode(ARGV[i + 1]) end
  if name == 'tags' then touchesTags = true end
  if name == 'expiresAt' then touchesExpiry = true end
end
local removes = {}
for i = 7 + setCount * 2, #ARGV do
  removes[#removes + 1] = ARGV[i]
  if ARGV[i] == 'tags' then touchesTags = true end
  if ARGV[i] == 'expiresAt' then touchesExpiry = true end
end
if newStatus ~= nil and newStatus ~= status then
  local next = allowed[status]
  if next == nil or not next[newStatus] then return false end
end
if terminal[status] and ARGV[5] == '1' then return false end
if #sets > 0 then redis.call('HSET', k, unpack(sets)) end
if #removes > 0 then redis.call('HDEL', k, unpack(removes)) end
if newStatus ~= nil and newStatus ~= status then
  redis.call('ZREM', base .. ':i:s:' .. status, key)
  redis.call('ZADD', base .. ':i:s:' .. newStatus, f[3], key)
end
if touchesTags then
  local old = decode(f[4])
  if type(old) == 'table' then
    for _, tag in ipairs(old) do redis.call('ZREM', base .. ':i:g:' .. tag, key) end
  end
  local new = decode(redis.call('HGET', k, 'tags'))
  if type(new) == 'table' then
    for _, tag in ipairs(new) do redis.call('ZADD', base .. ':i:g:' .. tag, f[3], key) end
  end
end
if touchesExpiry or (touchesTags and f[2]) then sync_expiry(k, key) end
local json = to_json(k)
redis.call('PUBLISH', base .. ':c:' .. key, json)
return json
`;

/** KEYS[1] record key. ARGV: base, key, now. Returns 1 when a live record was removed. */
export const deleteScript = `${core}${expiry}${indexes}
local k = KEYS[1]
local key = ARGV[2]
local now = tonumber(ARGV[3])
if redis.call('EXISTS', k) == 1 then
  local live = not expired(redis.call('HGET', k, 'expiresAt'), now)
  drop(k, key)
  if live then return 1 end
  return 0
end
clean_stale(key)
return 0
`;

/**
 * KEYS: the driving indexes (merged newest first). ARGV: base, now, limit, budget,
 * cursor score or '', cursor key, statuses (JSON array or 'null'), task or '', tag or ''.
 * Walks the indexes from the cursor, loads each record's status/task/tags/expiry,
 * keeps the matching live ones, removes entries whose record is gone (expired), and
 * stops after limit + 1 matches or `budget` entries.
 * Returns { budgetHit, lastScore, lastKey, json... }.
 */
export const listScript = `${core}${toJson}${expiry}${indexes}
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local cursorScore = nil
if ARGV[5] ~= '' then cursorScore = tonumber(ARGV[5]) end
local cursorKey = ARGV[6]
local wanted = nil
local wantedList = decode(ARGV[7])
if type(wantedList) == 'table' then
  wanted = {}
  for _, s in ipairs(wantedList) do wanted[s] = true end
end
local task = ARGV[8]
local tag = ARGV[9]
local CHUNK = 100
local n = #KEYS
local ptr, buf, pos = {}, {}, {}
for i = 1, n do
  local start = 0
  if cursorScore ~= nil then
    start = redis.call('ZCOUNT', KEYS[i], '(' .. ARGV[5], '+inf')
    local same = redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[5], ARGV[5])
    for _, m in ipairs(same) do if m >= cursorKey then start = start + 1 end end
  end
  ptr[i] = start
  buf[i] = {}
  pos[i] = 1
end
local function peek(i)
  if pos[i] > #buf[i] then
    local r = redis.call('ZREVRANGE', KEYS[i], ptr[i], ptr[i] + CHUNK - 1, 'WITHSCORES')
    buf[i] = {}
    pos[i] = 1
    for j = 1, #r, 2 do buf[i][#buf[i] + 1] = { r[j], tonumber(r[j + 1]), r[j + 1] } end
    ptr[i] = ptr[i] + #buf[i]
    if #buf[i] == 0 then return nil end
  end
  return buf[i][pos[i]]
end
local function matches(f)
  if wanted ~= nil and not wanted[decode(f[1])] then return false end
  if task ~= '' and decode(f[2]) ~= task then return false end
  if tag ~= '' then
    local tags = decode(f[3])
    if type(tags) ~= 'table' then return false end
    for _, t in ipairs(tags) do if t == tag then return true end end
    return false
  end
  return true
end
local out = {}
local scanned = 0
local budgetHit = 0
local lastScore, lastKey = '', ''
local stale = {}
local seen = {}
while #out <= limit do
  local bi, be = nil, nil
  for i = 1, n do
    local e = peek(i)
    if e and (be == nil or e[2] > be[2] or (e[2] == be[2] and e[1] > be[1])) then bi, be = i, e end
  end
  if be == nil then break end
  if scanned >= budget then budgetHit = 1 break end
  pos[bi] = pos[bi] + 1
  scanned = scanned + 1
  lastScore, lastKey = be[3], be[1]
  if not seen[be[1]] then
    seen[be[1]] = true
    local rk = rkey(be[1])
    local f = redis.call('HMGET', rk, 'status', 'task', 'tags', 'expiresAt')
    if not f[1] then
      stale[#stale + 1] = { KEYS[bi], be[1] }
    elseif not expired(f[4], now) and matches(f) then
      out[#out + 1] = to_json(rk)
    end
  end
end
for _, s in ipairs(stale) do redis.call('ZREM', s[1], s[2]) end
local result = { budgetHit, lastScore, lastKey }
for _, json in ipairs(out) do result[#result + 1] = json end
return result
`;

/**
 * ARGV: base, cutoff, batch. Removes up to `batch` records whose expiresAt is at or
 * before the cutoff (and the index entries of records Redis already expired).
 * Returns how many it removed.
 */
export const cleanupScript = `${core}${expiry}${indexes}
local keys = redis.call('ZRANGEBYSCORE', expz, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, key in ipairs(keys) do
  local k = rkey(key)
  if redis.call('EXISTS', k) == 1 then drop(k, key) else clean_stale(key) end
  forget_expiry(key)
end
return #keys
`;
