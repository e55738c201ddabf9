-- Sliding-window log rate limit: the check and the record are one atomic step, so concurrent
-- callers can never both take the last slot (as they could if the call were recorded only
-- after the handler ran).
--
-- KEYS[1]  sorted set of admitted calls in the window (score = admission time, ms)
-- ARGV[1]  limit: calls allowed per window
-- ARGV[2]  window length in ms
-- ARGV[3]  token unique to this call (member uniqueness under concurrency and within one ms)
-- Returns  {'ok', allowed 0|1, remaining, retry_after_ms}
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local token = ARGV[3]

-- Redis' clock, not the callers': every instance measures the same window.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)

if count >= limit then
  if limit <= 0 then
    return {'ok', 0, 0, window}
  end
  -- The call that must leave the window before one more fits: the (count - limit + 1)-th oldest.
  local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  local retry = window
  if entry[2] then
    retry = tonumber(entry[2]) + window - now
  end
  if retry < 1 then retry = 1 end
  return {'ok', 0, 0, retry}
end

redis.call('ZADD', key, now, now .. '-' .. token)
redis.call('PEXPIRE', key, window)
return {'ok', 1, limit - count - 1, 0}
