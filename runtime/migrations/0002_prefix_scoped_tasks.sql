-- Rows are scoped by key prefix: several deployments (CLAUDEBENCH_KEY_PREFIX) may share one
-- database and never see each other's tasks, and `seq` (the n of `t-<n>`) is a column so the
-- highest id ever stored is one indexed read.
--
-- Rows written before this migration carry no prefix; they move under the prefix '' (which no
-- deployment uses) rather than being adopted by whichever deployment starts first.
CREATE TABLE task_rows (
    prefix       TEXT NOT NULL,
    id           TEXT NOT NULL,
    seq          BIGINT NOT NULL DEFAULT 0,
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
    entry_seq    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (prefix, id)
);

INSERT INTO task_rows
    (prefix, id, seq, text, status, priority, assigned_to, created_at, updated_at, completed_at, snapshot, deleted,
     version, entry_ms, entry_seq)
SELECT '', id, 0, text, status, priority, assigned_to, created_at, updated_at, completed_at, snapshot, deleted,
       version, entry_ms, entry_seq
FROM tasks;

DROP TABLE tasks;
ALTER TABLE task_rows RENAME TO tasks;

CREATE INDEX tasks_prefix_status_idx ON tasks (prefix, status);
CREATE INDEX tasks_prefix_seq_idx ON tasks (prefix, seq);

-- Task ids reserved per prefix: the Redis id counter may only hand out ids up to the reserved
-- value, so after Redis loses its data the counter restarts above every id ever issued, whether
-- or not that task reached this table.
CREATE TABLE task_id_ranges (
    prefix         TEXT PRIMARY KEY,
    reserved_until BIGINT NOT NULL DEFAULT 0
);
