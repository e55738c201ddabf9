-- The epoch marker of one task partition, set by recovery (domain/src/recovery.rs) only if the
-- partition kept the recovery's token since recovery began: a partition that lost its data again
-- meanwhile (its master restarted once more) lost the token with it and must be recovered anew —
-- setting the marker there would reopen a partition whose id counter and tasks were lost twice.
-- KEYS: 1 the partition's recovery token, 2 the partition's epoch marker
-- ARGV: 1 token, 2 action: 'begin' | 'finish', 3 token time to live (ms)
-- Returns {'ok', 1} when done, {'ok', 0} when finishing found another (or no) token.
if ARGV[2] == 'begin' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return { 'ok', 1 }
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 'ok', 0 } end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return { 'ok', 1 }
