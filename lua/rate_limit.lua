-- Rate limit: the pipeline's check of one call (GCRA, lua/lib/gcra.lua); the check and the
-- record are one atomic step, so concurrent callers on any number of servers can never both take
-- the last slot.
--
-- KEYS[1]  the caller's TAT for this event (a string of decimal µs)
-- ARGV[1]  count: calls per window, >= 1 (the caller answers a count of 0 itself)
-- ARGV[2]  window length in ms, >= 1
-- Returns  {'ok', allowed 0|1, remaining, retry_after_ms} (see cb_gcra_decide).
local d = cb_gcra_decide(KEYS[1], ARGV[1], ARGV[2])
if not d then return {'ok', 0, 0, ARGV[2] or 0} end
cb_gcra_record(d)
return {'ok', d.allowed and 1 or 0, d.remaining, d.retry_after_ms}
