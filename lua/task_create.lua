-- task.create: allocate a unique id, store the record, enqueue it and publish task.created.
-- KEYS: 1..8 task layout (see lib/task_record.lua), 9 id counter, 10 id limit, 11 stream task.created
-- ARGV: 1 text, 2 priority, 3 now ms, 4 now ISO, 5 stream maxlen, 6 channel, 7 has metadata (0/1),
--       8.. metadata (key, raw JSON) pairs
-- The id comes from one counter, so it is unique across every process sharing this Redis. With
-- SQL persistence the counter may not pass the limit: ids up to the limit are reserved in SQL
-- first (domain/src/recovery.rs), so after a Redis loss the counter restarts above
-- every id ever handed out, persisted or not. No limit key means no SQL, no reservation.
local lost = tr_guard()
if lost then return lost end
local n = tonumber(redis.call('GET', KEYS[9]) or '0') + 1
local limit = redis.call('GET', KEYS[10])
if limit and n > tonumber(limit) then
  return { 'err', 'unavailable', 'task ids are being reserved in SQL; retry shortly' }
end
redis.call('SET', KEYS[9], n)
local seq = string.format('%d', n)
local t = { id = 't-' .. seq, text = ARGV[1], status = 'pending', priority = ARGV[2],
  createdAt = ARGV[4], updatedAt = ARGV[4], seq = seq, createdMs = ARGV[3] }
tr_write(t, { 'text', 'status', 'priority', 'createdAt', 'updatedAt', 'seq', 'createdMs' })
if ARGV[7] == '1' then tr_meta_merge(t, ARGV, 8) end
redis.call('ZADD', TR_PENDING, tr_score(t.priority, seq), t.id)
redis.call('ZADD', TR_ALL, seq, t.id)
tr_set_status(t, 'pending')
local json = tr_json(t)
cb_publish(KEYS[11], ARGV[6], ARGV[5], 'task.created', json, ARGV[3], 'task', tr_state(t, json))
return { 'ok', json }
