//! Domain integration tests, against the real Redis (and PostgreSQL) of this machine: the
//! coordination scripts, Claude Code sessions, the hook policy tables and the outbox loop from a
//! task script to SQL.
//! Each test works under its own key prefix, so tests run in parallel without interfering.

// The runtime's connection helpers and per-test isolation, shared rather than copied.
#[path = "../../../runtime/tests/it/fixtures.rs"]
mod fixtures;
#[path = "../../../runtime/tests/it/support.rs"]
mod support;

/// Each test function runs on PostgreSQL and on SQLite: `on_both!(pg_module, sqlite_module,
/// pg_fixture, sqlite_fixture; test, …)` makes `pg_module::test` and `sqlite_module::test`, each
/// calling `test(fixture)`.
macro_rules! on_both {
    ($pg:ident, $lite:ident, $pg_fixture:expr, $lite_fixture:expr; $($name:ident),* $(,)?) => {
        mod $pg {
            $(#[tokio::test]
            async fn $name() {
                super::$name($pg_fixture).await;
            })*
        }
        mod $lite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($lite_fixture).await;
            })*
        }
    };
}

mod attack_lifecycle;
mod coordination_cluster;
mod coordination_hooks;
mod coordination_instances;
mod coordination_leader;
mod coordination_tasks;
mod guard_corpus;
mod guard_fuzz;
mod guard_redteam;
mod leases;
mod lifecycle_setup;
mod persist;
mod sessions;
mod task_lifecycle;
mod task_partitions;
