-- task.delete: remove a task from every index and queue; publishes task.deleted. The id joins
-- the partition's recently-deleted set: SQL may still hold a retired copy until the deletion
-- reaches it, and that copy must neither answer reads nor be revived (lua/task_restore.lua).
-- KEYS: 1..7 task layout, 8 stream task.deleted, 9 recently deleted tasks
-- ARGV: 1 id, 2 now ms, 3 channel, 4 how long a deletion is remembered (ms)
local lost = tr_guard()
if lost then return lost end
local id = ARGV[1]
local t = tr_get(id)
if not t then return { 'err', 'not_found', 'task ' .. id .. ' not found' } end
local json = tr_json(t)
tr_delete(t)
redis.call('ZADD', KEYS[9], ARGV[2], id)
redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[4]))
cb_publish(KEYS[8], ARGV[3], 0, 'task.deleted', '{"id":"' .. id .. '","task":' .. json .. '}',
  ARGV[2], 'task', nil, id)
return { 'ok', json }
