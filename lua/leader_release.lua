-- Leader lease: give it up (clean shutdown), so a follower takes over at once. The term stays.
-- KEYS: 1 leader hash. ARGV: 1 id, 2 term. Returns {'ok', released (1/0)}
local h = redis.call('HMGET', KEYS[1], 'id', 'term')
if h[1] == ARGV[1] and h[2] == ARGV[2] then
  redis.call('HSET', KEYS[1], 'id', '', 'expiresAt', '0')
  return { 'ok', '1' }
end
return { 'ok', '0' }
