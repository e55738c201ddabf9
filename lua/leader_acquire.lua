-- Leader lease: acquire (or extend, if already held). Times come from Redis's clock, so candidates
-- with skewed clocks still agree on when a lease ends. The term increases on every acquisition
-- after a lapse (a new leader, or the same one after losing its lease), never otherwise: it is
-- the fencing token. The hash never expires, so the term survives idle periods.
-- KEYS: 1 leader hash {id, term, expiresAt, acquiredAt}, 2 stream leader.elected
-- ARGV: 1 candidate id, 2 lease ms, 3 maxlen, 4 channel
-- Returns {'ok', leader (1/0), term, expiresAt ms, holder id, now ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'id', 'term', 'expiresAt')
local holder, term, exp = h[1] or '', tonumber(h[2] or '0'), tonumber(h[3] or '0')
local function fmt(x) return string.format('%d', x) end
if holder ~= '' and exp > now then
  if holder == ARGV[1] then
    exp = now + tonumber(ARGV[2])
    redis.call('HSET', KEYS[1], 'expiresAt', fmt(exp))
    return { 'ok', '1', fmt(term), fmt(exp), holder, fmt(now) }
  end
  return { 'ok', '0', fmt(term), fmt(exp), holder, fmt(now) }
end
term = redis.call('HINCRBY', KEYS[1], 'term', 1)
exp = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'expiresAt', fmt(exp), 'acquiredAt', fmt(now))
cb_publish(KEYS[2], ARGV[4], ARGV[3], 'leader.elected',
  '{"id":' .. cjson.encode(ARGV[1]) .. ',"term":' .. fmt(term) .. ',"previous":' .. cjson.encode(holder) ..
  ',"expiresAt":' .. fmt(exp) .. '}', now)
return { 'ok', '1', fmt(term), fmt(exp), ARGV[1], fmt(now) }
