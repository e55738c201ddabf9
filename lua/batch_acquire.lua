-- Batch: take the processing lock of one batch. Refused while another processor holds a valid
-- lock; a lapsed lock (its holder died) is taken over and the progress so far is kept, so the
-- new owner can resume. Lock times come from Redis's clock.
-- KEYS: 1 batch hash {owner, lockExpiresAt, status, processed, total, startedAt, updatedAt}
-- ARGV: 1 processor id, 2 total items, 3 lock TTL ms, 4 now ISO, 5 retention ms
-- Returns {'ok', acquired (1/0), state (acquired|held|completed), owner, processed, total}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'owner', 'lockExpiresAt', 'status', 'processed', 'total')
local owner, exp, status = h[1] or '', tonumber(h[2] or '0'), h[3] or ''
local processed, total = h[4] or '0', h[5] or ARGV[2]
if status == 'completed' then return { 'ok', '0', 'completed', owner, processed, total } end
if owner ~= '' and owner ~= ARGV[1] and exp > now then return { 'ok', '0', 'held', owner, processed, total } end
if status == '' then
  redis.call('HSET', KEYS[1], 'processed', '0', 'startedAt', ARGV[4])
  processed = '0'
end
total = ARGV[2]
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'lockExpiresAt', string.format('%d', now + tonumber(ARGV[3])),
  'status', 'processing', 'total', total, 'updatedAt', ARGV[4])
-- Abandoned batches disappear eventually.
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) + tonumber(ARGV[3]))
return { 'ok', '1', 'acquired', ARGV[1], processed, total }
