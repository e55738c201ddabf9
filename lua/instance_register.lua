-- system.register: create or refresh an instance record, its role memberships and its liveness
-- entry. The record expires later than the failure timeout, so the sweeper always sees a dead
-- instance (its `instances` zset entry never expires) before the record disappears.
-- An instance that was not alive (new, failed, unregistered, expired) gets a new incarnation:
-- tasks fenced off its earlier incarnation (lua/task_requeue.lua) stay fenced, new work is not.
-- KEYS: 1 instance record, 2 instances zset, 3 failed set, 4 stream instance.registered,
--       5 incarnation counter, 6 incarnations hash (id → incarnation, never expires),
--       7.. role sets: first the N new roles (ARGV[9] = N), then the roles currently recorded
-- ARGV: 1 id, 2 roles JSON array, 3 now ms, 4 now ISO, 5 record TTL ms, 6 maxlen, 7 channel,
--       8 roles JSON the caller read ('' = none), 9 N
-- Returns {'retry'} if the recorded roles changed since the caller read them.
local id, roles_json, now_ms, iso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local current = redis.call('HGET', KEYS[1], 'roles') or ''
if current ~= ARGV[8] then return { 'retry' } end
local n_new = tonumber(ARGV[9])
local new_roles = cjson.decode(roles_json)
local keep = {}
for j, role in ipairs(new_roles) do
  keep[role] = true
  redis.call('SADD', KEYS[6 + j], id)
end
if current ~= '' then
  for j, role in ipairs(cjson.decode(current)) do
    if not keep[role] then redis.call('SREM', KEYS[6 + n_new + j], id) end
  end
end
local existed = redis.call('EXISTS', KEYS[1]) == 1
local alive = existed and redis.call('ZSCORE', KEYS[2], id) and redis.call('SISMEMBER', KEYS[3], id) == 0
if not alive or not redis.call('HGET', KEYS[1], 'incarnation') then
  local inc = redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[1], 'incarnation', inc)
  redis.call('HSET', KEYS[6], id, inc)
end
if not existed then redis.call('HSET', KEYS[1], 'registeredAt', iso) end
redis.call('HSET', KEYS[1], 'id', id, 'roles', roles_json, 'status', 'ACTIVE', 'lastSeen', now_ms,
  'lastHeartbeat', iso)
redis.call('HDEL', KEYS[1], 'failedAt')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], now_ms, id)
redis.call('SREM', KEYS[3], id)
cb_publish(KEYS[4], ARGV[7], ARGV[6], 'instance.registered',
  '{"id":' .. cjson.encode(id) .. ',"roles":' .. roles_json .. ',"timestamp":"' .. iso .. '"}', now_ms)
if existed then return { 'ok', '1' } end
return { 'ok', '0' }
