-- Replay one dead letter: append its original entry again to the stream it came from (the
-- persister reads it like any new entry) and remove it from the dead letters, atomically.
-- KEYS[1] the dead-letter stream, KEYS[2] the source stream (the dead letter's `stream` field;
--         the caller read it first and the script checks it)
-- ARGV[1] the dead letter's entry id
-- Returns { 'ok', new entry id } or { 'err', code, message }.
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entries == 0 then return { 'err', 'not_found', 'no dead letter ' .. ARGV[1] } end
local f = {}
local e = entries[1][2]
for i = 1, #e, 2 do f[e[i]] = e[i + 1] end
if f['stream'] ~= KEYS[2] then return { 'err', 'conflict', 'dead letter ' .. ARGV[1] .. ' came from another stream' } end
local fields = {}
for k, v in pairs(cjson.decode(f['fields'])) do
  fields[#fields + 1] = k
  fields[#fields + 1] = v
end
if #fields == 0 then return { 'err', 'conflict', 'dead letter ' .. ARGV[1] .. ' has no fields to replay' } end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XDEL', KEYS[1], ARGV[1])
return { 'ok', id }
