-- wrk script: benches/load/create.lua's requests (a fresh caller id and text per request), plus
-- a count of the answers by status class and one machine-readable closing line:
--   RESULT requests=N ok=N non2xx=N errors=N seconds=S ok_per_s=R p50_us=L p99_us=L max_us=L
-- wrk runs each thread in its own Lua state; setup() keeps the threads so done() can add up
-- their counters. Run it from the repository root (it loads create.lua by relative path).
dofile("benches/load/create.lua")

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

ok, bad = 0, 0
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d ok=%d non2xx=%d errors=%d seconds=%.3f ok_per_s=%.1f p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, o, b, errors, seconds, o / seconds,
    latency:percentile(50), latency:percentile(99), latency.max))
end
