-- Failure detection, control-slot step: each candidate whose lastSeen is older than the cutoff is
-- declared failed and queued for cleanup (its tasks are taken back partition by partition by
-- lua/task_requeue.lua, then lua/instance_cleanup_done.lua publishes instance.failed). Removing
-- the instance from the `instances` zset in the same script makes this happen exactly once,
-- however many sweepers race: a later sweep no longer finds the candidate there.
-- KEYS: 1 instances zset, 2 failed set, 3 cleanup hash, 4 incarnations hash,
--       then per candidate: its instance record
-- ARGV: 1 now ISO, 2 cutoff ms, 3 now ms, 4.. candidate ids (same order as their records)
-- Returns {'ok', JSON list of {id, lastSeen, incarnation}} of the instances declared failed now.
local iso, cutoff, now_ms = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
local i = 4
while ARGV[i] do
  local id, record = ARGV[i], KEYS[i + 1]
  local seen = redis.call('ZSCORE', KEYS[1], id)
  if seen and tonumber(seen) < cutoff then
    redis.call('ZREM', KEYS[1], id)
    redis.call('SADD', KEYS[2], id)
    -- The incarnation hash outlives the record (which may have expired before this sweep).
    local inc = redis.call('HGET', KEYS[4], id) or redis.call('HGET', record, 'incarnation') or '0'
    if redis.call('EXISTS', record) == 1 then
      redis.call('HSET', record, 'status', 'FAILED', 'failedAt', iso)
    end
    local entry = '{"id":' .. cjson.encode(id) .. ',"lastSeen":' .. seen .. ',"incarnation":' .. inc .. '}'
    redis.call('HSET', KEYS[3], id, '{"reason":"instance_failed","incarnation":' .. inc .. ',"lastSeen":' .. seen ..
      ',"since":' .. now_ms .. '}')
    out[#out + 1] = entry
  end
  i = i + 1
end
return { 'ok', '[' .. table.concat(out, ',') .. ']' }
