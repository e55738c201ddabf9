-- lease.acquire (and the pre-tool hook): take the lease on one file, or renew it for its holder.
-- A new acquisition takes the next fencing token; a renewal keeps it and moves the expiry.
-- KEYS: 1 index, 2 counter (lib/lease_keys.lua), 3 the lease of ARGV[1]
-- ARGV: 1 canonical path, 2 session id, 3 session id as a key part, 4 ttl ms, 5 repository root,
--       6 the token to renew ('' for whatever the session holds, or a new lease)
-- Returns {'ok', outcome, now ms, <the lease now: 7 values>, <a lapsed lease removed: 7 values>}
--   outcome: 'acquired' | 'renewed' | 'held' (another session's live lease, unchanged) |
--            'stale' (ARGV[6] is not the current acquisition; nothing changed but the removal of
--            a lapsed lease)
local path, holder, skey, ttl, root, want = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local now = lk_now()
local cur, lapsed = lk_live(path, now)
local outcome
if cur and cur.holder ~= holder then
  outcome = 'held'
elseif want ~= '' and (not cur or lk_fmt(cur.token) ~= want) then
  outcome = 'stale'
elseif cur then
  cur.exp = now + ttl
  cur.ttl = ttl
  lk_write(path, cur)
  outcome = 'renewed'
else
  cur = { holder = holder, skey = skey, token = redis.call('INCR', LK_SEQ), since = now, exp = now + ttl, ttl = ttl,
    root = root }
  lk_write(path, cur)
  outcome = 'acquired'
end
local out = { 'ok', outcome, lk_fmt(now) }
lk_push(out, path, cur)
lk_push(out, path, lapsed)
return out
