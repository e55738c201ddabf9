-- The first prelude of every task script (after publish.lua; lib/task_record.lua follows it in
-- every script but the create): the partition's key layout, the epoch guard and the queue score.
--
-- A task is one hash, `<tag>:task:<id>`, in its partition's slot (runtime/src/keys.rs,
-- `PartitionKeys`). Scripts that only discover which tasks they touch (claim, auto-assign,
-- requeue, retire) build that name from the tag of their declared keys: same slot, so the
-- script stays Cluster-legal. Fields hold JSON where the wire shape has JSON, exactly as the
-- server sent it (`text` and `error` as JSON strings, `result` and `metadata` as raw JSON), so
-- the wire JSON is built by concatenation: no cjson round trip, and empty arrays, big integers
-- and key order come back as they were sent.
--
-- Fixed KEYS layout shared by every task script (one partition):
--   1 pending queue (zset), 2..5 status indexes pending / in_progress / completed / failed (zsets
--   by id number; together they list every task the partition holds), 6 the epoch marker (see
--   tr_guard), 7 finished tasks waiting to leave Redis (zset by time).

local TR_PENDING = KEYS[1]
local TR_STATUS = { pending = KEYS[2], in_progress = KEYS[3], completed = KEYS[4], failed = KEYS[5] }
local TR_EPOCH = KEYS[6]
local TR_FINISHED = KEYS[7]
local TR_TAG = string.match(KEYS[1], '^{[^}]*}')

local function tr_key(id) return TR_TAG .. ':task:' .. id end
local function tr_by_assignee(instance) return TR_TAG .. ':tasks:assignee:' .. instance end

-- The epoch marker is written once the partition's task state is known to be complete: by the
-- first start of a deployment, or by recovery after Redis lost its data (domain/src/recovery.rs).
-- A partition without it has lost (or never had) its task state, so no task script may change
-- tasks there: an id handed out now could repeat one already issued. Every task script but the
-- restore script starts with `local lost = tr_guard() if lost then return lost end`.
local function tr_guard()
  if redis.call('EXISTS', TR_EPOCH) == 0 then
    return { 'err', 'unavailable', 'task state is being recovered after Redis lost its data; retry shortly' }
  end
  return nil
end

-- Pending-queue score: higher priority first, then id number (strictly increasing within a
-- partition, so creation order). (100 - p) * 2^40 + seq < 2^53: exact in a double.
local function tr_score(priority, seq)
  return string.format('%.0f', (100 - tonumber(priority)) * 1099511627776 + tonumber(seq))
end

