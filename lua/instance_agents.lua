-- The running subagents and idle teammates of a Claude Code session, kept in its instance record
-- (fields `subagents` and `teammates`: JSON objects by agent id / teammate name), so they vanish
-- with the record (unregistered, expired) and system.get_state reads them with the roles.
-- Nothing is written without a record: one made here would have no liveness entry, no
-- incarnation and no expiry.
-- KEYS: 1 instance record
-- ARGV: 1 field (`subagents` | `teammates`), 2 entry key, 3 entry JSON ('' removes the entry),
--       4 most entries kept (the oldest by ARGV[5] go first), 5 the entries' time field,
--       6 '1' keeps an existing entry as it is (a repeated SubagentStart keeps its start time)
-- Returns {'ok', '1', n} when the record holds the change (n entries now), {'ok', '0', 0} when
-- there is no record.
if redis.call('EXISTS', KEYS[1]) == 0 then return { 'ok', '0', '0' } end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local map = {}
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then map = decoded end
end
if ARGV[3] == '' then
  map[ARGV[2]] = nil
elseif map[ARGV[2]] == nil or ARGV[6] ~= '1' then
  map[ARGV[2]] = cjson.decode(ARGV[3])
end
local cap, at = tonumber(ARGV[4]), ARGV[5]
local n = 0
for _ in pairs(map) do n = n + 1 end
while n > cap do
  local oldest, oldest_at = nil, nil
  for k, v in pairs(map) do
    local t = type(v) == 'table' and tostring(v[at]) or ''
    if oldest == nil or t < oldest_at or (t == oldest_at and k < oldest) then oldest, oldest_at = k, t end
  end
  map[oldest] = nil
  n = n - 1
end
if n == 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(map))
end
return { 'ok', '1', tostring(n) }
