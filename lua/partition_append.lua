-- Ordered per-partition-key event log: appends one entry to the partition's list, keeps only
-- the newest entries and lets an idle partition expire.
--
-- KEYS[1]  list of the partition
-- ARGV[1]  event id
-- ARGV[2]  data (JSON)
-- ARGV[3]  max entries kept
-- ARGV[4]  idle expiry, ms
-- Returns  {'ok', length after append, timestamp ms}
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- The data is spliced in verbatim (the caller sends valid JSON) so it round-trips exactly;
-- cjson would turn [] into {} and reorder keys.
local entry = '{"id":' .. cjson.encode(ARGV[1]) .. ',"ts":' .. now .. ',"data":' .. ARGV[2] .. '}'
redis.call('RPUSH', key, entry)
redis.call('LTRIM', key, -tonumber(ARGV[3]), -1)
redis.call('PEXPIRE', key, tonumber(ARGV[4]))
return {'ok', redis.call('LLEN', key), now}
