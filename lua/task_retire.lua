-- Finished tasks leave Redis: each named task goes if it is still finished and unchanged since
-- the version SQL was found to hold (a change since then, or a reopen, keeps it: its new
-- version has not reached SQL yet). From then on SQL answers for it (task.get, task.list).
-- KEYS: 1..7 task layout
-- ARGV: pairs of (task id, version SQL holds)
-- Returns {'ok', number of tasks removed}
local removed = 0
local i = 1
while ARGV[i] do
  local id, version = ARGV[i], ARGV[i + 1]
  local t = tr_get(id)
  if t and t.version == version and tr_finished(t.status) then
    tr_delete(t)
    removed = removed + 1
  elseif not t or not tr_finished(t.status) then
    redis.call('ZREM', TR_FINISHED, id)
  end
  i = i + 2
end
return { 'ok', removed }
