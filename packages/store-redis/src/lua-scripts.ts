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
 *   :n             pub/sub channel: each new record, as JSON (only while someone subscribes)
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

/**
 * The record read once into a table and kept in step with each write, so that a claim or
 * an update reads the hash once (one HGETALL) and builds its reply without reading again.
 */
const recordTable = `
local function load(k)
  local flat = redis.call('HGETALL', k)
  local fields, names = {}, {}
  for i = 1, #flat, 2 do
    fields[flat[i]] = flat[i + 1]
    names[#names + 1] = flat[i]
  end
  return { fields = fields, names = names }
end
local function put(r, name, value)
  if r.fields[name] == nil then r.names[#r.names + 1] = name end
  r.fields[name] = value
end
local function json_of(r)
  local parts = {}
  for _, name in ipairs(r.names) do
    local value = r.fields[name]
    if value ~= nil then parts[#parts + 1] = '"' .. name .. '":' .. value end
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
-- Mirrors the record's expiresAt onto the key's native TTL and the :exp index, from the
-- raw (JSON) values of its expiresAt, task and tags.
local function sync_expiry_of(k, key, expiresAt, task, tags)
  if expiresAt then
    local at = string.format('%.0f', math.ceil(tonumber(expiresAt)))
    redis.call('ZADD', expz, at, key)
    redis.call('HSET', expinfo, key, '[' .. task .. ',' .. (tags or 'null') .. ']')
    redis.call('PEXPIREAT', k, at)
  else
    forget_expiry(key)
    redis.call('PERSIST', k)
  end
end
local function sync_expiry(k, key)
  local f = redis.call('HMGET', k, 'expiresAt', 'task', 'tags')
  sync_expiry_of(k, key, f[1], f[2], f[3])
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

-- What is under a key: 'live', 'expired' (past expiresAt, not dropped by Redis yet) or nil.
local function presence(k, now)
  if redis.call('EXISTS', k) == 0 then return nil end
  if expired(redis.call('HGET', k, 'expiresAt'), now) then return 'expired' end
  return 'live'
end

-- New records go out on :n (watchAll) only while a connection of this server subscribes to
-- it, asked once per call: building each record's JSON for nobody was a tenth to a quarter
-- of a create's cost. (PUBSUB NUMSUB counts this server's subscribers only; the store's
-- subscriber connection is on the server it writes.)
local announcing = nil
local function announce(fields)
  if announcing == nil then announcing = redis.call('PUBSUB', 'NUMSUB', base .. ':n')[2] > 0 end
  if not announcing then return end
  local parts = {}
  for i = 1, #fields, 2 do parts[#parts + 1] = '"' .. fields[i] .. '":' .. fields[i + 1] end
  redis.call('PUBLISH', base .. ':n', '{' .. table.concat(parts, ',') .. '}')
end

-- Writes a new record and indexes it; an expired one under the key is dropped first.
-- The caller passes what the indexes need (status, task, score, tags as JSON or ''),
-- so nothing is read back and decoded.
local function insert(k, key, found, fields, status, task, score, tags, expires)
  if found == 'expired' then drop(k, key) else clean_stale(key) end
  redis.call('HSET', k, unpack(fields))
  redis.call('ZADD', allidx, score, key)
  redis.call('ZADD', base .. ':i:s:' .. status, score, key)
  redis.call('ZADD', base .. ':i:t:' .. task, score, key)
  if tags ~= '' then
    for _, tag in ipairs(cjson.decode(tags)) do redis.call('ZADD', base .. ':i:g:' .. tag, score, key) end
  end
  -- A new hash has no TTL and no :exp entry: only an expiresAt needs syncing.
  if expires == '1' then sync_expiry(k, key) end
  -- The new record, for watchAll (the field values are JSON already).
  announce(fields)
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
 * KEYS[1] record key. ARGV: base, key, now, then the index entry (status, task, score,
 * tags as JSON or '', has expiresAt '1'/'0'), then field/value pairs.
 * Returns 1 when created, 0 when a live record has the key.
 */
export const createScript = `${core}${expiry}${indexes}
local k = KEYS[1]
local found = presence(k, tonumber(ARGV[3]))
if found == 'live' then return 0 end
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
insert(k, ARGV[2], found, fields, ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return 1
`;

/**
 * All or none. ARGV: base, now, the conflict flag (a key, or ''), then per record: key,
 * the index entry (status, task, score, tags as JSON or '', has expiresAt '1'/'0'),
 * number of field/value pairs, the pairs. Returns 1 when every record was created, else
 * the first key that has a live record: then nothing is written but the conflict flag,
 * set to '1' so that the commands after this one in a transaction can tell.
 */
export const createManyScript = `${core}${expiry}${indexes}
local now = tonumber(ARGV[2])
local records = {}
local i = 4
while i <= #ARGV do
  local n = tonumber(ARGV[i + 6]) * 2
  local found = presence(rkey(ARGV[i]), now)
  if found == 'live' then
    if ARGV[3] ~= '' then redis.call('SET', ARGV[3], '1') end
    return ARGV[i]
  end
  records[#records + 1] = { i, found }
  i = i + 7 + n
end
for _, r in ipairs(records) do
  local a = r[1]
  local fields = {}
  for j = a + 7, a + 6 + tonumber(ARGV[a + 6]) * 2 do fields[#fields + 1] = ARGV[j] end
  local key = ARGV[a]
  insert(rkey(key), key, r[2], fields, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
end
return 1
`;

/**
 * Runs one item of a batched script: its result, or an error reply for this item alone
 * (a corrupt record fails its own call, never the others of the batch).
 */
const eachItem = `
local function each_item(out, i, fn, ...)
  local ok, result = pcall(fn, ...)
  if ok then
    out[i] = result
  elseif type(result) == 'table' and result.err then
    out[i] = redis.error_reply(result.err)
  else
    out[i] = redis.error_reply(tostring(result))
  end
end
`;

/**
 * The executor's claim (core's applyClaim, in Lua), for a batch of claims. KEYS: the
 * record keys. ARGV: base, now, then per claim: key, reclaimRunning ('1'/'0'),
 * startedAt. Returns per claim false when there is no live record, else { 1 when
 * claimed or 0, the record as JSON }.
 */
export const claimScript = `${core}${recordTable}${eachItem}
local now = tonumber(ARGV[2])
local function claim(k, key, reclaim, startedAt)
  local r = load(k)
  local f = r.fields
  if not f.status then return false end
  if expired(f.expiresAt, now) then return false end
  local status = decode(f.status)
  if not (status == 'pending' or (reclaim == '1' and status == 'running')) then return { 0, json_of(r) } end
  local attempt = string.format('%d', (tonumber(f.attempt) or 0) + 1)
  redis.call('HSET', k, 'status', '"running"', 'attempt', attempt, 'startedAt', startedAt)
  put(r, 'status', '"running"')
  put(r, 'attempt', attempt)
  put(r, 'startedAt', startedAt)
  if f.runAt then
    redis.call('HDEL', k, 'runAt')
    f.runAt = nil
  end
  if status ~= 'running' then
    redis.call('ZREM', base .. ':i:s:' .. status, key)
    redis.call('ZADD', base .. ':i:s:running', f.createdAt, key)
  end
  local json = json_of(r)
  redis.call('PUBLISH', base .. ':c:' .. key, json)
  return { 1, json }
end
local out = {}
for i = 1, #KEYS do
  local a = 3 * i
  each_item(out, i, claim, KEYS[i], ARGV[a], ARGV[a + 1], ARGV[a + 2])
end
return out
`;

/**
 * The conditional update (core's applyPatch, in Lua), for a batch of updates. KEYS: the
 * record keys. ARGV: base, now, then per update: key, ifStatus (JSON array or 'null'),
 * touchesValueOrError ('1'/'0', or 'reopen': a re-open, see core's UpdateOptions.reopen), number of set pairs, number of fields to remove, the
 * set pairs, the fields to remove. Returns per update the new record as JSON, or false
 * when nothing was written.
 */
export const updateScript = `${core}${recordTable}${expiry}${transitions}${eachItem}
local now = tonumber(ARGV[2])
local function update(k, a)
  local key = ARGV[a]
  local r = load(k)
  local f = r.fields
  if not f.status then return false end
  if expired(f.expiresAt, now) then return false end
  local status = decode(f.status)
  local ifStatus = decode(ARGV[a + 1])
  if type(ifStatus) == 'table' then
    local found = false
    for _, s in ipairs(ifStatus) do if s == status then found = true end end
    if not found then return false end
  end
  local first = a + 5
  local removesFrom = first + tonumber(ARGV[a + 3]) * 2
  local last = removesFrom + tonumber(ARGV[a + 4]) - 1
  local newStatus = nil
  local touchesTags = false
  local touchesExpiry = false
  for i = first, removesFrom - 1, 2 do
    local name = ARGV[i]
    if name == 'status' then newStatus = decode(ARGV[i + 1]) end
    if name == 'tags' then touchesTags = true end
    if name == 'expiresAt' then touchesExpiry = true end
  end
  for i = removesFrom, last do
    if ARGV[i] == 'tags' then touchesTags = true end
    if ARGV[i] == 'expiresAt' then touchesExpiry = true end
  end
  -- A re-open (core's retry): failed or cancelled back to pending, value and error cleared.
  local reopening = ARGV[a + 2] == 'reopen' and (status == 'failed' or status == 'cancelled')
    and newStatus == 'pending'
  if not reopening then
    if newStatus ~= nil and newStatus ~= status then
      local next = allowed[status]
      if next == nil or not next[newStatus] then return false end
    end
    if terminal[status] and (ARGV[a + 2] == '1' or ARGV[a + 2] == 'reopen') then return false end
  end
  local oldTags = f.tags
  local oldExpiresAt = f.expiresAt
  local sets = {}
  for i = first, removesFrom - 1, 2 do
    sets[#sets + 1] = ARGV[i]
    sets[#sets + 1] = ARGV[i + 1]
    put(r, ARGV[i], ARGV[i + 1])
  end
  -- Only fields the record has are removed: a patch that clears an absent field costs nothing.
  local removes = {}
  for i = removesFrom, last do
    if f[ARGV[i]] ~= nil then
      removes[#removes + 1] = ARGV[i]
      f[ARGV[i]] = nil
    end
  end
  if #sets > 0 then redis.call('HSET', k, unpack(sets)) end
  if #removes > 0 then redis.call('HDEL', k, unpack(removes)) end
  if newStatus ~= nil and newStatus ~= status then
    redis.call('ZREM', base .. ':i:s:' .. status, key)
    redis.call('ZADD', base .. ':i:s:' .. newStatus, f.createdAt, key)
  end
  if touchesTags then
    local old = decode(oldTags)
    if type(old) == 'table' then
      for _, tag in ipairs(old) do redis.call('ZREM', base .. ':i:g:' .. tag, key) end
    end
    local new = decode(f.tags)
    if type(new) == 'table' then
      for _, tag in ipairs(new) do redis.call('ZADD', base .. ':i:g:' .. tag, f.createdAt, key) end
    end
  end
  if touchesExpiry or (touchesTags and oldExpiresAt) then sync_expiry_of(k, key, f.expiresAt, f.task, f.tags) end
  local json = json_of(r)
  redis.call('PUBLISH', base .. ':c:' .. key, json)
  return json
end
local out = {}
local a = 3
for i = 1, #KEYS do
  each_item(out, i, update, KEYS[i], a)
  a = a + 5 + tonumber(ARGV[a + 3]) * 2 + tonumber(ARGV[a + 4])
end
return out
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
 * KEYS[1] the driving index. ARGV: base, now, offset, chunk, statuses (JSON array or
 * 'null'), task or '', tag or ''. Reads up to `chunk` index entries from rank `offset`
 * (newest first) and counts the live records that match the filters.
 * Returns { matched, scanned }.
 */
export const countScript = `${core}
local now = tonumber(ARGV[2])
local offset = tonumber(ARGV[3])
local chunk = tonumber(ARGV[4])
local wanted = nil
local wantedList = decode(ARGV[5])
if type(wantedList) == 'table' then
  wanted = {}
  for _, s in ipairs(wantedList) do wanted[s] = true end
end
local task = ARGV[6]
local tag = ARGV[7]
local members = redis.call('ZREVRANGE', KEYS[1], offset, offset + chunk - 1)
local matched = 0
for _, key in ipairs(members) do
  local f = redis.call('HMGET', base .. ':r:' .. key, 'status', 'task', 'tags', 'expiresAt')
  local ok = f[1] and not expired(f[4], now)
  if ok and wanted ~= nil and not wanted[decode(f[1])] then ok = false end
  if ok and task ~= '' and decode(f[2]) ~= task then ok = false end
  if ok and tag ~= '' then
    local tags = decode(f[3])
    local found = false
    if type(tags) == 'table' then
      for _, t in ipairs(tags) do if t == tag then found = true end end
    end
    ok = found
  end
  if ok then matched = matched + 1 end
end
return { matched, #members }
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
