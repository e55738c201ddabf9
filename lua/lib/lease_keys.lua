-- The prelude of every lease script: one repository's key layout, the clock and the lease record.
--
-- A repository's leases live in the slot of its own hash tag, `{<prefix>:lease:<digest of the
-- root>}` (runtime/src/keys.rs, `LeaseRepoKeys`):
--   <tag>:leases                 zset path → expiresAt (ms): every lease of the repository
--   <tag>:leases:seq             the fencing-token counter (never expires)
--   <tag>:lease:<path>           hash {holder, sessionKey, token, since, expiresAt, ttlMs, root}
--   <tag>:leases:session:<key>   set of the paths one session holds here
-- Scripts that discover which leases they touch (a session's release, the sweep, lists, the
-- eviction of a lapsed lease's holder set) build these names from the tag of KEYS[1]: same
-- slot, so the scripts stay Cluster-legal.
--
-- Fixed KEYS layout shared by every lease script: 1 the index, 2 the counter.
--
-- Times are Redis's clock (TIME): servers with skewed clocks agree on when a lease lapses. A
-- lease whose expiresAt has passed is lapsed whatever is stored: every script treats it as free
-- and removes it (reporting it, so the caller publishes lease.expired once).

local LK_INDEX = KEYS[1]
local LK_SEQ = KEYS[2]
local LK_TAG = string.match(KEYS[1], '^{[^}]*}')
-- Lease records and session sets outlive their lease by this much at most, should no sweep run:
-- they must not stay forever, and a lapsed lease is already free by its expiresAt.
local LK_GRACE_MS = 3600000

local function lk_lease(path) return LK_TAG .. ':lease:' .. path end
local function lk_session(skey) return LK_TAG .. ':leases:session:' .. skey end
local function lk_fmt(x) return string.format('%d', x) end

local function lk_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The lease stored for `path`, or nil.
local function lk_read(path)
  local h = redis.call('HMGET', lk_lease(path), 'holder', 'sessionKey', 'token', 'since', 'expiresAt', 'ttlMs', 'root')
  if not h[1] then return nil end
  return { holder = h[1], skey = h[2], token = tonumber(h[3]), since = tonumber(h[4]), exp = tonumber(h[5]),
    ttl = tonumber(h[6]), root = h[7] }
end

-- Store lease `l` on `path` and index it (a new acquisition or a renewal).
local function lk_write(path, l)
  local key = lk_lease(path)
  redis.call('HSET', key, 'holder', l.holder, 'sessionKey', l.skey, 'token', lk_fmt(l.token), 'since', lk_fmt(l.since),
    'expiresAt', lk_fmt(l.exp), 'ttlMs', lk_fmt(l.ttl), 'root', l.root)
  redis.call('PEXPIRE', key, l.ttl + LK_GRACE_MS)
  redis.call('ZADD', LK_INDEX, lk_fmt(l.exp), path)
  local set = lk_session(l.skey)
  redis.call('SADD', set, path)
  if redis.call('PTTL', set) < l.ttl + LK_GRACE_MS then
    redis.call('PEXPIRE', set, l.ttl + LK_GRACE_MS)
  end
end

-- Remove lease `l` on `path` everywhere it is recorded.
local function lk_drop(path, l)
  redis.call('DEL', lk_lease(path))
  redis.call('ZREM', LK_INDEX, path)
  redis.call('SREM', lk_session(l.skey), path)
end

-- The lease on `path` unless it has lapsed; a lapsed one is removed and returned second.
local function lk_live(path, now)
  local l = lk_read(path)
  if l and l.exp <= now then
    lk_drop(path, l)
    return nil, l
  end
  return l, nil
end

-- Append a lease as 7 reply values (path, holder, token, since, expiresAt, ttlMs, root), or 7
-- empty strings for none.
local function lk_push(out, path, l)
  if not l then
    for _ = 1, 7 do out[#out + 1] = '' end
    return
  end
  out[#out + 1] = path
  out[#out + 1] = l.holder
  out[#out + 1] = lk_fmt(l.token)
  out[#out + 1] = lk_fmt(l.since)
  out[#out + 1] = lk_fmt(l.exp)
  out[#out + 1] = lk_fmt(l.ttl)
  out[#out + 1] = l.root or ''
end
