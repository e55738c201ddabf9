-- The sweep found a repository without leases: forget it, unless a lease was acquired there
-- since the sweep read the registry (every new acquisition bumps the repository's version after
-- its own script, so an acquisition the sweep could not see either changed the version first or
-- adds the repository back afterwards).
-- KEYS: 1 the registry of repositories (zset digest → version)
-- ARGV: 1 digest, 2 the version the sweep read
-- Returns {'ok', 1 if forgotten else 0}
local version = redis.call('ZSCORE', KEYS[1], ARGV[1])
if version and tonumber(version) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return { 'ok', '1' }
end
return { 'ok', '0' }
