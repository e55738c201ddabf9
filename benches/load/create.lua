-- wrk script: task.create with a fresh caller id and text per request, so per-caller rate limits
-- count but never refuse (the load is many callers, as in a fleet of agents).
local counter = 0
math.randomseed(os.time())
request = function()
  counter = counter + 1
  local id = tostring(math.random(1, 1e9)) .. "-" .. counter
  return wrk.format("POST", "/task/create",
    { ["Content-Type"] = "application/json", ["X-Client-Id"] = "load-" .. id },
    '{"text":"load ' .. id .. '","priority":50}')
end
