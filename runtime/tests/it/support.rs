//! Shared fixtures: connections to the real services and per-test isolation.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use claudebench_runtime::keys::Keys;

/// `REDIS_URL`, or the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// `DATABASE_URL` for PostgreSQL tests, or the local default (trust auth, database `test`).
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A key prefix no other test (or test run) uses: `cbt-<pid>-<n>-<nanos>`.
pub fn unique_prefix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("cbt-{}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), nanos % 1_000_000_000)
}

/// Keys under a fresh prefix whose task state is open for use with one task partition (the
/// default): its epoch marker is set, as the first start of a deployment without SQL sets it
/// (the domain's `recovery`). Use `Keys::new(&unique_prefix())` for a prefix without it (a Redis
/// that lost its data), and [`open_partitions`] for more partitions.
pub fn unique_keys() -> Keys {
    let keys = Keys::new(&unique_prefix());
    open_partitions(&keys, 1);
    keys
}

/// Sets the epoch marker of every one of `count` task partitions under `keys`.
pub fn open_partitions(keys: &Keys, count: u32) {
    let mut conn = redis::Client::open(redis_url())
        .and_then(|c| c.get_connection())
        .expect("Redis must be running (scripts/test.sh starts it)");
    for part in claudebench_runtime::keys::Partitions::new(keys, count).all() {
        let _: () = redis::cmd("SET").arg(part.epoch()).arg("test").query(&mut conn).expect("set the epoch marker");
    }
}

/// A multiplexed connection to the test Redis.
pub async fn redis() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_url()).expect("valid REDIS_URL");
    client.get_multiplexed_async_connection().await.expect("Redis must be running (scripts/test.sh starts it)")
}

/// The one task partition of a deployment with the default partition count (1).
pub fn part0(keys: &Keys) -> claudebench_runtime::keys::PartitionKeys {
    claudebench_runtime::keys::Partitions::new(keys, 1).get(0).clone()
}
