-- Put one task back from its SQL snapshot: after Redis lost its data (unfinished tasks), or when
-- a task that already left Redis is changed again (it comes back as it was, finished).
-- KEYS: 1..7 task layout (see lib/task_keys.lua), 8 id counter, 9 recently deleted tasks
-- ARGV: 1 id, 2 seq (the n of t-<n>), 3 text (JSON string), 4 status, 5 priority,
--       6 assignedTo ('' = none), 7 createdAt, 8 updatedAt, 9 completedAt ('' = none),
--       10 createdMs, 11 result (raw JSON, '' = none), 12 error (JSON string, '' = none),
--       13 version (of the stored snapshot), 14 metadata (raw JSON object, '' = none),
--       15 when a finished task may leave Redis again (ms; later than now, so a task revived to
--       change is not retired before the change), 16 completedMs ('' = none)
-- A task deleted lately is not brought back: returns 'gone'.
-- A task Redis still has keeps its state (Redis is the newer copy) and only gets its index
-- entries back (a loss that took some keys of the slot and not others): returns 0. Unfinished work
-- is restored pending and unassigned: the instances that held it were
-- lost with Redis, and the pending queue is how it reaches a live worker again. The id counter
-- is raised past the restored id so new tasks never reuse it. The version continues from the
-- stored one, so the task's next change is newer than the SQL row and reaches SQL. It runs
-- while the epoch marker is still missing (it is how the task state becomes complete again), so
-- it has no tr_guard.
local id = ARGV[1]
if redis.call('ZSCORE', KEYS[9], id) then return { 'ok', 'gone' } end
local present = tr_get(id)
if present then
  local t = present
  tr_set_status(t, t.status, t.completedMs or ARGV[15])
  if t.assignedTo then
    redis.call('ZADD', tr_by_assignee(t.assignedTo), t.seq, id)
    if not tr_finished(t.status) then
      redis.call('ZADD', TR_TAG .. ':queue:instance:' .. t.assignedTo, tr_score(t.priority, t.seq), id)
    end
  elseif t.status == 'pending' then
    redis.call('ZADD', TR_PENDING, tr_score(t.priority, t.seq), id)
  end
  return { 'ok', '0' }
end
local seq = ARGV[2]
local status = ARGV[4]
local finished = tr_finished(status)
if not finished then status = 'pending' end
local function opt(v) if v == '' then return nil end return v end
local t = { id = id, text = ARGV[3], priority = ARGV[5], createdAt = ARGV[7], updatedAt = ARGV[8], seq = seq,
  createdMs = ARGV[10], version = ARGV[13], result = opt(ARGV[11]), error = opt(ARGV[12]), metadata = opt(ARGV[14]),
  completedMs = opt(ARGV[16]) }
if finished then
  t.assignedTo = opt(ARGV[6])
  t.completedAt = opt(ARGV[9])
end
tr_set_status(t, status, ARGV[15])
tr_write(t, { 'text', 'status', 'priority', 'assignedTo', 'createdAt', 'updatedAt', 'completedAt', 'result', 'error',
  'seq', 'createdMs', 'version', 'metadata' })
if t.assignedTo then redis.call('ZADD', tr_by_assignee(t.assignedTo), seq, id) end
if status == 'pending' then redis.call('ZADD', TR_PENDING, tr_score(t.priority, seq), id) end
local current = tonumber(redis.call('GET', KEYS[8]) or '-1')
if current < tonumber(seq) then redis.call('SET', KEYS[8], seq) end
return { 'ok', '1' }
