-- Stop / SessionEnd: release every lease one session holds in this repository.
-- KEYS: 1 index, 2 counter (lib/lease_keys.lua), 3 the session's set of paths here
-- ARGV: 1 session id
-- Returns {'ok', now ms, n, then n times: state ('released' | 'expired'), <the lease: 7 values>}
local holder = ARGV[1]
local now = lk_now()
local out = { 'ok', lk_fmt(now), '0' }
local n = 0
for _, path in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local l = lk_read(path)
  -- A member whose lease was since re-taken by someone else is only a stale entry.
  if l and l.holder == holder then
    lk_drop(path, l)
    n = n + 1
    out[#out + 1] = (l.exp <= now) and 'expired' or 'released'
    lk_push(out, path, l)
  end
end
redis.call('DEL', KEYS[3])
out[3] = tostring(n)
return out
