-- Leader lease: who holds a valid lease now (by Redis's clock).
-- KEYS: 1 leader hash. Returns {'ok', id ('' = nobody), term, expiresAt ms, now ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'id', 'term', 'expiresAt')
local id = h[1] or ''
if tonumber(h[3] or '0') <= now then id = '' end
return { 'ok', id, h[2] or '0', h[3] or '0', string.format('%d', now) }
