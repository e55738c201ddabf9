-- Quorum: one vote per instance per decision (a re-vote replaces the previous one). The quorum
-- is a strict majority of the given total, or of the registered instances when none is given.
-- Once a value reaches it the decision is fixed: later votes are not recorded (the answer says
-- so), so the tally that made the decision stays as it was.
-- KEYS: 1 quorum hash of this decision (fields v:<instance>, decision, decidedAt, quorum, total),
--       2 instances zset, 3 stream quorum.decision.made
-- ARGV: 1 instance, 2 value, 3 total (0 = registered count), 4 now ms, 5 now ISO, 6 TTL ms,
--       7 maxlen, 8 channel, 9 decision name
-- Returns {'ok', reached (1/0), decision, vote count, quorum, votes for the decision,
--          recorded (1/0: 0 when the decision was already final before this vote)}
-- Numbers leave the script through `int`: Lua prints large ones as `4.5035996273705e+15`, which
-- neither the caller nor a later vote could read back as the exact integer.
local function int(x) return string.format('%d', x) end
local q = KEYS[1]
local decided = redis.call('HGET', q, 'decision')
local recorded = '0'
if not decided then
  redis.call('HSET', q, 'v:' .. ARGV[1], ARGV[2])
  recorded = '1'
end
local total
if decided then
  total = tonumber(redis.call('HGET', q, 'total'))
else
  total = tonumber(ARGV[3])
  if not total or total < 1 then total = redis.call('ZCARD', KEYS[2]) end
  if total < 1 then total = 1 end
end
local quorum = math.floor(total / 2) + 1
local tally, votes = {}, 0
local flat = redis.call('HGETALL', q)
for i = 1, #flat, 2 do
  if string.sub(flat[i], 1, 2) == 'v:' then
    votes = votes + 1
    tally[flat[i + 1]] = (tally[flat[i + 1]] or 0) + 1
  end
end
if not decided then
  local best, best_n
  for value, n in pairs(tally) do
    if n >= quorum and (not best or n > best_n or (n == best_n and value < best)) then
      best, best_n = value, n
    end
  end
  if best then
    decided = best
    redis.call('HSET', q, 'decision', best, 'decidedAt', ARGV[5], 'quorum', int(quorum), 'total', int(total))
    cb_publish(KEYS[3], ARGV[8], ARGV[7], 'quorum.decision.made',
      '{"decision":' .. cjson.encode(ARGV[9]) .. ',"value":' .. cjson.encode(best) .. ',"voteCount":' .. int(best_n) ..
      ',"quorum":' .. int(quorum) .. ',"total":' .. int(total) .. '}', ARGV[4])
  end
end
redis.call('PEXPIRE', q, ARGV[6])
if decided then
  return { 'ok', '1', decided, int(votes), int(quorum), int(tally[decided] or 0), recorded }
end
return { 'ok', '0', '', int(votes), int(quorum), '0', recorded }
