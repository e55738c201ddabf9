-- Retention of one event stream that carries outbox entries (entity changes bound for SQL).
-- Entries older than the retention, and entries beyond the stream's cap, may go -- but never an
-- entry the persister group has not acknowledged: that would lose a change SQL never saw. When
-- SQL falls behind, the stream grows instead (the lag shows in /metrics and /health).
--
-- KEYS[1] the stream
-- ARGV[1] the persister group ('' when nothing persists this stream: cap and retention only)
-- ARGV[2] the cap (entries); trimming to it starts once the stream is half as long again, so
--         the scan for the cap's boundary is paid once per maxlen/2 new entries
-- ARGV[3] the retention boundary, an entry id (`<ms>-0`): older entries may go
-- Returns {'ok', number of entries removed}.
local key, group, maxlen = KEYS[1], ARGV[1], tonumber(ARGV[2])

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end

local len = redis.call('XLEN', key)
if len == 0 then return {'ok', 0} end
local target = ARGV[3]
if len > maxlen + math.floor(maxlen / 2) then
  local kept = redis.call('XREVRANGE', key, '+', '-', 'COUNT', maxlen)
  local boundary = kept[#kept][1]
  if less(target, boundary) then target = boundary end
end

if group ~= '' then
  local safe
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    if info['name'] == group then
      if tonumber(info['pending']) > 0 then
        safe = redis.call('XPENDING', key, group)[2]
      else
        local ms, seq = parse(info['last-delivered-id'])
        safe = string.format('%d-%d', ms, seq + 1)
      end
    end
  end
  -- No group (yet, e.g. right after Redis lost its data): nobody has read anything, keep all.
  if not safe then return {'ok', 0} end
  if less(safe, target) then target = safe end
end
return {'ok', redis.call('XTRIM', key, 'MINID', '~', target)}
