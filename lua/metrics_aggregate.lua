-- Global metrics: instance counts from the control slot, task counts and queue loads as the
-- caller counted them in the task partitions (another slot each), and load balance = mean
-- absolute deviation of the live instances' queue lengths. Stored in the metrics hash.
-- KEYS: 1 metrics hash, 2 instances zset, 3 failed set
-- ARGV: 1 now ISO, 2 liveness cutoff ms, 3 queue depth, 4 pending, 5 in progress, 6 completed,
--       7 failed, 8.. per candidate instance: id, its queue length across partitions
-- Returns {'ok', JSON}
local cutoff = ARGV[2]
local loads = {}
local total_load = 0
local i = 8
while ARGV[i] do
  local seen = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if seen and tonumber(seen) >= tonumber(cutoff) then
    local n = tonumber(ARGV[i + 1])
    loads[#loads + 1] = n
    total_load = total_load + n
  end
  i = i + 2
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
  queueDepth = tonumber(ARGV[3]),
  pending = tonumber(ARGV[4]),
  inProgress = tonumber(ARGV[5]),
  completed = tonumber(ARGV[6]),
  failed = tonumber(ARGV[7]),
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
