-- Finished tasks leave Redis: each named task goes if it is still finished and unchanged since
-- the version SQL was found to hold (a change since then, or a reopen, keeps it: its new
-- version has not reached SQL yet). From then on SQL answers for it (task.get, task.list).
-- KEYS: 1..7 task layout
-- ARGV: 1 the departure cutoff (ms: only tasks whose departure-queue score is at or below it
--       go; a task revived since the caller looked has a later one), then pairs of (task id,
--       version SQL holds)
-- Returns {'ok', JSON list of the ids that did NOT go}: the caller takes back their SQL
-- "retired" mark (the task changed, was deleted or reopened meanwhile; Redis still, or no
-- longer, answers for it).
local kept = {}
local cutoff = tonumber(ARGV[1])
local i = 2
while ARGV[i] do
  local id, version = ARGV[i], ARGV[i + 1]
  local t = tr_get(id)
  local score = redis.call('ZSCORE', TR_FINISHED, id)
  local due = score and tonumber(score) <= cutoff
  if t and due and t.version == version and tr_finished(t.status) then
    tr_delete(t)
  else
    if not t or not tr_finished(t.status) then redis.call('ZREM', TR_FINISHED, id) end
    kept[#kept + 1] = '"' .. id .. '"'
  end
  i = i + 2
end
return { 'ok', '[' .. table.concat(kept, ',') .. ']' }
