-- Global metrics from the indexes (no key enumeration): instance counts, task counts by status,
-- queue depth, and load balance = mean absolute deviation of the live instances' queue lengths.
-- KEYS: 1 metrics hash, 2 instances zset, 3 failed set, 4 pending queue, 5..8 status zsets
--       (pending, in_progress, completed, failed), 9.. queues of the candidate instances
-- ARGV: 1 now ISO, 2 liveness cutoff ms, 3.. candidate instance ids (same order as their queues)
-- Returns {'ok', JSON}
local cutoff = ARGV[2]
local loads = {}
local total_load = 0
local i = 3
while ARGV[i] do
  local seen = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if seen and tonumber(seen) >= tonumber(cutoff) then
    local n = redis.call('ZCARD', KEYS[9 + i - 3])
    loads[#loads + 1] = n
    total_load = total_load + n
  end
  i = i + 1
end
local mad = 0
if #loads > 0 then
  local mean = total_load / #loads
  local dev = 0
  for _, n in ipairs(loads) do dev = dev + math.abs(n - mean) end
  mad = dev / #loads
end
local m = {
  instances = redis.call('ZCARD', KEYS[2]),
  aliveInstances = redis.call('ZCOUNT', KEYS[2], cutoff, '+inf'),
  failedInstances = redis.call('SCARD', KEYS[3]),
  queueDepth = redis.call('ZCARD', KEYS[4]),
  pending = redis.call('ZCARD', KEYS[5]),
  inProgress = redis.call('ZCARD', KEYS[6]),
  completed = redis.call('ZCARD', KEYS[7]),
  failed = redis.call('ZCARD', KEYS[8]),
  totalLoad = total_load,
  loadBalance = mad,
}
m.totalTasks = m.pending + m.inProgress + m.completed + m.failed
local flat = {}
for k, v in pairs(m) do
  flat[#flat + 1] = k
  flat[#flat + 1] = tostring(v)
end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1], unpack(flat))
m.updatedAt = ARGV[1]
return { 'ok', cjson.encode(m) }
