-- Leader lease: renew. Only the holder of the given term, and only while the lease is still
-- valid: once it lapsed the leader must acquire again (and gets a new term).
-- KEYS: 1 leader hash. ARGV: 1 id, 2 term, 3 lease ms.
-- Returns {'ok', renewed (1/0), expiresAt ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'id', 'term', 'expiresAt')
if h[1] == ARGV[1] and h[2] == ARGV[2] and tonumber(h[3] or '0') > now then
  local exp = string.format('%d', now + tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'expiresAt', exp)
  return { 'ok', '1', exp }
end
return { 'ok', '0', h[3] or '0' }
