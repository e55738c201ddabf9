-- Shared prelude of every task script (prepended after publish.lua by the Rust loader).
--
-- Task records are columns of ONE hash (KEYS[1]): field `<id>:<column>`, metadata values under
-- `<id>:m:<key>` with their key order in the `mkeys` column. Why one hash and not a key per task:
-- claim, auto-assign and requeue only discover which tasks they touch inside the script, and a
-- script may only touch keys it declares in KEYS (Redis Cluster). Storing raw JSON per column
-- (result, metadata values) instead of round-tripping through cjson keeps empty arrays, big
-- integers and key order exactly as the client sent them.
--
-- Fixed KEYS layout shared by every task script:
--   1 records hash, 2 pending queue (zset), 3 all tasks (zset by seq),
--   4..7 status indexes pending / in_progress / completed / failed (zsets by seq),
--   8 the epoch marker (see tr_guard).

local TR_REC = KEYS[1]
local TR_PENDING = KEYS[2]
local TR_ALL = KEYS[3]
local TR_STATUS = { pending = KEYS[4], in_progress = KEYS[5], completed = KEYS[6], failed = KEYS[7] }
local TR_EPOCH = KEYS[8]

local TR_COLS = { 'text', 'status', 'priority', 'assignedTo', 'assignedAt', 'createdAt', 'updatedAt',
  'completedAt', 'result', 'error', 'seq', 'createdMs', 'completedMs', 'mkeys', 'version' }

-- The epoch marker is written once task state is known to be complete: by the first start of a
-- deployment, or by recovery after Redis lost its data (domain/src/recovery.rs). A Redis
-- without it has lost (or never had) the task state, so no task script may read or change tasks
-- there: an id handed out now could repeat one already issued, and a "not found" would be a lie.
-- Every task script but the restore script starts with `local lost = tr_guard() if lost then
-- return lost end`.
local function tr_guard()
  if redis.call('EXISTS', TR_EPOCH) == 0 then
    return { 'err', 'unavailable', 'task state is being recovered after Redis lost its data; retry shortly' }
  end
  return nil
end

-- Pending-queue score: higher priority first, then creation order (seq is strictly increasing, so
-- ties on the same millisecond are still ordered). (100 - p) * 2^40 + seq < 2^53: exact in a double.
local function tr_score(priority, seq)
  return string.format('%.0f', (100 - tonumber(priority)) * 1099511627776 + tonumber(seq))
end

-- The record as a Lua table (columns that are absent stay nil), or nil if the task does not exist.
local function tr_get(id)
  local fields = {}
  for i, c in ipairs(TR_COLS) do fields[i] = id .. ':' .. c end
  local v = redis.call('HMGET', TR_REC, unpack(fields))
  if not v[2] then return nil end
  local t = { id = id }
  for i, c in ipairs(TR_COLS) do
    if v[i] then t[c] = v[i] end
  end
  return t
end

