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
--          call would be admitted, rounded up to whole ms. Both are capped at 2^53 - 1, far past
--          anything a caller can tell apart.
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
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

-- A key left in another shape (the sliding-window log this replaced) counts as no key.
local stored = redis.pcall('GET', key)
if type(stored) == 'table' then
  redis.call('DEL', key)
  stored = false
end

local backlog = 0
if stored then
  backlog = (tonumber(stored) or now) - now
  if backlog < 0 then backlog = 0 end
end

local function store(b)
  local ttl = math.ceil(b / 1000)
  if ttl < 1 then ttl = 1 end
  local tat = string.format('%.0f', now + b)
  -- SET's PX must stay below 2^63 ms; windows that long are forever in practice.
  if ttl > 1e15 then
    redis.call('SET', key, tat)
  else
    redis.call('SET', key, tat, 'PX', string.format('%.0f', ttl))
  end
end

-- A backlog above a full burst means Redis' clock went back since it was written: cap it, so
-- a step back never holds a caller longer than a full burst would.
if backlog > tolerance + interval then
  backlog = tolerance + interval
  store(backlog)
end

if backlog > tolerance then
  local retry = math.ceil((backlog - tolerance) / 1000)
  if retry < 1 then retry = 1 end
  if retry > 9007199254740991 then retry = 9007199254740991 end
  return {'ok', 0, 0, string.format('%.0f', retry)}
end

backlog = backlog + interval
store(backlog)
local remaining = 0
if backlog <= tolerance then
  remaining = math.floor((tolerance - backlog) / interval) + 1
end
if remaining > 9007199254740991 then remaining = 9007199254740991 end
return {'ok', 1, string.format('%.0f', remaining), 0}
