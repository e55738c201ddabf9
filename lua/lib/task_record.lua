-- The record helpers of the task scripts that read or change existing tasks (prepended after
-- publish.lua and lib/task_keys.lua by the Rust loader): read, write, the wire JSON, versions,
-- status moves, deletion, fences and requeueing. The create script does without them (it is
-- the hottest path and builds nothing it is not handed).

-- The record as a Lua table, or nil if the task is not in Redis.
local function tr_get(id)
  local flat = redis.call('HGETALL', tr_key(id))
  if #flat == 0 then return nil end
  local t = { id = id }
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- Write the named fields of `t` in one HSET (nil values are deleted).
local function tr_write(t, fields)
  local set, del = {}, {}
  for _, f in ipairs(fields) do
    local v = t[f]
    if v == nil then del[#del + 1] = f else
      set[#set + 1] = f
      set[#set + 1] = v
    end
  end
  if #set > 0 then redis.call('HSET', tr_key(t.id), unpack(set)) end
  if #del > 0 then redis.call('HDEL', tr_key(t.id), unpack(del)) end
end

-- The wire JSON of a task (camelCase, RFC 3339 timestamps as stored).
local function tr_json(t)
  local p = { '{"id":"', t.id, '","text":', t.text, ',"status":"', t.status, '","priority":', t.priority,
    ',"assignedTo":' }
  if t.assignedTo then p[#p + 1] = cjson.encode(t.assignedTo) else p[#p + 1] = 'null' end
  if t.metadata then
    p[#p + 1] = ',"metadata":'
    p[#p + 1] = t.metadata
  end
  if t.result then
    p[#p + 1] = ',"result":'
    p[#p + 1] = t.result
  end
  if t.error then
    p[#p + 1] = ',"error":'
    p[#p + 1] = t.error
  end
  p[#p + 1] = ',"createdAt":"'
  p[#p + 1] = t.createdAt
  p[#p + 1] = '","updatedAt":"'
  p[#p + 1] = t.updatedAt
  p[#p + 1] = '"'
  if t.completedAt then
    p[#p + 1] = ',"completedAt":"'
    p[#p + 1] = t.completedAt
    p[#p + 1] = '"'
  end
  p[#p + 1] = '}'
  return table.concat(p)
end

-- The outbox snapshot of a task after a change: its wire JSON plus a version that grows with
-- every published change (changes of one task land on different streams and can share a
-- millisecond, so the persister orders them by version). Every change also cancels a pending
-- departure: a finished task leaves Redis only once SQL holds its final version.
local function tr_state(t, json)
  local v = redis.call('HINCRBY', tr_key(t.id), 'version', 1)
  t.version = tostring(v)
  return string.sub(json, 1, -2) .. ',"version":' .. v .. '}'
end

local function tr_finished(status) return status == 'completed' or status == 'failed' end

-- Move the task between status indexes and record the new status (the caller writes it). A
-- finished task joins the departure queue; a reopened one leaves it.
local function tr_set_status(t, status, now_ms)
  if t.status ~= status then
    if TR_STATUS[t.status] then redis.call('ZREM', TR_STATUS[t.status], t.id) end
    t.status = status
  end
  redis.call('ZADD', TR_STATUS[status], t.seq, t.id)
  if tr_finished(status) then
    redis.call('ZADD', TR_FINISHED, now_ms, t.id)
  else
    redis.call('ZREM', TR_FINISHED, t.id)
  end
end

-- Remove every trace of a task from the partition.
local function tr_delete(t)
  redis.call('DEL', tr_key(t.id))
  redis.call('ZREM', TR_PENDING, t.id)
  redis.call('ZREM', TR_FINISHED, t.id)
  for _, key in pairs(TR_STATUS) do redis.call('ZREM', key, t.id) end
  if t.assignedTo then
    redis.call('ZREM', tr_by_assignee(t.assignedTo), t.id)
    redis.call('ZREM', TR_TAG .. ':queue:instance:' .. t.assignedTo, t.id)
  end
end

-- Whether an incarnation of an instance is fenced off this partition (declared failed or
-- unregistered): the Rust side checked liveness in the control slot just before; this closes
-- the race with a sweep that ran in between. Returns an error reply, or nil.
local function tr_fenced(fenced_key, instance, incarnation)
  local fence = redis.call('ZSCORE', fenced_key, instance)
  if fence and tonumber(fence) >= tonumber(incarnation) then
    return { 'err', 'conflict', 'instance ' .. instance .. ' was declared failed or left; it must register again' }
  end
  return nil
end

-- Take a task away from its (failed or leaving) owner and put it back on the pending queue,
-- publishing task.updated with the reason. Only call for tasks that are pending or in_progress.
local function tr_requeue(t, queue_key, now_ms, iso, stream, channel, reason)
  local previous = t.assignedTo or ''
  redis.call('ZREM', queue_key, t.id)
  redis.call('ZREM', tr_by_assignee(previous), t.id)
  t.assignedTo = nil
  t.assignedAt = nil
  t.assignedInc = nil
  t.updatedAt = iso
  tr_set_status(t, 'pending', now_ms)
  tr_write(t, { 'assignedTo', 'assignedAt', 'assignedInc', 'updatedAt', 'status' })
  redis.call('ZADD', TR_PENDING, tr_score(t.priority, t.seq), t.id)
  local json = tr_json(t)
  cb_publish(stream, channel, 0, 'task.updated',
    '{"id":"' .. t.id .. '","changes":["status","assignedTo"],"reason":"' .. reason ..
    '","previousAssignee":' .. cjson.encode(previous) .. ',"task":' .. json .. '}',
    now_ms, 'task', tr_state(t, json))
  return json
end
