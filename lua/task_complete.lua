-- task.complete: the worker that owns a task finishes it: completed (with an optional result;
-- none is NOT a failure) or failed (when an error is given). It leaves the worker's queue and
-- joins the departure queue (it leaves Redis once SQL holds it, after the retention).
-- KEYS: 1..7 task layout, 8 stream task.completed, 9 queue of the worker
-- ARGV: 1 id, 2 worker id, 3 now ms, 4 now ISO, 5 channel, 6 has result, 7 result raw JSON,
--       8 has error, 9 error (JSON string)
-- Idempotent: the same worker reporting the same outcome again (a retry after a lost response)
-- gets the stored completion back and nothing is published twice. Anyone else, or another
-- outcome, is a conflict: a worker that lost the task (declared failed, re-queued, reassigned)
-- can never complete or overwrite it.
local lost = tr_guard()
if lost then return lost end
local id, worker, now_ms, iso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
local owner = t.assignedTo or ''
local status = 'completed'
if ARGV[8] == '1' then status = 'failed' end

local function duration(done_ms)
  return string.format('%d', math.max(0, tonumber(done_ms or now_ms) - tonumber(t.createdMs or done_ms or now_ms)))
end

if tr_finished(t.status) then
  local same = owner == worker and t.status == status
  if same and status == 'completed' then
    same = (ARGV[6] == '1' and t.result == ARGV[7]) or (ARGV[6] ~= '1' and t.result == nil)
  elseif same then
    same = t.error == ARGV[9]
  end
  if same then return { 'ok', tr_json(t), duration(t.completedMs) } end
  return { 'err', 'conflict', 'task ' .. id .. ' is already ' .. t.status }
end
if owner == '' then return { 'err', 'conflict', 'task ' .. id .. ' is not assigned' } end
if owner ~= worker then
  return { 'err', 'conflict', 'task ' .. id .. ' is assigned to ' .. owner .. ', not ' .. worker }
end
redis.call('ZREM', KEYS[9], id)
redis.call('ZREM', TR_PENDING, id)
if status == 'failed' then t.error = ARGV[9] end
if ARGV[6] == '1' then t.result = ARGV[7] end
tr_set_status(t, status, now_ms)
t.completedAt = iso
t.completedMs = now_ms
t.updatedAt = iso
tr_write(t, { 'status', 'completedAt', 'completedMs', 'updatedAt', 'result', 'error' })
local json = tr_json(t)
cb_publish(KEYS[8], ARGV[5], 0, 'task.completed',
  '{"id":"' .. id .. '","status":"' .. status .. '","duration":' .. duration(now_ms) ..
  ',"workerId":' .. cjson.encode(owner) .. ',"task":' .. json .. '}', now_ms, 'task', tr_state(t, json))
return { 'ok', json, duration(now_ms) }
