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
  -- One XADD per shape, arguments written out: no table to build and unpack per event.
  local id
  if not entity then
    id = redis.call('XADD', stream_key, 'MAXLEN', '~', maxlen, '*', 'event', event, 'payload', payload_json, 'ts', now_ms)
  elseif state_json then
    id = redis.call('XADD', stream_key, '*', 'event', event, 'payload', payload_json, 'ts', now_ms, 'entity', entity,
      'state', state_json)
  elseif deleted_id then
    id = redis.call('XADD', stream_key, '*', 'event', event, 'payload', payload_json, 'ts', now_ms, 'entity', entity,
      'deleted', deleted_id)
  else
    id = redis.call('XADD', stream_key, '*', 'event', event, 'payload', payload_json, 'ts', now_ms, 'entity', entity)
  end
  redis.call('PUBLISH', channel,
    '{"id":"' .. id .. '","event":"' .. event .. '","ts":' .. now_ms .. ',"payload":' .. payload_json .. '}')
  return id
end
