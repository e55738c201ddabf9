-- task.delete: remove a task from every index and queue; publishes task.deleted.
-- KEYS: 1..7 task layout, 8 stream task.deleted
-- ARGV: 1 id, 2 now ms, 3 channel
local lost = tr_guard()
if lost then return lost end
local id = ARGV[1]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
local json = tr_json(t)
tr_delete(t)
cb_publish(KEYS[8], ARGV[3], 0, 'task.deleted', '{"id":"' .. id .. '","task":' .. json .. '}',
  ARGV[2], 'task', nil, id)
return { 'ok', json }
