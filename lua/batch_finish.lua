-- Batch: the owner finishes (status completed, publishes batch.completed) or gives up (status
-- released, progress kept for the next processor). Either way the lock is freed.
-- KEYS: 1 batch hash, 2 stream batch.completed
-- ARGV: 1 processor id, 2 completed (1/0), 3 processed, 4 now ms, 5 now ISO, 6 retention ms,
--       7 maxlen, 8 channel, 9 batch id
-- Returns {'ok', processed, total}
local h = redis.call('HMGET', KEYS[1], 'owner', 'status', 'processed', 'total')
if not h[2] then return { 'err', 'not_found', 'batch ' .. ARGV[9] .. ' not found' } end
if h[2] ~= 'processing' or h[1] ~= ARGV[1] then
  return { 'err', 'conflict', 'batch ' .. ARGV[9] .. ' is ' .. h[2] .. ' and held by ' .. (h[1] or '') }
end
local total = tonumber(h[4])
local processed = math.max(tonumber(h[3] or '0'), math.min(tonumber(ARGV[3]), total))
local status = 'released'
if ARGV[2] == '1' then status = 'completed' end
redis.call('HSET', KEYS[1], 'owner', '', 'lockExpiresAt', '0', 'status', status, 'processed', processed,
  'updatedAt', ARGV[5])
if status == 'completed' then
  redis.call('HSET', KEYS[1], 'completedAt', ARGV[5], 'completedBy', ARGV[1])
  cb_publish(KEYS[2], ARGV[8], ARGV[7], 'batch.completed',
    '{"batchId":' .. cjson.encode(ARGV[9]) .. ',"processorId":' .. cjson.encode(ARGV[1]) .. ',"itemsProcessed":' ..
    processed .. ',"total":' .. total .. '}', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return { 'ok', tostring(processed), tostring(total) }
