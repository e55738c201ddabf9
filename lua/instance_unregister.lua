-- system.unregister, control-slot step: the instance disappears (record, liveness, failed mark,
-- role memberships) and is queued for cleanup: its unfinished tasks are taken back partition by
-- partition (lua/task_requeue.lua, reason instance_unregistered), then
-- lua/instance_cleanup_done.lua publishes instance.unregistered.
-- KEYS: 1 instance record, 2 instances zset, 3 failed set, 4 cleanup hash, 5 incarnations hash,
--       6.. role sets of the roles the caller read
-- ARGV: 1 id, 2 roles JSON the caller read ('' = none), 3 now ms
-- Returns {'ok', incarnation} or {'retry'} when the roles changed since the caller read them.
local id = ARGV[1]
local current = redis.call('HGET', KEYS[1], 'roles') or ''
if current ~= ARGV[2] then return { 'retry' } end
local known = redis.call('ZSCORE', KEYS[2], id) or redis.call('EXISTS', KEYS[1]) == 1
if not known then return { 'err', 'not_found', 'instance ' .. id .. ' is not registered' } end
local inc = redis.call('HGET', KEYS[5], id) or redis.call('HGET', KEYS[1], 'incarnation') or '0'
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], id)
redis.call('SREM', KEYS[3], id)
local j = 6
while KEYS[j] do
  redis.call('SREM', KEYS[j], id)
  j = j + 1
end
-- A sweep's cleanup already under way stays (its instance.failed is still to be published).
redis.call('HSETNX', KEYS[4], id, '{"reason":"instance_unregistered","incarnation":' .. inc .. ',"since":' .. ARGV[3] .. '}')
return { 'ok', inc }
