-- Hot and cold tasks: `retired = 1` marks a finished task that has left Redis, so this row is
-- its only copy and listings read it from here (domain/src/coordination/tasks.rs). A task that
-- changes again comes back into Redis and its next newer write clears the mark.
ALTER TABLE tasks ADD COLUMN retired BIGINT NOT NULL DEFAULT 0;

CREATE INDEX tasks_prefix_retired_seq_idx ON tasks (prefix, retired, seq);
