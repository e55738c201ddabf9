//! Gossip health and partition detection.
//!
//! Each instance reports its own health into one hash; an entry not refreshed within
//! `gossip_stale_ms` (or whose instance is no longer registered) is removed on the next report.
//! A partition is flagged when fewer than half of the registered instances are reported
//! healthy, and cleared when at least half are again; both transitions publish an event
//! (`partition.detected`, `partition.recovered`) in the same script.

use std::collections::HashMap;

use claudebench_contract::error::{Error, ErrorCode};
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};

use super::script::{Lua, eval_ok, field, lua, parse_json, redis_error};
use super::{CoordinationConfig, iso_millis, now_ms};
use claudebench_runtime::keys::Keys;

static GOSSIP: Lua = lua!("gossip_health", "publish");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 1] = [&GOSSIP];

/// Health an instance reports about itself: the spec's `HealthStatus`, the same three values the
/// `system.*` events report.
pub use claudebench_generated::types::HealthStatus;

/// One gossip entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthEntry {
    pub status: HealthStatus,
    /// ms since the epoch.
    pub last_seen: i64,
}

/// The partition view after a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionStatus {
    pub detected: bool,
    /// This report flipped the flag (detected or recovered).
    pub changed: bool,
    pub healthy: u64,
    pub total: u64,
    /// When the current partition was detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// Gossip under one key prefix.
#[derive(Debug, Clone)]
pub struct Gossip {
    keys: Keys,
    config: CoordinationConfig,
}

impl Gossip {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Gossip { keys, config }
    }

    /// Report `instance`'s health (now) and get the resulting partition view.
    pub async fn report<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        instance: &str,
        status: HealthStatus,
    ) -> Result<PartitionStatus, Error> {
        self.report_at(con, instance, status, now_ms()).await
    }

    /// [`Gossip::report`] at an explicit time (ms), for callers with their own clock.
    pub async fn report_at<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        instance: &str,
        status: HealthStatus,
        now: i64,
    ) -> Result<PartitionStatus, Error> {
        if instance.is_empty() {
            return Err(Error::new(ErrorCode::Validation, "instance id must not be empty"));
        }
        let keys = [
            self.keys.gossip(),
            self.keys.partition(),
            self.keys.instances(),
            self.keys.stream("partition.detected"),
            self.keys.stream("partition.recovered"),
        ];
        let args = [
            instance.to_string(),
            status.as_str().to_string(),
            now.to_string(),
            iso_millis(now),
            self.config.gossip_stale_ms.to_string(),
            self.config.stream_maxlen.to_string(),
            self.keys.channel("partition.detected"),
            self.keys.channel("partition.recovered"),
        ];
        let v = eval_ok(con, &GOSSIP, &keys, &args).await?;
        parse_json(field(&v, 0, "gossip_health")?, "gossip_health")
    }

    /// Every current entry (as of the last report's cleanup).
    pub async fn entries<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<HashMap<String, HealthEntry>, Error> {
        let raw: HashMap<String, String> =
            redis::cmd("HGETALL").arg(self.keys.gossip()).query_async(con).await.map_err(redis_error)?;
        // Unreadable entries are skipped; the next report removes them.
        Ok(raw.into_iter().filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|e| (k, e))).collect())
    }

    /// Whether a partition is currently flagged.
    pub async fn partition_detected<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<bool, Error> {
        let v: Option<String> = redis::cmd("HGET")
            .arg(self.keys.partition())
            .arg("detected")
            .query_async(con)
            .await
            .map_err(redis_error)?;
        Ok(v.as_deref() == Some("1"))
    }
}
