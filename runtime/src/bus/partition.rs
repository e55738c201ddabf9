//! Ordered per-key event logs: all events of one partition key (a session, a task, …) in
//! append order, capped, expiring when the key goes idle (`lua/partition_append.lua`).

use std::time::Duration;

use ::redis::AsyncCommands;
use claudebench_contract::error::Error;
use serde::Deserialize;
use serde_json::Value;

use crate::keys::Keys;
use crate::redis::{Conn, RedisHandle, redis_error};
use crate::scripts;

/// One entry of a partition log.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PartitionEntry {
    pub id: String,
    /// Append time, ms since the epoch (Redis clock).
    pub ts: u64,
    pub data: Value,
}

/// Appends to and reads partition logs.
#[derive(Debug, Clone)]
pub struct PartitionLog {
    conn: Conn,
    keys: Keys,
    max_entries: u64,
    idle_expiry: Duration,
}

impl PartitionLog {
    /// Logs keeping the newest `max_entries` entries, dropped after `idle_expiry` without appends.
    pub fn new(redis: &RedisHandle, keys: Keys, max_entries: u64, idle_expiry: Duration) -> Self {
        PartitionLog { conn: redis.conn(), keys, max_entries: max_entries.max(1), idle_expiry }
    }

    /// Appends one event; returns the partition's length afterwards.
    pub async fn append(&self, partition_key: &str, id: &str, data: &Value) -> Result<u64, Error> {
        let mut conn = self.conn.clone();
        let values = scripts::PARTITION_APPEND
            .call()
            .key(self.keys.partition_events(partition_key))
            .arg(id)
            .arg(data.to_string())
            .arg(self.max_entries)
            .arg(self.idle_expiry.as_millis().max(1) as u64)
            .run_ok(&mut conn)
            .await?;
        scripts::int(&values, 0, "partition_append")
    }

    /// The entries of one partition, oldest first.
    pub async fn entries(&self, partition_key: &str) -> Result<Vec<PartitionEntry>, Error> {
        let mut conn = self.conn.clone();
        let raw: Vec<String> =
            conn.lrange(self.keys.partition_events(partition_key), 0, -1).await.map_err(redis_error)?;
        Ok(raw
            .iter()
            .filter_map(|s| match serde_json::from_str(s) {
                Ok(entry) => Some(entry),
                Err(e) => {
                    tracing::warn!(partition_key, error = %e, "undecodable partition entry skipped");
                    None
                }
            })
            .collect())
    }
}
