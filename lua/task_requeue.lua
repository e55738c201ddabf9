-- Take one instance's unfinished tasks in one partition back to the pending queue: the partition
-- step of a failure sweep or an unregistration (domain/src/coordination/instances.rs), after the
-- control slot declared the instance failed or removed it. The incarnation is fenced first, so
-- a claim that passed its liveness check before the instance left cannot land here afterwards;
-- tasks a newer incarnation holds (the instance registered again) stay with it. Idempotent.
-- KEYS: 1..7 task layout, 8 stream task.updated, 9 fenced instances, 10 the instance's queue
-- ARGV: 1 instance id, 2 incarnation, 3 reason (instance_failed / instance_unregistered),
--       4 now ms, 5 now ISO, 6 channel
-- Returns {'ok', JSON list of the re-queued task ids}
local lost = tr_guard()
if lost then return lost end
local instance, inc = ARGV[1], tonumber(ARGV[2])
local fence = tonumber(redis.call('ZSCORE', KEYS[9], instance) or '-1')
if inc > fence then redis.call('ZADD', KEYS[9], inc, instance) end
local requeued = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[10], 0, -1)) do
  local t = tr_get(id)
  if t and t.assignedTo == instance and not tr_finished(t.status) and tonumber(t.assignedInc or '0') <= inc then
    tr_requeue(t, KEYS[10], ARGV[4], ARGV[5], KEYS[8], ARGV[6], ARGV[3])
    requeued[#requeued + 1] = '"' .. id .. '"'
  elseif not t or t.assignedTo ~= instance or tr_finished(t.status) then
    redis.call('ZREM', KEYS[10], id)
  end
end
return { 'ok', '[' .. table.concat(requeued, ',') .. ']' }
