-- Durable copy of the tasks whose state changes flow through the event streams (the outbox).
-- Portable SQL: runs unchanged on PostgreSQL and SQLite (TEXT/BIGINT only; JSON kept as TEXT).
--
-- Rows are never overwritten by an older snapshot: (version, entry_ms, entry_seq) orders the
-- changes (the task's own version when it has one, then the stream entry id), and an upsert
-- only applies when its ordering key is not smaller. A delete is a tombstone row (deleted = 1) so a
-- late, older snapshot cannot resurrect the task.
CREATE TABLE IF NOT EXISTS tasks (
    id           TEXT PRIMARY KEY,
    text         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending',
    priority     BIGINT NOT NULL DEFAULT 50,
    assigned_to  TEXT,
    created_at   TEXT,
    updated_at   TEXT,
    completed_at TEXT,
    snapshot     TEXT,
    deleted      BIGINT NOT NULL DEFAULT 0,
    version      BIGINT NOT NULL DEFAULT 0,
    entry_ms     BIGINT NOT NULL DEFAULT 0,
    entry_seq    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX IF NOT EXISTS tasks_status_idx ON tasks (status);
CREATE INDEX IF NOT EXISTS tasks_assigned_to_idx ON tasks (assigned_to);
CREATE INDEX IF NOT EXISTS tasks_priority_idx ON tasks (priority);
