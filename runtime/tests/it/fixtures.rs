//! Fixtures of the runtime-core tests: a `RedisHandle` on the test Redis, and databases.

#![allow(dead_code)]

use claudebench_runtime::persist::SqlStore;
use claudebench_runtime::redis::RedisHandle;

use crate::support;

/// A handle on the test Redis (server or cluster, see `support`).
pub async fn handle() -> RedisHandle {
    support::redis_handle().await
}

/// A URL of a fresh PostgreSQL schema of its own (`cbt_<unique>`).
pub async fn postgres_url() -> String {
    let schema = format!("cbt_{}", support::unique_prefix().replace('-', "_"));
    let admin = support::postgres_url();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.expect("PostgreSQL must be running");
    // The schema name is built from digits and a fixed prefix only.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create schema");
    let sep = if admin.contains('?') { '&' } else { '?' };
    format!("{admin}{sep}options=-c%20search_path%3D{schema}")
}

/// A URL of a fresh SQLite file.
pub fn sqlite_url() -> String {
    let dir = std::env::temp_dir().join(format!("claudebench-{}", support::unique_prefix()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    format!("sqlite://{}?mode=rwc", dir.join("test.db").display())
}

/// A PostgreSQL store (prefix `cbt`) in a fresh schema of its own.
pub async fn postgres_store() -> SqlStore {
    SqlStore::connect(&postgres_url().await, "cbt").await.expect("connect to the test schema")
}

/// A SQLite store (prefix `cbt`) in a fresh temporary file.
pub async fn sqlite_store() -> SqlStore {
    SqlStore::connect(&sqlite_url(), "cbt").await.expect("open SQLite")
}
