-- system.heartbeat: refresh liveness. Unknown, unregistered or failed instances are not alive and
-- must register again (their tasks may already belong to others).
-- KEYS: 1 instance record, 2 instances zset, 3 failed set
-- ARGV: 1 id, 2 now ms, 3 now ISO, 4 record TTL ms
local id = ARGV[1]
if not redis.call('ZSCORE', KEYS[2], id) or redis.call('EXISTS', KEYS[1]) == 0
    or redis.call('SISMEMBER', KEYS[3], id) == 1 then
  return { 'ok', '0' }
end
redis.call('HSET', KEYS[1], 'lastSeen', ARGV[2], 'lastHeartbeat', ARGV[3], 'status', 'ACTIVE')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], id)
return { 'ok', '1' }
