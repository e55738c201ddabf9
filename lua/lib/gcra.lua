-- Rate limit, GCRA (the generic cell rate algorithm) on one key, shared by lua/rate_limit.lua
-- (the pipeline's check) and the scripts that check their caller's limit in the same atomic
-- step as their change (lua/task_create.lua): one rule, one place.
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

-- Decides one call of the caller whose TAT is at `key`, for `count` (>= 1) calls per `window_ms`
-- (>= 1) ms; writes nothing. Returns nil for arguments out of range, else a decision:
-- { allowed, remaining, retry_after_ms, key, backlog, now, write } (remaining = calls that would
-- still be admitted right now after this one; retry_after_ms = for a refusal, how long until this
-- call would be admitted, rounded up to whole ms). Record it with cb_gcra_record once the call
-- is certain to happen: a refused or abandoned call costs nothing.
local function cb_gcra_decide(key, count, window_ms)
  count = tonumber(count)
  local window = (tonumber(window_ms) or 0) * 1000
  if not count or count < 1 or window < 1000 then return nil end

  -- Whole µs, so the backlog is exact integer arithmetic (doubles hold integers up to 2^53,
  -- about 285 years of µs); I rounds up, so the steady rate never exceeds count per window.
  local interval = math.ceil(window / count)
  local tolerance = (count - 1) * interval

  -- Redis' clock, not the callers': every server measures the same backlog.
  local t = redis.call('TIME')
  local now = t[1] * 1000000 + t[2]

  local stored = redis.pcall('GET', key)
  local backlog = 0
  local write = false
  if stored then
    if type(stored) == 'table' then
      -- A key of another shape (the sliding-window log this replaced) counts as no key.
      redis.call('DEL', key)
    else
      backlog = (tonumber(stored) or now) - now
      if backlog < 0 then backlog = 0 end
    end
  end

  -- A backlog above a full burst means Redis' clock went back since it was written: cap it, so
  -- a step back never holds a caller longer than one interval.
  if backlog > tolerance + interval then
    backlog = tolerance + interval
    write = true
  end
  local d = { allowed = backlog <= tolerance, key = key, now = now, write = write }
  -- Replies are integers; both are capped at 2^53 - 1, far past anything a caller can tell apart.
  if not d.allowed then
    d.remaining = 0
    d.retry_after_ms = math.min(math.ceil((backlog - tolerance) / 1000), 9007199254740991)
    d.backlog = backlog
    return d
  end
  d.backlog = backlog + interval
  d.write = true
  d.remaining = math.min(math.max(math.floor((tolerance - d.backlog) / interval) + 1, 0), 9007199254740991)
  d.retry_after_ms = 0
  return d
end

-- Writes what a decision of cb_gcra_decide changed (an admitted call, or a clock step capped).
local function cb_gcra_record(d)
  if not d.write then return end
  -- The key lives until the backlog is paid off (then it is the same as no key). SET's PX must
  -- stay below 2^63 ms; windows that long are forever in practice.
  local ttl = math.ceil(d.backlog / 1000)
  local tat = string.format('%.0f', d.now + d.backlog)
  if ttl > 1e15 then
    redis.call('SET', d.key, tat)
  else
    redis.call('SET', d.key, tat, 'PX', string.format('%.0f', ttl))
  end
end
