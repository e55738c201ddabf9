-- Rate limit, GCRA (the generic cell rate algorithm) on one key: the check and the record are one
-- atomic step, so concurrent callers on any number of servers can never both take the last slot.
--
-- The promise, for a limit of `count` calls per `window` (runtime/src/resilience/rate_limit.rs):
-- a caller idle for a window may make `count` calls at once (the burst); after that one call
-- fits every I = ceil(window / count) µs (the steady rate, `count` per window). In any span of
-- t µs at most count + floor(t / I) calls are admitted, never more.
--
-- The key holds the caller's theoretical arrival time (TAT, µs on Redis' clock): when its
-- admitted calls will have been "paid off" at the steady rate. Its backlog b = TAT - now is the
-- time the calls of the current burst still cost; a call fits when b <= (count - 1) * I, and adds
-- I. The key expires when the backlog reaches 0, which is the same as no key.
--
-- KEYS[1]  the caller's TAT for this event (a string of decimal µs)
-- ARGV[1]  count: calls per window, >= 1 (the caller answers a count of 0 itself)
-- ARGV[2]  window length in ms, >= 1
-- Returns  {'ok', allowed 0|1, remaining, retry_after_ms}: remaining = calls that would still be
--          admitted right now after this one; retry_after_ms (rejections) = how long until this
--          call would be admitted, rounded up to whole ms.
local key = KEYS[1]
local count = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000
if not count or count < 1 or not window or window < 1000 then
  return {'ok', 0, 0, ARGV[2] or 0}
end

-- Whole µs, so the backlog is exact integer arithmetic (doubles hold integers up to 2^53, about
-- 285 years of µs); I rounds up, so the steady rate never exceeds count per window.
local interval = math.ceil(window / count)
local tolerance = (count - 1) * interval

-- Redis' clock, not the callers': every server measures the same backlog.
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]

local stored = redis.pcall('GET', key)
local backlog = 0
if stored then
  if type(stored) == 'table' then
    -- A key of another shape (the sliding-window log this replaced) counts as no key.
    redis.call('DEL', key)
  else
    backlog = (tonumber(stored) or now) - now
    if backlog < 0 then backlog = 0 end
  end
end

local write = false
-- A backlog above a full burst means Redis' clock went back since it was written: cap it, so
-- a step back never holds a caller longer than one interval.
if backlog > tolerance + interval then
  backlog = tolerance + interval
  write = true
end
local allowed = backlog <= tolerance
if allowed then
  backlog = backlog + interval
  write = true
end
if write then
  -- The key lives until the backlog is paid off (then it is the same as no key). SET's PX must
  -- stay below 2^63 ms; windows that long are forever in practice.
  local ttl = math.ceil(backlog / 1000)
  local tat = string.format('%.0f', now + backlog)
  if ttl > 1e15 then
    redis.call('SET', key, tat)
  else
    redis.call('SET', key, tat, 'PX', string.format('%.0f', ttl))
  end
end

-- Replies are integers; both are capped at 2^53 - 1, far past anything a caller can tell apart.
if not allowed then
  local retry = math.ceil((backlog - tolerance) / 1000)
  if retry > 9007199254740991 then retry = 9007199254740991 end
  return {'ok', 0, 0, retry}
end
local remaining = math.floor((tolerance - backlog) / interval) + 1
if remaining < 0 then remaining = 0 end
if remaining > 9007199254740991 then remaining = 9007199254740991 end
return {'ok', 1, remaining, 0}
