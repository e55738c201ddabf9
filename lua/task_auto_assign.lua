-- Load-balanced assignment in one partition: hand the partition's best pending tasks, one at a
-- time, to the least-loaded candidate that still has capacity (ties: the smaller id), until
-- tasks, capacity or the limit run out. The caller chose live candidates in the control slot and
-- counted their load across every partition; fenced incarnations are skipped here.
-- KEYS: 1..7 task layout, 8 stream task.assigned, 9 fenced instances,
--       then per candidate: queue, assignee index
-- ARGV: 1 now ms, 2 now ISO, 3 channel, 4 capacity, 5 limit,
--       6.. per candidate: id, incarnation, load (same order as their keys)
-- Returns {'ok', JSON list of {taskId, instanceId, queueDepth}}
local lost = tr_guard()
if lost then return lost end
local now_ms, iso = ARGV[1], ARGV[2]
local capacity, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local workers = {}
local i, k = 6, 10
while ARGV[i] do
  local w = { id = ARGV[i], inc = ARGV[i + 1], load = tonumber(ARGV[i + 2]), queue = KEYS[k], by_assignee = KEYS[k + 1] }
  if not tr_fenced(KEYS[9], w.id, w.inc) then workers[#workers + 1] = w end
  i, k = i + 3, k + 2
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
  if t and t.status == 'pending' and not t.assignedTo then
    redis.call('ZADD', best.queue, popped[2], t.id)
    redis.call('ZADD', best.by_assignee, t.seq, t.id)
    best.load = best.load + 1
    t.assignedTo = best.id
    t.assignedAt = iso
    t.assignedInc = best.inc
    t.updatedAt = iso
    tr_write(t, { 'assignedTo', 'assignedAt', 'assignedInc', 'updatedAt' })
    local json = tr_json(t)
    cb_publish(KEYS[8], ARGV[3], 0, 'task.assigned',
      '{"taskId":"' .. t.id .. '","instanceId":' .. cjson.encode(best.id) .. ',"assignedAt":"' .. iso ..
      '","previousAssignment":null,"auto":true,"task":' .. json .. '}', now_ms, 'task', tr_state(t, json))
    out[#out + 1] = '{"taskId":"' .. t.id .. '","instanceId":' .. cjson.encode(best.id) ..
      ',"queueDepth":' .. best.load .. '}'
  end
end
return { 'ok', '[' .. table.concat(out, ',') .. ']' }
