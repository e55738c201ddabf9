-- task.delete: remove a task from every index and queue; publishes task.deleted.
-- KEYS: 1..8 task layout, 9 stream task.deleted, [10 queue, 11 assignee index of the expected owner]
-- ARGV: 1 id, 2 expected owner ('' = none), 3 now ms, 4 maxlen, 5 channel
local lost = tr_guard()
if lost then return lost end
local id, expected = ARGV[1], ARGV[2]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
local owner = t.assignedTo or ''
if owner ~= expected then return { 'retry' } end
if owner ~= '' then
  redis.call('ZREM', KEYS[10], id)
  redis.call('ZREM', KEYS[11], id)
end
local json = tr_json(t)
tr_delete(t)
cb_publish(KEYS[9], ARGV[5], ARGV[4], 'task.deleted', '{"id":' .. cjson.encode(id) .. ',"task":' .. json .. '}',
  ARGV[3], 'task', nil, id)
return { 'ok', json }
