-- Generic event publish (the prelude's cb_publish): stream entry + pub/sub message in one
-- round trip.
--
-- KEYS[1]  the event's stream
-- ARGV[1]  the event's pub/sub channel
-- ARGV[2]  approximate stream cap (MAXLEN ~)
-- ARGV[3]  event name
-- ARGV[4]  payload (JSON)
-- ARGV[5]  entity ("" for none)
-- ARGV[6]  state snapshot JSON ("" for none)
-- ARGV[7]  deleted id ("" for none)
-- Returns  {'ok', stream entry id}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function opt(v)
  if v == nil or v == '' then return nil end
  return v
end
return {'ok', cb_publish(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], now, opt(ARGV[5]), opt(ARGV[6]), opt(ARGV[7]))}
