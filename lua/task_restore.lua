-- Rehydration: put one task back from its SQL snapshot after Redis lost its data.
-- KEYS: 1..8 task layout (see lib/task_record.lua), 9 id counter
-- ARGV: 1 id, 2 seq (the n of t-<n>), 3 text, 4 status, 5 priority, 6 assignedTo ('' = none),
--       7 createdAt, 8 updatedAt, 9 completedAt ('' = none), 10 createdMs,
--       11 has result (0/1), 12 result (raw JSON), 13 has error (0/1), 14 error,
--       15 version (of the stored snapshot), 16 has metadata (0/1), 17.. metadata (key, raw JSON) pairs
-- A task Redis still has is left alone (Redis is the newer copy): returns 0. Unfinished work is
-- restored as pending and unassigned: the instances that held it were lost with Redis, and the
-- pending queue is how it reaches a live worker again. The id counter is raised past the
-- restored id so new tasks never reuse it. The task's version continues from the stored one, so
-- its next change is newer than the SQL row and reaches SQL. It runs while the epoch marker is still missing (it
-- is how the task state becomes complete again), so it has no tr_guard.
local id = ARGV[1]
if redis.call('HEXISTS', TR_REC, id .. ':status') == 1 then return { 'ok', '0' } end
local seq = ARGV[2]
local status = ARGV[4]
local finished = status == 'completed' or status == 'failed'
if not finished then status = 'pending' end
local t = { id = id, text = ARGV[3], priority = ARGV[5], createdAt = ARGV[7], updatedAt = ARGV[8], seq = seq,
  createdMs = ARGV[10], version = ARGV[15] }
if finished and ARGV[6] ~= '' then t.assignedTo = ARGV[6] end
if finished and ARGV[9] ~= '' then t.completedAt = ARGV[9] end
if ARGV[11] == '1' then t.result = ARGV[12] end
if ARGV[13] == '1' then t.error = ARGV[14] end
tr_write(t, { 'text', 'priority', 'assignedTo', 'createdAt', 'updatedAt', 'completedAt', 'result', 'error', 'seq',
  'createdMs', 'version' })
if ARGV[16] == '1' then tr_meta_merge(t, ARGV, 17) end
tr_set_status(t, status)
tr_write(t, { 'status' })
redis.call('ZADD', TR_ALL, seq, id)
if status == 'pending' then redis.call('ZADD', TR_PENDING, tr_score(t.priority, seq), id) end
local current = tonumber(redis.call('GET', KEYS[9]) or '0')
if current < tonumber(seq) then redis.call('SET', KEYS[9], seq) end
return { 'ok', '1' }
