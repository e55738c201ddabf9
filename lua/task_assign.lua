-- task.assign: reserve one pending, unowned task for a live instance (status stays pending until
-- the worker claims it). Fails with conflict if it is owned or finished.
-- KEYS: 1..8 task layout, 9 stream task.assigned, 10 instance queue, 11 instance assignee index,
--       12 instance record, 13 instances zset, 14 failed set
-- ARGV: 1 task id, 2 instance id, 3 now ms, 4 now ISO, 5 maxlen, 6 channel, 7 liveness cutoff ms
local lost = tr_guard()
if lost then return lost end
local id, inst, now_ms, iso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
local dead = tr_check_alive(KEYS[12], KEYS[13], KEYS[14], inst, ARGV[7])
if dead then return dead end
if t.status == 'completed' or t.status == 'failed' then
  return { 'err', 'conflict', 'task ' .. id .. ' is already ' .. t.status }
end
if t.assignedTo and t.assignedTo ~= '' then
  return { 'err', 'conflict', 'task ' .. id .. ' is already assigned to ' .. t.assignedTo }
end
redis.call('ZREM', TR_PENDING, id)
local score = tr_score(t.priority, t.seq)
redis.call('ZADD', KEYS[10], score, id)
redis.call('ZADD', KEYS[11], t.seq, id)
t.assignedTo = inst
t.assignedAt = iso
t.updatedAt = iso
tr_write(t, { 'assignedTo', 'assignedAt', 'updatedAt' })
local json = tr_json(t)
cb_publish(KEYS[9], ARGV[6], ARGV[5], 'task.assigned',
  '{"taskId":' .. cjson.encode(id) .. ',"instanceId":' .. cjson.encode(inst) .. ',"assignedAt":"' .. iso ..
  '","previousAssignment":null,"task":' .. json .. '}', now_ms, 'task', tr_state(t, json))
return { 'ok', json }
