-- task.update: edit text / status / priority / metadata atomically, keeping queues consistent.
-- KEYS: 1..7 task layout, 8 stream task.updated
-- ARGV: 1 id, 2 expected version (read by the caller with the metadata it merged), 3 now ms,
--       4 now ISO, 5 channel, 6 has text, 7 text (JSON string), 8 has status, 9 status,
--       10 has priority, 11 priority, 12 has metadata, 13 metadata (the merged raw JSON object)
-- Returns {'retry'} when the task changed since the caller read it.
local lost = tr_guard()
if lost then return lost end
local id, now_ms, iso = ARGV[1], ARGV[3], ARGV[4]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
if t.version ~= ARGV[2] then return { 'retry' } end
local assignee = t.assignedTo
local queue, by_assignee
if assignee then queue, by_assignee = TR_TAG .. ':queue:instance:' .. assignee, tr_by_assignee(assignee) end

local changes = {}
local fields = { 'updatedAt' }
local function changed(name, ...)
  changes[#changes + 1] = '"' .. name .. '"'
  for _, f in ipairs({ ... }) do fields[#fields + 1] = f end
end
if ARGV[6] == '1' and ARGV[7] ~= t.text then
  t.text = ARGV[7]
  changed('text', 'text')
end

if ARGV[8] == '1' and ARGV[9] ~= t.status then
  local from, to = t.status, ARGV[9]
  if to == 'in_progress' then
    if not assignee then
      return { 'err', 'conflict', 'task ' .. id .. ' is not assigned; claim or assign it to start it' }
    end
    if tr_finished(from) then
      return { 'err', 'conflict', 'task ' .. id .. ' is ' .. from .. '; reopen it as pending first' }
    end
  elseif to == 'pending' then
    if tr_finished(from) then
      -- Reopen: back on the pending queue, owner and outcome cleared.
      if assignee then
        redis.call('ZREM', by_assignee, id)
        t.assignedTo, t.assignedAt, t.assignedInc, assignee = nil, nil, nil, nil
      end
      t.completedAt, t.completedMs, t.result, t.error = nil, nil, nil, nil
      redis.call('ZADD', TR_PENDING, tr_score(t.priority, t.seq), id)
      for _, f in ipairs({ 'assignedTo', 'assignedAt', 'assignedInc', 'completedAt', 'completedMs', 'result', 'error' }) do
        fields[#fields + 1] = f
      end
    end
    -- in_progress -> pending keeps the task reserved for its worker (still in its queue).
  else
    -- completed / failed: leaves every queue, keeps its assignee for the record.
    redis.call('ZREM', TR_PENDING, id)
    if assignee then redis.call('ZREM', queue, id) end
    t.completedAt = iso
    fields[#fields + 1] = 'completedAt'
  end
  tr_set_status(t, to, now_ms)
  changed('status', 'status')
end

if ARGV[10] == '1' and tonumber(ARGV[11]) ~= tonumber(t.priority) then
  t.priority = ARGV[11]
  changed('priority', 'priority')
  local score = tr_score(t.priority, t.seq)
  -- XX: only re-score where the task actually is.
  redis.call('ZADD', TR_PENDING, 'XX', score, id)
  if assignee then redis.call('ZADD', queue, 'XX', score, id) end
end

if ARGV[12] == '1' then
  t.metadata = ARGV[13]
  changed('metadata', 'metadata')
end

t.updatedAt = iso
tr_write(t, fields)
local json = tr_json(t)
cb_publish(KEYS[8], ARGV[5], 0, 'task.updated',
  '{"id":"' .. id .. '","changes":[' .. table.concat(changes, ',') .. '],"task":' .. json .. '}',
  now_ms, 'task', tr_state(t, json))
return { 'ok', json }
