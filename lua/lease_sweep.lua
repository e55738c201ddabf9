-- The leader's sweep: remove the repository's lapsed leases, so lease.expired goes out about
-- when a lease lapses rather than when someone next touches the file.
-- KEYS: 1 index, 2 counter (lib/lease_keys.lua)
-- ARGV: 1 most leases to remove in one call
-- Returns {'ok', now ms, leases left, n, then n times <the lapsed lease: 7 values>}
local now = lk_now()
local out = { 'ok', lk_fmt(now), '0', '0' }
local n = 0
for _, path in ipairs(redis.call('ZRANGEBYSCORE', LK_INDEX, '-inf', lk_fmt(now), 'LIMIT', 0, tonumber(ARGV[1]))) do
  local l = lk_read(path)
  if not l then
    -- The record expired on its own (no sweep for an hour): nothing left to report.
    redis.call('ZREM', LK_INDEX, path)
  elseif l.exp <= now then
    lk_drop(path, l)
    n = n + 1
    lk_push(out, path, l)
  else
    redis.call('ZADD', LK_INDEX, lk_fmt(l.exp), path)
  end
end
out[3] = tostring(redis.call('ZCARD', LK_INDEX))
out[4] = tostring(n)
return out
