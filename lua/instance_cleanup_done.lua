-- The last step of taking a failed or leaving instance's tasks back: every partition has
-- re-queued them (lua/task_requeue.lua), so the cleanup entry goes and the instance's event is
-- published, once: a second finisher (two sweepers, or a retry after a crash) finds no entry.
-- KEYS: 1 cleanup hash, 2 stream of the event (instance.failed / instance.unregistered),
--       3 incarnations hash
-- ARGV: 1 instance id, 2 the cleanup entry the caller read, 3 event name, 4 event payload JSON,
--       5 now ms, 6 maxlen, 7 channel, 8 the incarnation cleaned up
-- Returns {'ok', 1} when this call finished the cleanup, {'ok', 0} when it was already done.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return { 'ok', 0 } end
redis.call('HDEL', KEYS[1], ARGV[1])
-- Forget the incarnation unless the instance registered again since (a newer one is recorded).
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[8] then redis.call('HDEL', KEYS[3], ARGV[1]) end
cb_publish(KEYS[2], ARGV[7], ARGV[6], ARGV[3], ARGV[4], ARGV[5])
return { 'ok', 1 }
