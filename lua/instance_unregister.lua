-- system.unregister: a clean exit. Every unfinished task of the instance goes back to the pending
-- queue (task.updated, reason "instance_unregistered"), then the instance disappears.
-- KEYS: 1..8 task layout, 9 stream task.updated, 10 stream instance.unregistered, 11 instance record,
--       12 instances zset, 13 failed set, 14 instance queue, 15 instance assignee index,
--       16.. role sets of the roles the caller read
-- ARGV: 1 id, 2 now ms, 3 now ISO, 4 maxlen, 5 channel task.updated, 6 channel instance.unregistered,
--       7 roles JSON the caller read ('' = none)
local lost = tr_guard()
if lost then return lost end
local id, now_ms, iso = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('HGET', KEYS[11], 'roles') or ''
if current ~= ARGV[7] then return { 'retry' } end
local known = redis.call('ZSCORE', KEYS[12], id) or redis.call('EXISTS', KEYS[11]) == 1
if not known then return { 'err', 'not_found', 'instance ' .. id .. ' is not registered' } end
local requeued = {}
for _, tid in ipairs(redis.call('ZRANGE', KEYS[14], 0, -1)) do
  local t = tr_get(tid)
  if t and t.assignedTo == id and (t.status == 'pending' or t.status == 'in_progress') then
    tr_requeue(t, KEYS[14], KEYS[15], now_ms, iso, KEYS[9], ARGV[5], ARGV[4], 'instance_unregistered')
    requeued[#requeued + 1] = cjson.encode(tid)
  end
end
redis.call('DEL', KEYS[14], KEYS[11])
redis.call('ZREM', KEYS[12], id)
redis.call('SREM', KEYS[13], id)
local j = 16
while KEYS[j] do
  redis.call('SREM', KEYS[j], id)
  j = j + 1
end
local list = '[' .. table.concat(requeued, ',') .. ']'
cb_publish(KEYS[10], ARGV[6], ARGV[4], 'instance.unregistered',
  '{"id":' .. cjson.encode(id) .. ',"tasksRequeued":' .. list .. ',"timestamp":"' .. iso .. '"}', now_ms)
return { 'ok', list }
