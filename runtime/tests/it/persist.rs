//! The outbox drain into SQL and rehydration, on PostgreSQL and on SQLite.

use std::time::Duration;

use claudebench_runtime::bus::{ConsumerOptions, EntityChange, EventBus, GroupConsumer};
use claudebench_runtime::coordination::tasks::{NewTask, Outcome};
use claudebench_runtime::coordination::{Coordination, CoordinationConfig};
use claudebench_runtime::keys::Keys;
use claudebench_runtime::persist::{ChangeOrder, PERSISTER_GROUP, Persister, SqlStore, TaskChange, rehydrate};
use claudebench_runtime::redis::RedisHandle;
use redis::AsyncCommands;
use serde_json::{Value, json};

use crate::{fixtures, support};

use claudebench_runtime::coordination::tasks::TASK_STREAMS as EVENTS;

fn options(consumer: &str) -> ConsumerOptions {
    let mut o = ConsumerOptions::new(PERSISTER_GROUP, consumer, EVENTS.iter().map(|e| e.to_string()).collect());
    o.block = Duration::from_millis(50);
    o.claim_idle = Duration::from_millis(200);
    o
}

fn task(id: &str, status: &str, version: i64, text: &str) -> Value {
    json!({"id": id, "text": text, "status": status, "priority": 70, "createdAt": 1_700_000_000_000i64, "version": version, "metadata": {"k": [1, 2]}})
}

async fn publish_task(bus: &EventBus, event: &str, state: &Value) {
    bus.publish_change(event, state, EntityChange::State { entity: "task", state }).await.unwrap();
}

/// Steps until a step finds nothing (the streams are drained for this consumer).
async fn drain(p: &mut Persister) -> usize {
    let mut total = 0;
    for _ in 0..20 {
        let (n, _) = p.step().await.unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
    total
}

async fn setup(store: SqlStore) -> (RedisHandle, Keys, EventBus, SqlStore) {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 10_000);
    (redis, keys, bus, store)
}

async fn drains_changes_idempotently_and_never_lets_an_older_snapshot_win(store: SqlStore) {
    let (redis, keys, bus, store) = setup(store).await;
    publish_task(&bus, "task.created", &task("t-1", "pending", 1, "write tests")).await;
    publish_task(&bus, "task.created", &task("t-2", "pending", 1, "second")).await;
    publish_task(&bus, "task.updated", &task("t-1", "in_progress", 2, "write tests")).await;
    bus.publish("task.updated", &json!({"no": "entity"})).await.unwrap();
    bus.publish_change("task.deleted", &json!({"id": "t-2"}), EntityChange::Deleted { entity: "task", id: "t-2" })
        .await
        .unwrap();

    let mut p = Persister::with_options(&redis, &keys, store.clone(), options("p1")).await.unwrap();
    assert_eq!(drain(&mut p).await, 5);
    let t1 = store.task("t-1").await.unwrap().expect("t-1 stored");
    assert_eq!(t1.status, "in_progress");
    assert_eq!(t1.priority, 70);
    assert_eq!(t1.state["metadata"], json!({"k": [1, 2]}));
    assert!(store.task("t-2").await.unwrap().is_none(), "deleted");

    // A late, older snapshot (e.g. re-published by a retry) changes nothing.
    publish_task(&bus, "task.created", &task("t-1", "pending", 1, "write tests")).await;
    // The same change delivered twice writes once.
    publish_task(&bus, "task.updated", &task("t-1", "completed", 3, "write tests")).await;
    assert_eq!(drain(&mut p).await, 2);
    assert_eq!(store.task("t-1").await.unwrap().unwrap().status, "completed");
    let stored = store.task("t-1").await.unwrap().unwrap();
    let older = ChangeOrder { entry_seq: stored.order.entry_seq - 1, ..stored.order };
    let stale = vec![TaskChange::Upsert { id: "t-1".into(), state: task("t-1", "pending", 3, "x"), order: older }];
    let stats = store.apply(&stale).await.unwrap();
    assert_eq!((stats.written, stats.stale), (0, 1));
    let redelivered = vec![TaskChange::Upsert { id: "t-1".into(), state: stored.state.clone(), order: stored.order }];
    store.apply(&redelivered).await.unwrap();
    assert_eq!(store.task("t-1").await.unwrap().unwrap(), stored, "a re-delivered change rewrites the same row");
    // A resurrecting snapshot after the delete is ignored too.
    publish_task(&bus, "task.updated", &task("t-2", "pending", 9, "zombie")).await;
    drain(&mut p).await;
    assert!(store.task("t-2").await.unwrap().is_none());
    assert_eq!(store.row_count().await.unwrap(), 2);

    let mut conn = support::redis().await;
    for e in EVENTS {
        let pending: redis::streams::StreamPendingReply = conn.xpending(keys.stream(e), PERSISTER_GROUP).await.unwrap();
        assert_eq!(pending.count(), 0, "{e} fully acknowledged");
    }
}

