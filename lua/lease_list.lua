-- lease.list: the live leases of this repository, of every session or of one. Read-only.
-- KEYS: 1 index, 2 counter (lib/lease_keys.lua)
-- ARGV: 1 session id ('' for every session), 2 that session as a key part, 3 most leases
-- Returns {'ok', now ms, truncated (0/1), n, then n times <the lease: 7 values>}
local holder, skey, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = lk_now()
local paths
if holder ~= '' then
  paths = redis.call('SMEMBERS', lk_session(skey))
else
  -- Soonest to lapse first; one more than asked tells whether there are more.
  paths = redis.call('ZRANGEBYSCORE', LK_INDEX, '(' .. lk_fmt(now), '+inf', 'LIMIT', 0, max + 1)
end
local out = { 'ok', lk_fmt(now), '0', '0' }
local n = 0
for _, path in ipairs(paths) do
  local l = lk_read(path)
  if l and l.exp > now and (holder == '' or l.holder == holder) then
    if n == max then
      out[3] = '1'
      break
    end
    n = n + 1
    lk_push(out, path, l)
  end
end
out[4] = tostring(n)
return out
