-- List tasks from one index, newest or oldest first, with paging and the total count.
-- KEYS: 1..8 task layout, 9 index zset (all tasks, one status, or one assignee; scored by seq)
-- ARGV: 1 offset, 2 limit, 3 newest first (0/1), 4 status filter ('' = none; used with the
--       assignee index, whose members are then filtered one by one), 5 unassigned only (0/1;
--       no index holds "no assignee", so the members are filtered one by one as well)
local lost = tr_guard()
if lost then return lost end
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local newest = ARGV[3] == '1'
local status = ARGV[4]
local unassigned = ARGV[5] == '1'
local ids, total
if status == '' and not unassigned then
  total = redis.call('ZCARD', KEYS[9])
  if limit > 0 then
    if newest then
      ids = redis.call('ZRANGE', KEYS[9], offset, offset + limit - 1, 'REV')
    else
      ids = redis.call('ZRANGE', KEYS[9], offset, offset + limit - 1)
    end
  else
    ids = {}
  end
else
  local all
  if newest then all = redis.call('ZRANGE', KEYS[9], 0, -1, 'REV') else all = redis.call('ZRANGE', KEYS[9], 0, -1) end
  ids = {}
  total = 0
  for _, id in ipairs(all) do
    local match = status == '' or redis.call('HGET', TR_REC, id .. ':status') == status
    if match and unassigned then
      local owner = redis.call('HGET', TR_REC, id .. ':assignedTo')
      match = not owner or owner == ''
    end
    if match then
      total = total + 1
      if total > offset and #ids < limit then ids[#ids + 1] = id end
    end
  end
end
local out = {}
for _, id in ipairs(ids) do
  local t = tr_get(id)
  if t then out[#out + 1] = tr_json(t) end
end
return { 'ok', tostring(total), '[' .. table.concat(out, ',') .. ']' }