async fn a_crash_between_redis_and_sql_loses_nothing_and_doubles_nothing(store: SqlStore) {
    let (redis, keys, bus, store) = setup(store).await;
    for i in 0..10 {
        publish_task(&bus, "task.created", &task(&format!("t-{i}"), "pending", 1, "x")).await;
    }
    // Crash 1: a persister reads the batch and dies before writing SQL.
    let mut reader = GroupConsumer::new(&redis, &keys, options("crashed-before-sql")).await.unwrap();
    assert_eq!(reader.next_batch().await.unwrap().len(), 10);
    drop(reader);
    assert_eq!(store.row_count().await.unwrap(), 0);

    // Crash 2: a persister writes SQL for more entries, then dies before acking.
    for i in 10..15 {
        publish_task(&bus, "task.created", &task(&format!("t-{i}"), "pending", 1, "x")).await;
    }
    let mut half = GroupConsumer::new(&redis, &keys, options("crashed-before-ack")).await.unwrap();
    let batch = half.next_batch().await.unwrap();
    let fresh: Vec<_> = batch.iter().filter(|d| !d.reclaimed).collect();
    assert_eq!(fresh.len(), 5);
    let changes: Vec<_> = fresh
        .iter()
        .map(|d| {
            let state: Value = serde_json::from_str(d.field("state").unwrap()).unwrap();
            let (ms, seq) = d.id_parts();
            TaskChange::Upsert {
                id: state["id"].as_str().unwrap().to_string(),
                state,
                order: ChangeOrder { version: 1, entry_ms: ms as i64, entry_seq: seq as i64 },
            }
        })
        .collect();
    store.apply(&changes).await.unwrap();
    drop(half);
    assert_eq!(store.row_count().await.unwrap(), 5);

    // Restart: a new persister takes over both crashed consumers' entries.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let mut p = Persister::with_options(&redis, &keys, store.clone(), options("restarted")).await.unwrap();
    assert_eq!(drain(&mut p).await, 15);
    assert_eq!(store.row_count().await.unwrap(), 15, "nothing lost, nothing doubled");
    let tasks = store.tasks().await.unwrap();
    assert_eq!(tasks.len(), 15);
    let mut conn = support::redis().await;
    let pending: redis::streams::StreamPendingReply =
        conn.xpending(keys.stream("task.created"), PERSISTER_GROUP).await.unwrap();
    assert_eq!(pending.count(), 0);
}

