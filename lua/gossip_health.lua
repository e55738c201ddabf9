-- Gossip: one instance reports its health; stale entries (and entries of instances no longer
-- registered) are dropped; the partition flag is set when fewer than half of the registered
-- instances are reported healthy, and cleared (recovery) once at least half are again.
-- KEYS: 1 gossip hash (id -> {status,lastSeen}), 2 partition hash, 3 instances zset,
--       4 stream partition.detected, 5 stream partition.recovered
-- ARGV: 1 id, 2 status, 3 now ms, 4 now ISO, 5 stale ms, 6 maxlen, 7 channel detected,
--       8 channel recovered
-- Returns {'ok', JSON {detected, changed, healthy, total, since}}
local id, status, now, iso = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local stale = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], id, '{"status":' .. cjson.encode(status) .. ',"lastSeen":' .. ARGV[3] .. '}')
local healthy = 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local who, raw = flat[i], flat[i + 1]
  local ok, entry = pcall(cjson.decode, raw)
  local seen = ok and type(entry) == 'table' and tonumber(entry.lastSeen) or nil
  if not seen or now - seen > stale or not redis.call('ZSCORE', KEYS[3], who) then
    redis.call('HDEL', KEYS[1], who)
  elseif entry.status == 'healthy' then
    healthy = healthy + 1
  end
end
local total = redis.call('ZCARD', KEYS[3])
local detected = total > 0 and healthy * 2 < total
local was = redis.call('HGET', KEYS[2], 'detected') == '1'
local changed = detected ~= was
if detected and not was then
  redis.call('HSET', KEYS[2], 'detected', '1', 'since', iso)
  redis.call('HDEL', KEYS[2], 'recoveredAt')
  cb_publish(KEYS[4], ARGV[7], ARGV[6], 'partition.detected',
    '{"since":"' .. iso .. '","healthy":' .. healthy .. ',"total":' .. total .. '}', ARGV[3])
elseif was and not detected then
  redis.call('HSET', KEYS[2], 'detected', '0', 'recoveredAt', iso)
  cb_publish(KEYS[5], ARGV[8], ARGV[6], 'partition.recovered',
    '{"recoveredAt":"' .. iso .. '","healthy":' .. healthy .. ',"total":' .. total .. '}', ARGV[3])
end
redis.call('HSET', KEYS[2], 'healthy', healthy, 'total', total, 'checkedAt', iso)
local since = redis.call('HGET', KEYS[2], 'since')
local out = '{"detected":' .. tostring(detected) .. ',"changed":' .. tostring(changed) .. ',"healthy":' .. healthy ..
  ',"total":' .. total
if detected and since then out = out .. ',"since":"' .. since .. '"' end
return { 'ok', out .. '}' }
