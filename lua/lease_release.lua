-- lease.release: the holder gives up its lease on one file.
-- KEYS: 1 index, 2 counter (lib/lease_keys.lua), 3 the lease of ARGV[1]
-- ARGV: 1 canonical path, 2 session id, 3 the token to release ('' for whatever the session holds)
-- Returns {'ok', outcome, now ms, <the lease: 7 values>, <a lapsed lease removed: 7 values>}
--   outcome: 'released' (the lease given up follows) | 'free' (no live lease; nothing to do) |
--            'held' (another session's live lease) | 'stale' (ARGV[3] is not the current
--            acquisition: the current lease follows, if any)
local path, holder, want = ARGV[1], ARGV[2], ARGV[3]
local now = lk_now()
local cur, lapsed = lk_live(path, now)
local outcome
if not cur then
  outcome = (want ~= '') and 'stale' or 'free'
elseif cur.holder ~= holder then
  outcome = 'held'
elseif want ~= '' and lk_fmt(cur.token) ~= want then
  outcome = 'stale'
else
  lk_drop(path, cur)
  outcome = 'released'
end
local out = { 'ok', outcome, lk_fmt(now) }
lk_push(out, path, cur)
lk_push(out, path, lapsed)
return out
