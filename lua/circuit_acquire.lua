-- Circuit breaker admission, called only when the local copy says the circuit is not closed:
-- moves open → half_open once open_ms have passed and admits at most `half_open_probes`
-- concurrent probes.
--
-- KEYS[1]  the event's circuit hash
-- ARGV[1]  open_ms
-- ARGV[2]  half_open_probes
-- ARGV[3]  announcement channel
-- ARGV[4]  event name
-- Returns  {'ok', admitted 0|1, probe 0|1, state, failures, opened_at, now, version, retry_after_ms}
local key = KEYS[1]
local open_ms = tonumber(ARGV[1])
local max_probes = tonumber(ARGV[2])
local channel = ARGV[3]
local event = ARGV[4]

local c = circuit_load(key)
local now = cb_now()

local function reply(admitted, probe, retry)
  return {'ok', admitted, probe, c.state, c.failures, c.opened_at, now, c.version, retry}
end

if c.state == 'closed' then
  return reply(1, 0, 0)
end

if c.state == 'open' then
  local wait = c.opened_at + open_ms - now
  if wait > 0 then
    return reply(0, 0, wait)
  end
  c.state = 'half_open'
  c.probes = 0
  c.successes = 0
end

-- half_open. Probes whose outcome never came back (their instance died) must not keep the
-- circuit half-open forever: after open_ms without news they stop counting.
if c.probes >= max_probes and now >= c.probe_deadline then
  c.probes = 0
end
if c.probes < max_probes then
  c.probes = c.probes + 1
  c.probe_deadline = now + open_ms
  circuit_save(key, c, channel, event, now)
  return reply(1, 1, 0)
end
local retry = c.probe_deadline - now
if retry < 1 then retry = 1 end
return reply(0, 0, retry)
