-- task.create: allocate a unique id, store the record, enqueue it and publish task.created.
-- KEYS: 1..7 task layout (see lib/task_keys.lua), 8 id counter, 9 id limit, 10 stream task.created
-- ARGV: 1 partition index, 2 partition count, 3 text (JSON string), 4 priority, 5 now ms,
--       6 now ISO, 7 channel, 8 metadata (raw JSON object, '' = none),
--       9 the task's wire JSON after its id (`"text":…}`, built by the server, which has every
--       field but the id), 10 the same with `,"version":1` before its closing brace (the outbox
--       snapshot), 11 rate limit count, 12 rate limit window ms (both only with KEYS[11])
-- KEYS[11] (optional) the caller's rate-limit key for task.create, in this partition's slot: the
--       limit is checked here, in the create's own atomic step, instead of by a script of its own
--       (runtime/src/pipeline.rs, `checks_own_rate_limit`). A refused create changes nothing and
--       answers {'err', 'rate_limited', message, retry_after_ms}.
-- Ids of partition p are the numbers n ≡ p (mod count), from the partition's own counter, so
-- they are unique across partitions and route back to p. With SQL persistence the counter may
-- not pass the limit: ids up to the limit are reserved in SQL first (domain/src/recovery.rs),
-- so after a Redis loss the counter restarts above every id ever handed out, persisted or not.
-- No limit key means no SQL, no reservation.
local lost = tr_guard()
if lost then return lost end
local limit_decision
if KEYS[11] then
  limit_decision = cb_gcra_decide(KEYS[11], ARGV[11], ARGV[12])
  if not limit_decision then return { 'err', 'internal', 'task_create: rate limit out of range' } end
  if not limit_decision.allowed then
    cb_gcra_record(limit_decision)
    return { 'err', 'rate_limited', 'rate limit exceeded for task.create', limit_decision.retry_after_ms }
  end
end
local count = tonumber(ARGV[2])
local n = redis.call('INCRBY', KEYS[8], count)
-- A counter that did not exist starts at the partition's own residue.
if n == count and ARGV[1] ~= '0' then n = redis.call('INCRBY', KEYS[8], ARGV[1]) end
local limit = redis.call('GET', KEYS[9])
if limit and n > tonumber(limit) then
  redis.call('DECRBY', KEYS[8], count)
  return { 'err', 'unavailable', 'task ids are being reserved in SQL; retry shortly' }
end
if limit_decision then cb_gcra_record(limit_decision) end
local seq = string.format('%d', n)
local id = 't-' .. seq
if ARGV[8] == '' then
  redis.call('HSET', tr_key(id), 'text', ARGV[3], 'status', 'pending', 'priority', ARGV[4], 'createdAt', ARGV[6],
    'updatedAt', ARGV[6], 'seq', seq, 'createdMs', ARGV[5], 'version', '1')
else
  redis.call('HSET', tr_key(id), 'text', ARGV[3], 'status', 'pending', 'priority', ARGV[4], 'createdAt', ARGV[6],
    'updatedAt', ARGV[6], 'seq', seq, 'createdMs', ARGV[5], 'version', '1', 'metadata', ARGV[8])
end
redis.call('ZADD', TR_PENDING, tr_score(ARGV[4], seq), id)
redis.call('ZADD', TR_STATUS.pending, seq, id)
local head = '{"id":"' .. id .. '",'
local json = head .. ARGV[9]
cb_publish(KEYS[10], ARGV[7], 0, 'task.created', json, ARGV[5], 'task', head .. ARGV[10])
return { 'ok', json }
