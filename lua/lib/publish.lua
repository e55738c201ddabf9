-- Shared prelude, prepended (by the Rust loader) to every script that publishes an event.
-- It appends the entry to the event's stream and announces it on the event's pub/sub channel,
-- inside the caller's atomic script: the state change and its event can never be separated. The
-- stream key must be one of the caller's KEYS (same hash slot).
--
-- Entries without an entity are capped here (MAXLEN ~). Entries carrying an entity change are the
-- SQL outbox and are never capped on write: the cap would trim entries the persister has not read
-- yet. Their streams are trimmed only behind the persister group (lua/outbox_trim.lua).
--
-- Stream entry fields: event, payload (JSON), ts (ms), and for persisted entities `entity`
-- (e.g. "task") with `state` (JSON snapshot to upsert) or `deleted` (the id removed).
-- Pub/sub message: {"id": <entry id>, "event": ..., "ts": ..., "payload": ...}.
local function cb_publish(stream_key, channel, maxlen, event, payload_json, now_ms, entity, state_json, deleted_id)
  local fields = { 'event', event, 'payload', payload_json, 'ts', tostring(now_ms) }
  if entity then
    fields[#fields + 1] = 'entity'
    fields[#fields + 1] = entity
    if state_json then
      fields[#fields + 1] = 'state'
      fields[#fields + 1] = state_json
    end
    if deleted_id then
      fields[#fields + 1] = 'deleted'
      fields[#fields + 1] = deleted_id
    end
  end
  local id
  if entity then
    id = redis.call('XADD', stream_key, '*', unpack(fields))
  else
    id = redis.call('XADD', stream_key, 'MAXLEN', '~', maxlen, '*', unpack(fields))
  end
  redis.call('PUBLISH', channel,
    '{"id":"' .. id .. '","event":"' .. event .. '","ts":' .. tostring(now_ms) .. ',"payload":' .. payload_json .. '}')
  return id
end
