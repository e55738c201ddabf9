-- Failure detection: each candidate whose lastSeen is older than the cutoff is declared failed
-- and its unfinished tasks go back to the pending queue with the owner cleared. Removing the
-- instance from the `instances` zset in the same script makes this happen exactly once, however
-- many sweepers race: a later sweep no longer finds the candidate there.
-- KEYS: 1..8 task layout, 9 stream task.updated, 10 stream instance.failed, 11 instances zset,
--       12 failed set, then per candidate: instance record, queue, assignee index
-- ARGV: 1 now ms, 2 now ISO, 3 cutoff ms, 4 maxlen, 5 channel task.updated,
--       6 channel instance.failed, 7.. candidate ids (same order as their keys)
local lost = tr_guard()
if lost then return lost end
local now_ms, iso, cutoff = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
local i = 7
while ARGV[i] do
  local id = ARGV[i]
  local base = 12 + (i - 7) * 3
  local record, queue, by_assignee = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3]
  local seen = redis.call('ZSCORE', KEYS[11], id)
  if seen and tonumber(seen) < cutoff then
    redis.call('ZREM', KEYS[11], id)
    redis.call('SADD', KEYS[12], id)
    if redis.call('EXISTS', record) == 1 then
      redis.call('HSET', record, 'status', 'FAILED', 'failedAt', iso)
    end
    local requeued = {}
    for _, tid in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
      local t = tr_get(tid)
      if t and t.assignedTo == id and (t.status == 'pending' or t.status == 'in_progress') then
        tr_requeue(t, queue, by_assignee, now_ms, iso, KEYS[9], ARGV[5], ARGV[4], 'instance_failed')
        requeued[#requeued + 1] = cjson.encode(tid)
      end
    end
    redis.call('DEL', queue)
    local list = '[' .. table.concat(requeued, ',') .. ']'
    local entry = '{"id":' .. cjson.encode(id) .. ',"lastSeen":' .. seen .. ',"tasksReassigned":' .. #requeued ..
      ',"requeued":' .. list .. '}'
    cb_publish(KEYS[10], ARGV[6], ARGV[4], 'instance.failed', entry, now_ms)
    out[#out + 1] = entry
  end
  i = i + 1
end
return { 'ok', '[' .. table.concat(out, ',') .. ']' }
