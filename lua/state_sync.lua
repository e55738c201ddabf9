-- Global state: replace the shared state document and bump its version. The hash never expires,
-- so the version never resets; with an expected version this is a compare-and-set.
-- KEYS: 1 state hash {version, data, updatedAt, updatedBy}
-- ARGV: 1 data JSON, 2 updated by, 3 now ISO, 4 expected version ('' = unconditional)
-- Returns {'ok', new version}
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= current then
  return { 'err', 'conflict', 'state version is ' .. current .. ', expected ' .. ARGV[4] }
end
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'updatedAt', ARGV[3], 'updatedBy', ARGV[2])
return { 'ok', tostring(v) }