-- Write the named columns of `t` (nil values are deleted).
local function tr_write(t, cols)
  local set, del = {}, {}
  for _, c in ipairs(cols) do
    local v = t[c]
    if v == nil then
      del[#del + 1] = t.id .. ':' .. c
    else
      set[#set + 1] = t.id .. ':' .. c
      set[#set + 1] = v
    end
  end
  if #set > 0 then redis.call('HSET', TR_REC, unpack(set)) end
  if #del > 0 then redis.call('HDEL', TR_REC, unpack(del)) end
end

local function tr_meta_keys(t)
  if not t.mkeys then return {} end
  return cjson.decode(t.mkeys)
end

-- Shallow merge of metadata: ARGV[first], ARGV[first+1] … are (key, raw JSON value) pairs.
-- Existing keys keep their position, new keys are appended.
local function tr_meta_merge(t, args, first)
  local keys = tr_meta_keys(t)
  local known = {}
  for _, k in ipairs(keys) do known[k] = true end
  local set = {}
  local i = first
  while args[i] ~= nil and args[i + 1] ~= nil do
    local k, raw = args[i], args[i + 1]
    if not known[k] then
      keys[#keys + 1] = k
      known[k] = true
    end
    set[#set + 1] = t.id .. ':m:' .. k
    set[#set + 1] = raw
    i = i + 2
  end
  if #keys == 0 then t.mkeys = '[]' else t.mkeys = cjson.encode(keys) end
  set[#set + 1] = t.id .. ':mkeys'
  set[#set + 1] = t.mkeys
  redis.call('HSET', TR_REC, unpack(set))
end

local function tr_meta_json(t)
  local keys = tr_meta_keys(t)
  if #keys == 0 then return '{}' end
  local fields = {}
  for i, k in ipairs(keys) do fields[i] = t.id .. ':m:' .. k end
  local vals = redis.call('HMGET', TR_REC, unpack(fields))
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = cjson.encode(k) .. ':' .. (vals[i] or 'null') end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- The wire JSON of a task (camelCase, RFC 3339 timestamps as stored).
local function tr_json(t)
  local p = { '{"id":', cjson.encode(t.id), ',"text":', cjson.encode(t.text or ''), ',"status":"', t.status,
    '","priority":', t.priority, ',"assignedTo":' }
  if t.assignedTo and t.assignedTo ~= '' then p[#p + 1] = cjson.encode(t.assignedTo) else p[#p + 1] = 'null' end
  if t.mkeys then
    p[#p + 1] = ',"metadata":'
    p[#p + 1] = tr_meta_json(t)
  end
  if t.result then
    p[#p + 1] = ',"result":'
    p[#p + 1] = t.result
  end
  if t.error then
    p[#p + 1] = ',"error":'
    p[#p + 1] = cjson.encode(t.error)
  end
  p[#p + 1] = ',"createdAt":"' .. t.createdAt .. '","updatedAt":"' .. t.updatedAt .. '"'
  if t.completedAt then p[#p + 1] = ',"completedAt":"' .. t.completedAt .. '"' end
  p[#p + 1] = '}'
  return table.concat(p)
end

-- The outbox snapshot of a task: its wire JSON plus a version that grows with every published
-- change. Changes of one task land on different streams (created, claimed, completed …) and can
-- share a millisecond, so stream entry ids cannot order them; the persister orders by version.
local function tr_state(t, json)
  local v = redis.call('HINCRBY', TR_REC, t.id .. ':version', 1)
  t.version = tostring(v)
  return string.sub(json, 1, -2) .. ',"version":' .. v .. '}'
end

-- Move the task between status indexes and record the new status.
local function tr_set_status(t, status)
  if t.status ~= status then
    if TR_STATUS[t.status] then redis.call('ZREM', TR_STATUS[t.status], t.id) end
    t.status = status
  end
  redis.call('ZADD', TR_STATUS[status], t.seq, t.id)
end

-- Remove every trace of a task from the records hash and the global indexes.
local function tr_delete(t)
  local fields = {}
  for _, c in ipairs(TR_COLS) do fields[#fields + 1] = t.id .. ':' .. c end
  for _, k in ipairs(tr_meta_keys(t)) do fields[#fields + 1] = t.id .. ':m:' .. k end
  redis.call('HDEL', TR_REC, unpack(fields))
  redis.call('ZREM', TR_PENDING, t.id)
  redis.call('ZREM', TR_ALL, t.id)
  for _, key in pairs(TR_STATUS) do redis.call('ZREM', key, t.id) end
end

-- Whether an instance may take work: registered (in the instances zset with a lastSeen no older
-- than the cutoff), its record present and not declared failed. Returns nil when alive, else an
-- error reply.
local function tr_check_alive(instance_key, instances_key, failed_key, id, cutoff_ms)
  if redis.call('SISMEMBER', failed_key, id) == 1 then
    return { 'err', 'conflict', 'instance ' .. id .. ' was declared failed; it must register again' }
  end
  local seen = redis.call('ZSCORE', instances_key, id)
  if not seen or redis.call('EXISTS', instance_key) == 0 then
    return { 'err', 'not_found', 'instance ' .. id .. ' is not registered' }
  end
  if tonumber(seen) < tonumber(cutoff_ms) then
    return { 'err', 'conflict', 'instance ' .. id .. ' is not alive (no heartbeat within the failure timeout)' }
  end
  return nil
end

-- Take a task away from its (failed or leaving) owner and put it back on the pending queue,
-- publishing task.updated with the reason. Only call for tasks that are pending or in_progress.
local function tr_requeue(t, queue_key, assignee_key, now_ms, iso, stream, channel, maxlen, reason)
  local previous = t.assignedTo or ''
  redis.call('ZREM', queue_key, t.id)
  redis.call('ZREM', assignee_key, t.id)
  t.assignedTo = nil
  t.assignedAt = nil
  t.updatedAt = iso
  tr_set_status(t, 'pending')
  tr_write(t, { 'assignedTo', 'assignedAt', 'updatedAt', 'status' })
  redis.call('ZADD', TR_PENDING, tr_score(t.priority, t.seq), t.id)
  local json = tr_json(t)
  cb_publish(stream, channel, maxlen, 'task.updated',
    '{"id":' .. cjson.encode(t.id) .. ',"changes":["status","assignedTo"],"reason":"' .. reason ..
    '","previousAssignee":' .. cjson.encode(previous) .. ',"task":' .. json .. '}',
    now_ms, 'task', tr_state(t, json))
  return json
end
