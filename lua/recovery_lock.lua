-- The lock of the one instance recovering task state after Redis lost its data
-- (domain/src/recovery.rs). Every step checks that the lock still holds this recovery's
-- token: if Redis lost its data again meanwhile, the lock is gone with it, and the recovery must
-- not go on — above all it must not set the epoch marker, which would reopen a Redis whose id
-- counter and tasks were lost a second time.
-- KEYS[1] the lock, KEYS[2] the epoch marker
-- ARGV[1] the recovery's token, ARGV[2] action: 'renew' | 'finish' | 'release',
-- ARGV[3] renew: the lock's time to live (ms); finish: the new epoch marker
-- Returns {'ok', 1} when the lock was this recovery's (and the action was done), else {'ok', 0}.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'ok', 0} end
local action = ARGV[2]
if action == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
elseif action == 'finish' then
  redis.call('SET', KEYS[2], ARGV[3])
elseif action == 'release' then
  redis.call('DEL', KEYS[1])
else
  return {'err', 'internal', 'recovery_lock: unknown action ' .. tostring(action)}
end
return {'ok', 1}
