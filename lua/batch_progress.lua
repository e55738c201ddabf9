-- Batch: the lock owner records progress (items done so far; never goes backwards, never past
-- the total) and extends its lock.
-- KEYS: 1 batch hash. ARGV: 1 processor id, 2 processed, 3 lock TTL ms, 4 now ISO, 5 retention ms
-- Returns {'ok', processed, total}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'owner', 'status', 'processed', 'total')
if not h[2] then return { 'err', 'not_found', 'batch not found' } end
if h[2] ~= 'processing' or h[1] ~= ARGV[1] then
  return { 'err', 'conflict', 'batch is ' .. h[2] .. ' and held by ' .. (h[1] or '') .. ', not ' .. ARGV[1] }
end
-- The owner field only changes on takeover, so while it names us nobody else has the lock,
-- even if our TTL ran out: extending is safe.
local total = tonumber(h[4])
local processed = math.max(tonumber(h[3] or '0'), math.min(tonumber(ARGV[2]), total))
redis.call('HSET', KEYS[1], 'processed', processed, 'updatedAt', ARGV[4],
  'lockExpiresAt', string.format('%d', now + tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) + tonumber(ARGV[3]))
return { 'ok', tostring(processed), tostring(total) }
