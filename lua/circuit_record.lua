-- Circuit breaker outcome: closed → open after `threshold` consecutive failures; in half_open a
-- probe failure reopens and `half_open_probes` probe successes close. Outcomes of calls that
-- were not probes are ignored while the circuit is not closed: they were admitted before it
-- opened and say nothing about recovery.
--
-- KEYS[1]  the event's circuit hash
-- ARGV[1]  outcome: success | failure
-- ARGV[2]  threshold (consecutive failures that open)
-- ARGV[3]  half_open_probes (successes that close)
-- ARGV[4]  1 when the call was admitted as a probe, else 0
-- ARGV[5]  announcement channel
-- ARGV[6]  event name
-- Returns  {'ok', state, failures, opened_at, now, version}
local key = KEYS[1]
local success = ARGV[1] == 'success'
local threshold = tonumber(ARGV[2])
local needed = tonumber(ARGV[3])
local probe = ARGV[4] == '1'
local channel = ARGV[5]
local event = ARGV[6]

local c = circuit_load(key)
local now = cb_now()
local changed = false

if c.state == 'closed' then
  if success then
    if c.failures > 0 then
      c.failures = 0
      changed = true
    end
  else
    c.failures = c.failures + 1
    changed = true
    if c.failures >= threshold then
      c.state = 'open'
      c.opened_at = now
      c.probes = 0
      c.successes = 0
    end
  end
elseif c.state == 'half_open' and probe then
  if c.probes > 0 then c.probes = c.probes - 1 end
  changed = true
  if success then
    c.successes = c.successes + 1
    if c.successes >= needed then
      c.state = 'closed'
      c.failures = 0
      c.successes = 0
      c.probes = 0
    end
  else
    c.state = 'open'
    c.opened_at = now
    c.failures = c.failures + 1
    c.successes = 0
    c.probes = 0
  end
end

if changed then
  circuit_save(key, c, channel, event, now)
end
return {'ok', c.state, c.failures, c.opened_at, now, c.version}
