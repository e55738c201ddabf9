-- task.update: edit text / status / priority / metadata atomically, keeping queues consistent.
-- KEYS: 1..8 task layout, 9 stream task.updated, [10 queue of the expected assignee,
--       11 assignee index of the expected assignee] (only when ARGV[2] ~= '')
-- ARGV: 1 id, 2 expected assignee ('' = none; read by the caller to declare that worker's keys),
--       3 now ms, 4 now ISO, 5 maxlen, 6 channel, 7 has text, 8 text, 9 has status, 10 status,
--       11 has priority, 12 priority, 13 has metadata, 14.. metadata (key, raw JSON) pairs
-- Returns {'retry'} when the assignee changed since the caller read it.
local lost = tr_guard()
if lost then return lost end
local id, expected, now_ms, iso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
local assignee = t.assignedTo or ''
if assignee ~= expected then return { 'retry' } end
local queue, by_assignee = KEYS[10], KEYS[11]

local changes = {}
local cols = { 'updatedAt' }
if ARGV[7] == '1' and ARGV[8] ~= t.text then
  t.text = ARGV[8]
  changes[#changes + 1] = '"text"'
  cols[#cols + 1] = 'text'
end

if ARGV[9] == '1' and ARGV[10] ~= t.status then
  local from, to = t.status, ARGV[10]
  local finished_from = from == 'completed' or from == 'failed'
  if to == 'in_progress' then
    if assignee == '' then
      return { 'err', 'conflict', 'task ' .. id .. ' is not assigned; claim or assign it to start it' }
    end
    if finished_from then
      return { 'err', 'conflict', 'task ' .. id .. ' is ' .. from .. '; reopen it as pending first' }
    end
  elseif to == 'pending' then
    if finished_from then
      -- Reopen: back on the global queue, owner and outcome cleared.
      if assignee ~= '' then
        redis.call('ZREM', by_assignee, id)
        t.assignedTo = nil
        t.assignedAt = nil
        assignee = ''
      end
      t.completedAt = nil
      t.result = nil
      t.error = nil
      redis.call('ZADD', TR_PENDING, tr_score(t.priority, t.seq), id)
      for _, c in ipairs({ 'assignedTo', 'assignedAt', 'completedAt', 'result', 'error' }) do cols[#cols + 1] = c end
    end
    -- in_progress -> pending keeps the task reserved for its worker (still in its queue).
  else
    -- completed / failed: leaves every queue, keeps its assignee for the record.
    redis.call('ZREM', TR_PENDING, id)
    if assignee ~= '' then redis.call('ZREM', queue, id) end
    t.completedAt = iso
    cols[#cols + 1] = 'completedAt'
  end
  tr_set_status(t, to)
  changes[#changes + 1] = '"status"'
  cols[#cols + 1] = 'status'
end

if ARGV[11] == '1' and tonumber(ARGV[12]) ~= tonumber(t.priority) then
  t.priority = ARGV[12]
  changes[#changes + 1] = '"priority"'
  cols[#cols + 1] = 'priority'
  local score = tr_score(t.priority, t.seq)
  -- XX: only re-score where the task actually is.
  redis.call('ZADD', TR_PENDING, 'XX', score, id)
  if assignee ~= '' then redis.call('ZADD', queue, 'XX', score, id) end
end

t.updatedAt = iso
tr_write(t, cols)
if ARGV[13] == '1' then
  tr_meta_merge(t, ARGV, 14)
  changes[#changes + 1] = '"metadata"'
end

local json = tr_json(t)
cb_publish(KEYS[9], ARGV[6], ARGV[5], 'task.updated',
  '{"id":' .. cjson.encode(id) .. ',"changes":[' .. table.concat(changes, ',') .. '],"task":' .. json .. '}',
  now_ms, 'task', tr_state(t, json))
return { 'ok', json }
