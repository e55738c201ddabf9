//! Shared fixtures: connections to the real services and per-test isolation.
//!
//! The test Redis is `REDIS_URL` (default `redis://127.0.0.1:6379`), or, when
//! `CLAUDEBENCH_TEST_REDIS_CLUSTER=host:port,…` is set, that Redis Cluster (scripts/test.sh
//! runs the runtime and end-to-end tests a second time that way). A test-only variable rather
//! than `REDIS_CLUSTER_NODES`, so servers a test starts on a Redis of its own never inherit it.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use claudebench_runtime::keys::Keys;
use claudebench_runtime::redis::{Conn, RedisHandle, RedisOptions};

/// The variable naming the test cluster's seed nodes.
pub const CLUSTER_VAR: &str = "CLAUDEBENCH_TEST_REDIS_CLUSTER";

/// `REDIS_URL`, or the local default (the single-server test Redis; unused on a cluster).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// The test cluster's seed nodes when the tests run on a cluster.
pub fn cluster_nodes() -> Option<Vec<String>> {
    let list = std::env::var(CLUSTER_VAR).ok().filter(|v| !v.trim().is_empty())?;
    match claudebench_runtime::config::parse_cluster_nodes(&list) {
        Ok(nodes) => Some(nodes),
        Err(e) => panic!("{CLUSTER_VAR}: {e}"),
    }
}

/// Whether the tests run on a Redis Cluster.
pub fn on_cluster() -> bool {
    cluster_nodes().is_some()
}

/// True (after saying why on stderr) when running on a cluster, for tests that only make sense
/// on one Redis server: `if support::skip_on_cluster("…") { return; }`.
pub fn skip_on_cluster(why: &str) -> bool {
    let skip = on_cluster();
    if skip {
        eprintln!("skipped on a Redis Cluster: {why}");
    }
    skip
}

/// Connection options for the test Redis (server or cluster).
pub fn redis_options() -> RedisOptions {
    match cluster_nodes() {
        Some(nodes) => RedisOptions::cluster(nodes),
        None => RedisOptions::new(redis_url()),
    }
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

/// A blocking connection to the test Redis (server or cluster), for set-up outside async code.
pub fn blocking_redis() -> Box<dyn redis::ConnectionLike> {
    let connected: redis::RedisResult<Box<dyn redis::ConnectionLike>> = match cluster_nodes() {
        Some(nodes) => redis::cluster::ClusterClient::new(nodes.iter().map(|n| format!("redis://{n}")))
            .and_then(|c| c.get_connection())
            .map(|c| Box::new(c) as Box<dyn redis::ConnectionLike>),
        None => redis::Client::open(redis_url())
            .and_then(|c| c.get_connection())
            .map(|c| Box::new(c) as Box<dyn redis::ConnectionLike>),
    };
    connected.expect("Redis must be running (scripts/test.sh starts it)")
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
    let mut conn = blocking_redis();
    for part in claudebench_runtime::keys::Partitions::new(keys, count).all() {
        let _: () = redis::cmd("SET").arg(part.epoch()).arg("test").query(conn.as_mut()).expect("set the epoch marker");
    }
}

/// A handle on the test Redis (server or cluster).
pub async fn redis_handle() -> RedisHandle {
    RedisHandle::connect(redis_options()).await.expect("Redis must be running (scripts/test.sh starts it)")
}

/// A command connection to the test Redis (server or cluster).
pub async fn redis() -> Conn {
    redis_handle().await.conn()
}

/// The one task partition of a deployment with the default partition count (1).
pub fn part0(keys: &Keys) -> claudebench_runtime::keys::PartitionKeys {
    claudebench_runtime::keys::Partitions::new(keys, 1).get(0).clone()
}
