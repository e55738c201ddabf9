-- task.complete: the owner finishes a task: completed (with an optional result; none is NOT a
-- failure) or failed (when an error is given). It leaves the owner's queue.
-- KEYS: 1..7 task layout, 8 stream task.completed, [9 queue of the expected owner,
--       10 assignee index of the expected owner] (only when ARGV[2] ~= '')
-- ARGV: 1 id, 2 expected owner, 3 now ms, 4 now ISO, 5 maxlen, 6 channel, 7 owner given by the
--       caller (1: a mismatch is a conflict; 0: it was only read, a mismatch means retry),
--       8 has result, 9 result raw JSON, 10 has error, 11 error
local id, expected, now_ms, iso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
if t.status == 'completed' or t.status == 'failed' then
  return { 'err', 'conflict', 'task ' .. id .. ' is already ' .. t.status }
end
local owner = t.assignedTo or ''
if owner == '' then
  if ARGV[7] == '1' or expected == '' then
    return { 'err', 'conflict', 'task ' .. id .. ' is not assigned' }
  end
  return { 'retry' }
end
if owner ~= expected then
  if ARGV[7] == '1' then
    return { 'err', 'conflict', 'task ' .. id .. ' is assigned to ' .. owner .. ', not ' .. expected }
  end
  return { 'retry' }
end
redis.call('ZREM', KEYS[9], id)
redis.call('ZREM', TR_PENDING, id)
local status = 'completed'
if ARGV[10] == '1' then
  status = 'failed'
  t.error = ARGV[11]
end
if ARGV[8] == '1' then t.result = ARGV[9] end
tr_set_status(t, status)
t.completedAt = iso
t.updatedAt = iso
tr_write(t, { 'status', 'completedAt', 'updatedAt', 'result', 'error' })
local duration = tonumber(now_ms) - tonumber(t.createdMs or now_ms)
local json = tr_json(t)
cb_publish(KEYS[8], ARGV[6], ARGV[5], 'task.completed',
  '{"id":' .. cjson.encode(id) .. ',"status":"' .. status .. '","duration":' .. string.format('%d', duration) ..
  ',"workerId":' .. cjson.encode(owner) .. ',"task":' .. json .. '}', now_ms, 'task', tr_state(t, json))
return { 'ok', json, string.format('%d', duration) }
