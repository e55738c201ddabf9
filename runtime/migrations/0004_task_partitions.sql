-- The task partition count of each deployment (key prefix): task ids route to partitions by it,
-- so a server started with another count must refuse to run, also after Redis lost its data
-- (when the Redis copy of this record is gone too).
CREATE TABLE task_partitions (
    prefix     TEXT PRIMARY KEY,
    partitions BIGINT NOT NULL
);
