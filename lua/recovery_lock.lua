-- The lock of the one instance recovering task state after Redis lost its data
-- (domain/src/recovery.rs). Every step checks that the lock still holds this recovery's
-- token: if the control slot lost its data meanwhile, the lock is gone with it, and the
-- recovery must stop and start over. (Each partition guards its own epoch marker with a token of
-- its own: lua/partition_epoch.lua.)
-- KEYS[1] the lock
-- ARGV[1] the recovery's token, ARGV[2] action: 'renew' | 'release',
-- ARGV[3] renew: the lock's time to live (ms)
-- Returns {'ok', 1} when the lock was this recovery's (and the action was done), else {'ok', 0}.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'ok', 0} end
local action = ARGV[2]
if action == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
elseif action == 'release' then
  redis.call('DEL', KEYS[1])
else
  return {'err', 'internal', 'recovery_lock: unknown action ' .. tostring(action)}
end
return {'ok', 1}
