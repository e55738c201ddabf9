-- task.assign: reserve one pending, unowned task for a live instance (status stays pending until
-- the worker claims it). Fails with conflict if it is owned or finished. The caller checked the
-- instance's liveness in the control slot; the fence closes the race with a sweep since.
-- KEYS: 1..7 task layout, 8 stream task.assigned, 9 instance queue, 10 instance assignee index,
--       11 fenced instances
-- ARGV: 1 task id, 2 instance id, 3 now ms, 4 now ISO, 5 channel, 6 instance incarnation
local lost = tr_guard()
if lost then return lost end
local id, inst, now_ms, iso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
local fenced = tr_fenced(KEYS[11], inst, ARGV[6])
if fenced then return fenced end
if tr_finished(t.status) then
  return { 'err', 'conflict', 'task ' .. id .. ' is already ' .. t.status }
end
if t.assignedTo then
  return { 'err', 'conflict', 'task ' .. id .. ' is already assigned to ' .. t.assignedTo }
end
redis.call('ZREM', TR_PENDING, id)
redis.call('ZADD', KEYS[9], tr_score(t.priority, t.seq), id)
redis.call('ZADD', KEYS[10], t.seq, id)
t.assignedTo = inst
t.assignedAt = iso
t.assignedInc = ARGV[6]
t.updatedAt = iso
tr_write(t, { 'assignedTo', 'assignedAt', 'assignedInc', 'updatedAt' })
local json = tr_json(t)
cb_publish(KEYS[8], ARGV[5], 0, 'task.assigned',
  '{"taskId":"' .. id .. '","instanceId":' .. cjson.encode(inst) .. ',"assignedAt":"' .. iso ..
  '","previousAssignment":null,"task":' .. json .. '}', now_ms, 'task', tr_state(t, json))
return { 'ok', json }
