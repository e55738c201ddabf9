-- task.claim in one partition: a worker takes up to N tasks, first those already reserved for it
-- here (assigned, not started), then the best of the partition's queue. Each claimed task is
-- in_progress, owned by the worker and in its queue; ZPOPMIN guarantees no task is handed out
-- twice. The caller checked the worker's liveness in the control slot; the fence closes the
-- race with a sweep or an unregistration that ran since.
-- KEYS: 1..7 task layout, 8 stream task.claimed, 9 worker queue, 10 worker assignee index,
--       11 fenced instances
-- ARGV: 1 worker id, 2 max tasks, 3 now ms, 4 now ISO, 5 channel, 6 worker incarnation,
--       7 take reserved tasks (0/1), 8 take from the pending queue (0/1)
local lost = tr_guard()
if lost then return lost end
local worker, max, now_ms, iso, inc = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[6]
local queue, by_assignee = KEYS[9], KEYS[10]
local fenced = tr_fenced(KEYS[11], worker, inc)
if fenced then return fenced end

local claimed = {}
local function start(t)
  tr_set_status(t, 'in_progress', now_ms)
  t.updatedAt = iso
  tr_write(t, { 'status', 'updatedAt', 'assignedTo', 'assignedAt', 'assignedInc' })
  local json = tr_json(t)
  cb_publish(KEYS[8], ARGV[5], 0, 'task.claimed',
    '{"taskId":"' .. t.id .. '","workerId":' .. cjson.encode(worker) .. ',"task":' .. json .. '}',
    now_ms, 'task', tr_state(t, json))
  claimed[#claimed + 1] = json
end

-- 1. Reserved for this worker by assign / auto-assign (the queue is ordered like the pending one).
if ARGV[7] == '1' then
  for _, id in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
    if #claimed >= max then break end
    local t = tr_get(id)
    if t and t.status == 'pending' and t.assignedTo == worker then
      t.assignedInc = inc
      start(t)
    end
  end
end

-- 2. The partition's queue, best first.
while ARGV[8] == '1' and #claimed < max do
  local popped = redis.call('ZPOPMIN', TR_PENDING)
  if #popped == 0 then break end
  local t = tr_get(popped[1])
  -- Anything not pending and unowned should not be queued; drop it rather than hand it out.
  if t and t.status == 'pending' and not t.assignedTo then
    t.assignedTo = worker
    t.assignedAt = iso
    t.assignedInc = inc
    redis.call('ZADD', queue, popped[2], t.id)
    redis.call('ZADD', by_assignee, t.seq, t.id)
    start(t)
  end
end

return { 'ok', '[' .. table.concat(claimed, ',') .. ']' }
