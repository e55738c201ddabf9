-- Shared prelude of the circuit breaker scripts: one hash per event holds the state every
-- instance shares; every change bumps `version` and is announced on the circuit channel so the
-- instances' local copies follow without polling.
--
-- Hash fields: state (closed|open|half_open), failures (consecutive), opened_at (ms),
-- probes (half-open probes in flight), successes (half-open probe successes),
-- probe_deadline (ms; in-flight probes older than this are presumed lost), version.
-- Announcement: {"event":…,"state":…,"failures":n,"openedAt":ms,"now":ms,"version":v}.
local function cb_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function circuit_load(key)
  local v = redis.call('HMGET', key, 'state', 'failures', 'opened_at', 'probes', 'successes', 'probe_deadline', 'version')
  return {
    state = v[1] or 'closed',
    failures = tonumber(v[2]) or 0,
    opened_at = tonumber(v[3]) or 0,
    probes = tonumber(v[4]) or 0,
    successes = tonumber(v[5]) or 0,
    probe_deadline = tonumber(v[6]) or 0,
    version = tonumber(v[7]) or 0,
  }
end

local function circuit_save(key, c, channel, event, now)
  c.version = c.version + 1
  redis.call('HSET', key, 'state', c.state, 'failures', c.failures, 'opened_at', c.opened_at,
    'probes', c.probes, 'successes', c.successes, 'probe_deadline', c.probe_deadline, 'version', c.version)
  redis.call('PUBLISH', channel, '{"event":' .. cjson.encode(event) .. ',"state":"' .. c.state ..
    '","failures":' .. c.failures .. ',"openedAt":' .. c.opened_at .. ',"now":' .. now ..
    ',"version":' .. c.version .. '}')
end
