-- Load-balanced assignment: hand the best pending tasks, one at a time, to the least-loaded live
-- worker that still has capacity (ties: the smaller id), until tasks, capacity or the limit run out.
-- KEYS: 1..8 task layout, 9 stream task.assigned, 10 instances zset, 11 failed set,
--       12 role set of workers, then per candidate worker: instance record, queue, assignee index
-- ARGV: 1 now ms, 2 now ISO, 3 maxlen, 4 channel, 5 liveness cutoff ms, 6 capacity, 7 limit,
--       8.. candidate worker ids (same order as their keys)
local lost = tr_guard()
if lost then return lost end
local now_ms, iso, cutoff = ARGV[1], ARGV[2], tonumber(ARGV[5])
local capacity, limit = tonumber(ARGV[6]), tonumber(ARGV[7])
local workers = {}
local i = 8
while ARGV[i] do
  local w = ARGV[i]
  local base = 12 + (i - 8) * 3
  local seen = redis.call('ZSCORE', KEYS[10], w)
  if not seen then
    -- Gone for good (unregistered or failed): drop the stale role membership.
    redis.call('SREM', KEYS[12], w)
  elseif tonumber(seen) >= cutoff and redis.call('EXISTS', KEYS[base + 1]) == 1
      and redis.call('SISMEMBER', KEYS[11], w) == 0 then
    workers[#workers + 1] = { id = w, load = redis.call('ZCARD', KEYS[base + 2]), queue = KEYS[base + 2],
      by_assignee = KEYS[base + 3] }
  end
  i = i + 1
end

local out = {}
while #out < limit do
  local best
  for _, w in ipairs(workers) do
    if w.load < capacity and (not best or w.load < best.load or (w.load == best.load and w.id < best.id)) then
      best = w
    end
  end
  if not best then break end
  local popped = redis.call('ZPOPMIN', TR_PENDING)
  if #popped == 0 then break end
  local t = tr_get(popped[1])
  if t and t.status == 'pending' and (t.assignedTo or '') == '' then
    redis.call('ZADD', best.queue, popped[2], t.id)
    redis.call('ZADD', best.by_assignee, t.seq, t.id)
    best.load = best.load + 1
    t.assignedTo = best.id
    t.assignedAt = iso
    t.updatedAt = iso
    tr_write(t, { 'assignedTo', 'assignedAt', 'updatedAt' })
    local json = tr_json(t)
    cb_publish(KEYS[9], ARGV[4], ARGV[3], 'task.assigned',
      '{"taskId":' .. cjson.encode(t.id) .. ',"instanceId":' .. cjson.encode(best.id) .. ',"assignedAt":"' .. iso ..
      '","previousAssignment":null,"auto":true,"task":' .. json .. '}', now_ms, 'task', tr_state(t, json))
    out[#out + 1] = '{"taskId":' .. cjson.encode(t.id) .. ',"instanceId":' .. cjson.encode(best.id) ..
      ',"queueDepth":' .. best.load .. '}'
  end
end
return { 'ok', '[' .. table.concat(out, ',') .. ']' }
