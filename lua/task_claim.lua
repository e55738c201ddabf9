-- task.claim: a live worker takes up to N tasks: first those already reserved for it (assigned,
-- not started), then the best of the global queue. Each claimed task is in_progress, owned by the
-- worker and in its queue; ZPOPMIN guarantees no task is handed out twice.
-- KEYS: 1..8 task layout, 9 stream task.claimed, 10 worker queue, 11 worker assignee index,
--       12 worker instance record, 13 instances zset, 14 failed set
-- ARGV: 1 worker id, 2 max tasks, 3 now ms, 4 now ISO, 5 maxlen, 6 channel, 7 liveness cutoff ms
local lost = tr_guard()
if lost then return lost end
local worker, max, now_ms, iso = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local queue, by_assignee = KEYS[10], KEYS[11]
local dead = tr_check_alive(KEYS[12], KEYS[13], KEYS[14], worker, ARGV[7])
if dead then return dead end

local claimed = {}
local function start(t)
  tr_set_status(t, 'in_progress')
  t.updatedAt = iso
  tr_write(t, { 'status', 'updatedAt', 'assignedTo', 'assignedAt' })
  local json = tr_json(t)
  cb_publish(KEYS[9], ARGV[6], ARGV[5], 'task.claimed',
    '{"taskId":' .. cjson.encode(t.id) .. ',"workerId":' .. cjson.encode(worker) .. ',"task":' .. json .. '}',
    now_ms, 'task', tr_state(t, json))
  claimed[#claimed + 1] = json
end

-- 1. Reserved for this worker by assign / auto-assign (the queue is ordered like the global one).
if max > 0 then
  for _, id in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
    if #claimed >= max then break end
    local t = tr_get(id)
    if t and t.status == 'pending' and t.assignedTo == worker then start(t) end
  end
end

-- 2. The global queue, best first.
while #claimed < max do
  local popped = redis.call('ZPOPMIN', TR_PENDING)
  if #popped == 0 then break end
  local t = tr_get(popped[1])
  -- Anything not pending and unowned should not be queued; drop it rather than hand it out.
  if t and t.status == 'pending' and (t.assignedTo or '') == '' then
    t.assignedTo = worker
    t.assignedAt = iso
    redis.call('ZADD', queue, popped[2], t.id)
    redis.call('ZADD', by_assignee, t.seq, t.id)
    start(t)
  end
end

return { 'ok', '[' .. table.concat(claimed, ',') .. ']' }