async fn rehydrate_restores_lost_tasks_without_touching_present_ones(store: SqlStore) {
    let (redis, keys, _bus, store) = setup(store).await;
    let coord = Coordination::new(keys.clone(), CoordinationConfig::default());
    let mut con = redis.conn();
    let meta: serde_json::Map<String, Value> = serde_json::from_value(json!({"k": [1, 2]})).unwrap();
    let a =
        coord.tasks.create(&mut con, NewTask { text: "a".into(), priority: 10, metadata: Some(meta) }).await.unwrap();
    let b = coord.tasks.create(&mut con, NewTask { text: "b".into(), priority: 50, metadata: None }).await.unwrap();
    let c = coord.tasks.create(&mut con, NewTask { text: "c".into(), priority: 60, metadata: None }).await.unwrap();
    coord.instances.register(&mut con, "w1", &["worker".to_string()]).await.unwrap();
    let claimed = coord.tasks.claim(&mut con, "w1", 2).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [c.id.as_str(), b.id.as_str()]);
    coord.tasks.complete(&mut con, &c.id, Some("w1"), Outcome::Completed(Some(json!({"ok": true})))).await.unwrap();
    let mut p = Persister::with_options(&redis, &keys, store.clone(), options("p")).await.unwrap();
    drain(&mut p).await;

    // Redis loses everything of this prefix; `a` comes back by hand first, so rehydration must
    // leave it alone and restore the other two.
    let lost: Vec<String> =
        redis::cmd("KEYS").arg(format!("{{{}}}*", keys.prefix())).query_async(&mut con).await.unwrap();
    let lost: Vec<String> = lost.into_iter().filter(|k| !k.contains(":stream:")).collect();
    let _: () = redis::cmd("DEL").arg(&lost).query_async(&mut con).await.unwrap();
    assert!(coord.tasks.restore(&mut con, &serde_json::to_value(&a).unwrap()).await.unwrap());
    let stats = rehydrate(&store, |t| {
        let (coord, mut con) = (coord.clone(), redis.conn());
        async move { coord.tasks.restore(&mut con, &t.state).await }
    })
    .await
    .unwrap();
    assert_eq!((stats.restored, stats.present), (2, 1));

    let a2 = coord.tasks.get(&mut con, &a.id).await.unwrap();
    assert_eq!((a2.priority, a2.metadata.clone()), (10, a.metadata.clone()));
    let b2 = coord.tasks.get(&mut con, &b.id).await.unwrap();
    assert_eq!((b2.status.as_str(), b2.assigned_to.as_deref()), ("pending", None), "in-flight work is re-queued");
    let c2 = coord.tasks.get(&mut con, &c.id).await.unwrap();
    assert_eq!(
        (c2.status.as_str(), c2.assigned_to.as_deref(), c2.result.clone()),
        ("completed", Some("w1"), Some(json!({"ok": true})))
    );
    coord.instances.register(&mut con, "w2", &["worker".to_string()]).await.unwrap();
    let next = coord.tasks.claim(&mut con, "w2", 5).await.unwrap();
    assert_eq!(
        next.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        [b.id.as_str(), a.id.as_str()],
        "priority order survives"
    );
    let d = coord.tasks.create(&mut con, NewTask::new("d")).await.unwrap();
    assert_eq!(d.id, "t-4", "new ids continue after the restored ones");
}

#[tokio::test]
async fn postgres_drains_changes_idempotently_and_never_lets_an_older_snapshot_win() {
    drains_changes_idempotently_and_never_lets_an_older_snapshot_win(fixtures::postgres_store().await).await;
}

#[tokio::test]
async fn sqlite_drains_changes_idempotently_and_never_lets_an_older_snapshot_win() {
    drains_changes_idempotently_and_never_lets_an_older_snapshot_win(fixtures::sqlite_store().await).await;
}

#[tokio::test]
async fn postgres_a_crash_between_redis_and_sql_loses_nothing_and_doubles_nothing() {
    a_crash_between_redis_and_sql_loses_nothing_and_doubles_nothing(fixtures::postgres_store().await).await;
}

#[tokio::test]
async fn sqlite_a_crash_between_redis_and_sql_loses_nothing_and_doubles_nothing() {
    a_crash_between_redis_and_sql_loses_nothing_and_doubles_nothing(fixtures::sqlite_store().await).await;
}

#[tokio::test]
async fn postgres_rehydrate_restores_lost_tasks_without_touching_present_ones() {
    rehydrate_restores_lost_tasks_without_touching_present_ones(fixtures::postgres_store().await).await;
}

#[tokio::test]
async fn sqlite_rehydrate_restores_lost_tasks_without_touching_present_ones() {
    rehydrate_restores_lost_tasks_without_touching_present_ones(fixtures::sqlite_store().await).await;
}

#[tokio::test]
async fn sqlite_is_the_default_database_under_the_data_dir() {
    let dir = std::env::temp_dir().join(format!("claudebench-{}", support::unique_prefix()));
    let config = claudebench_runtime::config::RuntimeConfig { data_dir: dir.join("nested"), ..Default::default() };
    let store = SqlStore::from_config(&config).await.unwrap();
    store.ping().await.unwrap();
    assert!(dir.join("nested").join("claudebench.db").exists());
}
