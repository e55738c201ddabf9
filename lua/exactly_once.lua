-- Exactly-once processing per consumer group: records a processed id in the group's bounded
-- dedup window and acknowledges the stream entry in the same atomic step, so "processed" and
-- "acked" can never disagree. The window is trimmed by age and by count, so its memory stays
-- bounded.
--
-- KEYS[1]  sorted set of processed ids (score = time processed, µs: ids recorded within
--          the same millisecond must still be evicted in the order they were recorded)
-- KEYS[2]  the stream the entry came from (same hash slot), or absent for no ack
-- ARGV[1]  processed id (dedup key)
-- ARGV[2]  max age of remembered ids, ms
-- ARGV[3]  max number of remembered ids
-- ARGV[4]  consumer group to ack in (only with KEYS[2])
-- ARGV[5]  stream entry id to ack (only with KEYS[2])
-- Returns  {'ok', 1} when the id had already been processed, else {'ok', 0}
local window = KEYS[1]
local id = ARGV[1]
local max_age = tonumber(ARGV[2])
local max_count = tonumber(ARGV[3])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

redis.call('ZREMRANGEBYSCORE', window, '-inf', now - max_age * 1000)
local fresh = redis.call('ZADD', window, 'NX', now, id)
local size = redis.call('ZCARD', window)
if size > max_count then
  redis.call('ZREMRANGEBYRANK', window, 0, size - max_count - 1)
end
redis.call('PEXPIRE', window, max_age)

if KEYS[2] then
  redis.call('XACK', KEYS[2], ARGV[4], ARGV[5])
end

if fresh == 1 then
  return {'ok', 0}
end
return {'ok', 1}
