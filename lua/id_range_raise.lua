-- Raise the task id counter and its limit after ids were reserved in SQL (never lowers either).
-- KEYS[1] the id counter, KEYS[2] the id limit
-- ARGV[1] counter floor ('' = leave the counter), ARGV[2] new limit
-- Returns {'ok', counter, limit} after the change.
local function raise(key, value)
  local current = tonumber(redis.call('GET', key) or '-1')
  if tonumber(value) > current then redis.call('SET', key, value) return tonumber(value) end
  return current
end
local counter
if ARGV[1] ~= '' then counter = raise(KEYS[1], ARGV[1]) else counter = tonumber(redis.call('GET', KEYS[1]) or '0') end
local limit = raise(KEYS[2], ARGV[2])
return {'ok', counter, limit}
