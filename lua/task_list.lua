-- List tasks from one index, newest or oldest first, with paging and the total count.
-- KEYS: 1 records, 2 index zset (all tasks, one status, or one assignee; scored by seq)
-- ARGV: 1 offset, 2 limit, 3 newest first (0/1), 4 status filter ('' = none; used with the
--       assignee index, whose members are then filtered one by one)
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local newest = ARGV[3] == '1'
local status = ARGV[4]
local ids, total
if status == '' then
  total = redis.call('ZCARD', KEYS[2])
  if limit > 0 then
    if newest then
      ids = redis.call('ZRANGE', KEYS[2], offset, offset + limit - 1, 'REV')
    else
      ids = redis.call('ZRANGE', KEYS[2], offset, offset + limit - 1)
    end
  else
    ids = {}
  end
else
  local all
  if newest then all = redis.call('ZRANGE', KEYS[2], 0, -1, 'REV') else all = redis.call('ZRANGE', KEYS[2], 0, -1) end
  ids = {}
  total = 0
  for _, id in ipairs(all) do
    if redis.call('HGET', TR_REC, id .. ':status') == status then
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
