//! The outbox drain into SQL, dead letters, recovery after a Redis data loss and prefix scoping,
//! on PostgreSQL and on SQLite.

use std::time::Duration;

use claudebench_domain::coordination::ErrorCode;
use claudebench_domain::coordination::tasks::{NewTask, Outcome, Tasks};
use claudebench_domain::coordination::{Coordination, CoordinationConfig};
use claudebench_domain::recovery::{EpochCheck, ensure_epoch, top_up_ids};
use claudebench_runtime::bus::{ConsumerOptions, EntityChange, EventBus, GroupConsumer};
use claudebench_runtime::keys::Keys;
use claudebench_runtime::metrics::Metrics;
use claudebench_runtime::persist::{
    ChangeOrder, DeadLetters, PERSISTER_GROUP, Persister, SqlStore, TaskChange, seq_of,
};
use claudebench_runtime::redis::RedisHandle;
use redis::AsyncCommands;
use serde_json::{Value, json};

use crate::{fixtures, support};

use claudebench_domain::coordination::tasks::TASK_STREAMS as EVENTS;

fn options(consumer: &str) -> ConsumerOptions {
    let mut o = ConsumerOptions::new(PERSISTER_GROUP, consumer, EVENTS.iter().map(|e| e.to_string()).collect());
    o.block = Duration::from_millis(50);
    o.claim_idle = Duration::from_millis(200);
    o
}

/// A persister over the task streams of the one partition of a default deployment.
fn task_options(consumer: &str, keys: &Keys) -> ConsumerOptions {
    let mut o = options(consumer);
    o.stream_keys = Some(EVENTS.iter().map(|e| support::part0(keys).stream(e)).collect());
    o
}

/// The coordination services of a deployment persisting to `store` (finished tasks leave Redis
/// for it; reads fall back to it).
fn with_store(keys: &Keys, store: &SqlStore) -> Coordination {
    let config = CoordinationConfig::default();
    let tasks = Tasks::new(keys.clone(), config.clone()).with_store(store.clone());
    Coordination::with_tasks(tasks, keys.clone(), config)
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
        let n = p.step().await.unwrap().entries;
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

async fn recovery_restores_lost_tasks_without_touching_present_ones(store: SqlStore) {
    let (redis, keys, _bus, store) = setup(store).await;
    let coord = with_store(&keys, &store);
    let mut con = redis.conn();
    let meta: serde_json::Map<String, Value> = serde_json::from_value(json!({"k": [1, 2]})).unwrap();
    let a =
        coord.tasks.create(&mut con, NewTask { text: "a".into(), priority: 10, metadata: Some(meta) }).await.unwrap();
    let b = coord.tasks.create(&mut con, NewTask { text: "b".into(), priority: 50, metadata: None }).await.unwrap();
    let c = coord.tasks.create(&mut con, NewTask { text: "c".into(), priority: 60, metadata: None }).await.unwrap();
    coord.instances.register(&mut con, "w1", &["worker".to_string()]).await.unwrap();
    let claimed = coord.tasks.claim(&mut con, "w1", 2).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [c.id.as_str(), b.id.as_str()]);
    coord.tasks.complete(&mut con, &c.id, "w1", Outcome::Completed(Some(json!({"ok": true})))).await.unwrap();
    let mut p = Persister::with_options(&redis, &keys, store.clone(), task_options("p", &keys)).await.unwrap();
    drain(&mut p).await;

    // Redis loses everything of this prefix (streams included); `a` comes back by hand first,
    // so recovery must leave it alone and restore the other two.
    lose_everything(&keys).await;
    let gone = coord.tasks.create(&mut con, NewTask::new("while lost")).await.unwrap_err();
    assert_eq!(gone.code, ErrorCode::Unavailable, "no task is created against lost state: {gone:?}");
    assert_eq!(gone.retry_after_ms, Some(1000));
    // A task Redis held (not retired to SQL) is unavailable while its partition is lost: SQL's
    // copy may be behind, and "not found" would be a lie.
    assert_eq!(coord.tasks.get(&mut con, &b.id).await.unwrap_err().code, ErrorCode::Unavailable, "no false 404");
    assert_eq!(coord.tasks.get(&mut con, "t-999").await.unwrap_err().code, ErrorCode::Unavailable, "no false 404");
    assert!(coord.tasks.restore(&mut con, &serde_json::to_value(&a).unwrap()).await.unwrap());
    let metrics = Metrics::new();
    let check = ensure_epoch(&redis, &keys, &coord.tasks, Some(&store), "recoverer", &metrics).await.unwrap();
    let EpochCheck::Recovered(stats) = check else { panic!("recovered: {check:?}") };
    assert_eq!((stats.unfinished, stats.finished, stats.present), (1, 1, 1));
    assert!(!metrics.durability().recovering);
    assert_eq!(
        ensure_epoch(&redis, &keys, &coord.tasks, Some(&store), "recoverer", &metrics).await.unwrap(),
        EpochCheck::Intact
    );

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
    assert!(seq_of(&d.id) > seq_of(&c.id), "new ids continue after the restored ones: {}", d.id);

    // A restored task's next changes are newer than its SQL row, so they reach SQL.
    coord.tasks.complete(&mut con, &b.id, "w2", Outcome::Completed(Some(json!("after recovery")))).await.unwrap();
    let mut p = Persister::with_options(&redis, &keys, store.clone(), task_options("p2", &keys)).await.unwrap();
    drain(&mut p).await;
    let stored = store.task(&b.id).await.unwrap().unwrap();
    assert_eq!((stored.status.as_str(), &stored.state["result"]), ("completed", &json!("after recovery")));
    assert!(store.task(&d.id).await.unwrap().is_some());
}

/// Deletes every key of the prefix, as a Redis restarted without persistence would have them.
async fn lose_everything(keys: &Keys) {
    let mut con = support::redis().await;
    let mut lost: Vec<String> =
        redis::cmd("KEYS").arg(format!("{{{}}}*", keys.prefix())).query_async(&mut con).await.unwrap();
    let partitions: Vec<String> =
        redis::cmd("KEYS").arg(format!("{{{}:*", keys.prefix())).query_async(&mut con).await.unwrap();
    lost.extend(partitions);
    let _: () = redis::cmd("DEL").arg(&lost).query_async(&mut con).await.unwrap();
}

async fn ids_are_never_reused_after_redis_loses_unpersisted_tasks(store: SqlStore) {
    let (redis, keys, _bus, store) = setup(store).await;
    let coord = Coordination::new(keys.clone(), CoordinationConfig::default());
    let mut con = redis.conn();
    let metrics = Metrics::new();
    top_up_ids(&redis, &coord.tasks, &store).await.unwrap();
    let mut p = Persister::with_options(&redis, &keys, store.clone(), task_options("p", &keys)).await.unwrap();
    for i in 0..20 {
        coord.tasks.create(&mut con, NewTask::new(format!("persisted {i}"))).await.unwrap();
    }
    drain(&mut p).await;
    // Acknowledged, but Redis dies before the persister reads them.
    let mut unpersisted = Vec::new();
    for i in 0..30 {
        unpersisted.push(coord.tasks.create(&mut con, NewTask::new(format!("lost {i}"))).await.unwrap().id);
    }
    let highest_issued = unpersisted.iter().map(|id| seq_of(id)).max().unwrap();
    assert!(highest_issued > store.max_seq().await.unwrap());
    lose_everything(&keys).await;
    ensure_epoch(&redis, &keys, &coord.tasks, Some(&store), "r", &metrics).await.unwrap();
    for i in 0..5 {
        let t = coord.tasks.create(&mut con, NewTask::new(format!("after {i}"))).await.unwrap();
        assert!(seq_of(&t.id) > highest_issued, "{} repeats an id issued before the loss (≤ t-{highest_issued})", t.id);
    }
    let mut p = Persister::with_options(&redis, &keys, store.clone(), task_options("p2", &keys)).await.unwrap();
    drain(&mut p).await;
    let texts: Vec<String> = store.tasks().await.unwrap().iter().map(|t| t.text.clone()).collect();
    assert_eq!(texts.len(), 25);
    assert!(texts.iter().all(|t| !t.starts_with("lost")), "the lost tasks never appear: {texts:?}");
}

/// Redis loses its data AGAIN while recovery is restoring unfinished tasks (restarted twice in
/// quick succession, a second FLUSHALL, a failover during recovery). The recovery that was
/// running must not carry on into the emptied Redis and set the epoch marker there: its id
/// counter and limit (and the lock) went with the second loss, so the counter would restart at
/// the seq of the last restored task (below the reservation: ids handed out before the loss
/// repeat), and the tasks restored before the second loss would stay missing.
async fn a_second_loss_during_recovery_never_lets_ids_repeat(store: SqlStore) {
    let (redis, keys, _bus, store) = setup(store).await;
    let coord = Coordination::new(keys.clone(), CoordinationConfig::default());
    let mut con = redis.conn();
    // SQL holds 20,000 unfinished tasks and a reservation above them (a deployment that ran).
    const STORED: i64 = 20_000;
    let changes: Vec<TaskChange> = (1..=STORED)
        .map(|n| {
            let id = format!("t-{n}");
            let state = json!({"id": id, "text": format!("stored {n}"), "status": "pending", "priority": 50,
                "assignedTo": null, "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z",
                "version": 1});
            TaskChange::Upsert { id, state, order: ChangeOrder { version: 1, ..ChangeOrder::default() } }
        })
        .collect();
    for chunk in changes.chunks(2_000) {
        store.apply(chunk).await.unwrap();
    }
    // Ids up to the reservation may have been handed out before Redis lost them (acknowledged,
    // not yet in SQL): after a loss the counter must restart above it.
    let reserved = store.reserve_ids(STORED, 1_000).await.unwrap();

    // Redis loses everything (first loss): recovery starts; once it has restored a few pages,
    // Redis loses everything again.
    lose_everything(&keys).await;
    let metrics = std::sync::Arc::new(Metrics::new());
    let recovery = {
        let (redis, keys, tasks, store, metrics) =
            (redis.clone(), keys.clone(), coord.tasks.clone(), store.clone(), metrics.clone());
        tokio::spawn(async move { ensure_epoch(&redis, &keys, &tasks, Some(&store), "r", &metrics).await })
    };
    let started = std::time::Instant::now();
    loop {
        let restored: i64 =
            redis::cmd("ZCARD").arg(support::part0(&keys).by_status("pending")).query_async(&mut con).await.unwrap();
        if restored >= 4_000 {
            break;
        }
        if recovery.is_finished() {
            panic!("recovery finished before the second loss could be injected: {:?}", recovery.await.unwrap());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "recovery restored nothing in 60 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    lose_everything(&keys).await;
    let first = recovery.await.unwrap();
    // Whatever the interrupted recovery answered, the periodic check runs again (as on a
    // server) until the marker is there.
    let mut checks = vec![format!("{first:?}")];
    for _ in 0..10 {
        match ensure_epoch(&redis, &keys, &coord.tasks, Some(&store), "r", &metrics).await {
            Ok(EpochCheck::Intact) => break,
            other => checks.push(format!("{other:?}")),
        }
    }

    let t = coord.tasks.create(&mut con, NewTask::new("after the second loss")).await.unwrap();
    let first_task = coord.tasks.get(&mut con, "t-1").await;
    let restored: i64 =
        redis::cmd("ZCARD").arg(support::part0(&keys).by_status("pending")).query_async(&mut con).await.unwrap();
    let mut broken = Vec::new();
    if seq_of(&t.id) <= reserved {
        broken.push(format!("{} may repeat an id issued before the loss (reserved up to t-{reserved})", t.id));
    }
    if !first_task.as_ref().is_ok_and(|t| t.status.as_str() == "pending") {
        broken.push(format!("the unfinished task t-1 did not come back pending: {first_task:?}"));
    }
    if restored < STORED + 1 {
        broken.push(format!("Redis holds {restored} tasks, SQL {STORED} unfinished ones (+1 created)"));
    }
    assert!(broken.is_empty(), "{}; epoch checks: {checks:?}", broken.join("; "));
}

/// Only the epoch marker is lost (deleted by hand, evicted) while a deletion is still in the
/// outbox (SQL behind or down). Redis still holds complete task state, including the fact that
/// the task is gone; recovery must not bring an acknowledged deletion back from SQL's older copy.
async fn recovery_never_resurrects_a_deleted_task(store: SqlStore) {
    let (redis, keys, _bus, store) = setup(store).await;
    let coord = Coordination::new(keys.clone(), CoordinationConfig::default());
    let mut con = redis.conn();
    let metrics = Metrics::new();
    ensure_epoch(&redis, &keys, &coord.tasks, Some(&store), "r", &metrics).await.unwrap();
    let t = coord.tasks.create(&mut con, NewTask::new("to be deleted")).await.unwrap();
    let mut p = Persister::with_options(&redis, &keys, store.clone(), task_options("p", &keys)).await.unwrap();
    drain(&mut p).await;
    assert!(store.task(&t.id).await.unwrap().is_some());
    // Acknowledged delete; the persister has not drained it yet.
    coord.tasks.delete(&mut con, &t.id).await.unwrap();
    let _: () = redis::cmd("DEL").arg(support::part0(&keys).epoch()).query_async(&mut con).await.unwrap();
    ensure_epoch(&redis, &keys, &coord.tasks, Some(&store), "r", &metrics).await.unwrap();
    drain(&mut p).await;
    let after = coord.tasks.get(&mut con, &t.id).await;
    assert!(
        after.as_ref().is_err_and(|e| e.code == ErrorCode::NotFound),
        "the deleted task {} came back after recovery: {after:?} (SQL, deleted rows hidden: {:?})",
        t.id,
        store.task(&t.id).await.unwrap().map(|r| r.status)
    );
}

async fn the_id_counter_stops_at_the_reservation_until_it_is_topped_up(store: SqlStore) {
    let (redis, keys, _bus, store) = setup(store).await;
    let coord = Coordination::new(keys.clone(), CoordinationConfig::default());
    let mut con = redis.conn();
    let limit = top_up_ids(&redis, &coord.tasks, &store).await.unwrap().expect("a first reservation");
    assert_eq!(store.reserved_ids().await.unwrap(), limit);
    assert_eq!(top_up_ids(&redis, &coord.tasks, &store).await.unwrap(), None, "plenty left: no new reservation");
    // Jump the counter to the limit: the next create must wait for a reservation.
    let _: () = redis::cmd("SET").arg(support::part0(&keys).seq()).arg(limit).query_async(&mut con).await.unwrap();
    let refused = coord.tasks.create(&mut con, NewTask::new("over")).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unavailable, "{refused:?}");
    let more = top_up_ids(&redis, &coord.tasks, &store).await.unwrap().expect("topped up");
    assert!(more > limit);
    let t = coord.tasks.create(&mut con, NewTask::new("fits")).await.unwrap();
    assert_eq!(seq_of(&t.id), limit + 1);
}

async fn deployments_sharing_a_database_never_see_each_others_rows(url: String) {
    let one = SqlStore::connect(&url, "one").await.unwrap();
    let two = SqlStore::connect(&url, "two").await.unwrap();
    let change = |text: &str| TaskChange::Upsert {
        id: "t-1".into(),
        state: task("t-1", "pending", 1, text),
        order: ChangeOrder { version: 1, ..ChangeOrder::default() },
    };
    one.apply(&[change("of one")]).await.unwrap();
    two.apply(&[change("of two")]).await.unwrap();
    assert_eq!(one.task("t-1").await.unwrap().unwrap().text, "of one");
    assert_eq!(two.task("t-1").await.unwrap().unwrap().text, "of two");
    assert_eq!((one.tasks().await.unwrap().len(), two.tasks().await.unwrap().len()), (1, 1));
    assert_eq!(one.reserve_ids(0, 10).await.unwrap(), 10);
    assert_eq!(two.reserved_ids().await.unwrap(), 0, "reservations are per prefix too");
    let three = SqlStore::connect(&url, "three").await.unwrap();
    assert_eq!((three.row_count().await.unwrap(), three.max_seq().await.unwrap()), (0, 0));
    // A new deployment recovering on the shared database adopts nobody's tasks.
    let redis = fixtures::handle().await;
    let keys = Keys::new(&support::unique_prefix());
    let coord = Coordination::new(keys.clone(), CoordinationConfig::default());
    let check = ensure_epoch(&redis, &keys, &coord.tasks, Some(&three), "new", &Metrics::new()).await.unwrap();
    let EpochCheck::Recovered(stats) = check else { panic!("{check:?}") };
    assert_eq!((stats.unfinished, stats.finished, stats.present), (0, 0, 0));
}

/// A rule the database enforces that refuses one task text (PostgreSQL CHECK, SQLite trigger):
/// a real refusal by the real database, for the poison tests.
async fn refuse_text(url: &str, text: &str, on: bool) {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await.unwrap();
    let sql = match (url.starts_with("sqlite"), on) {
        (false, true) => format!("ALTER TABLE tasks ADD CONSTRAINT refuse CHECK (text <> '{text}')"),
        (false, false) => "ALTER TABLE tasks DROP CONSTRAINT refuse".to_string(),
        (true, true) => format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON tasks WHEN NEW.text = '{text}' \
             BEGIN SELECT RAISE(ABORT, 'refused text'); END"
        ),
        (true, false) => "DROP TRIGGER refuse".to_string(),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
}

async fn poison_entries_go_to_the_dead_letters_and_the_rest_flows(url: String) {
    sqlx::any::install_default_drivers();
    let store = SqlStore::connect(&url, "cbt").await.unwrap();
    let (redis, keys, bus, store) = setup(store).await;
    refuse_text(&url, "poison", true).await;
    for i in 0..10 {
        publish_task(&bus, "task.created", &task(&format!("t-{i}"), "pending", 1, "fine")).await;
    }
    // Refused by the database; not JSON; no id; a JSON array; a text with U+0000 (fine: stored).
    publish_task(&bus, "task.created", &task("t-100", "pending", 1, "poison")).await;
    let raw = |state: &str| {
        let state = state.to_string();
        let key = keys.stream("task.updated");
        async move {
            let mut con = support::redis().await;
            let _: String =
                con.xadd(key, "*", &[("event", "task.updated"), ("entity", "task"), ("state", &state)]).await.unwrap();
        }
    };
    raw("not json").await;
    raw(r#"{"text": "no id"}"#).await;
    raw("[1, 2]").await;
    publish_task(&bus, "task.created", &task("t-200", "pending", 1, "nul \u{0} inside")).await;
    for i in 10..20 {
        publish_task(&bus, "task.created", &task(&format!("t-{i}"), "pending", 1, "fine")).await;
    }

    let metrics = std::sync::Arc::new(Metrics::new());
    let mut p = Persister::with_options(&redis, &keys, store.clone(), options("p"))
        .await
        .unwrap()
        .with_metrics(metrics.clone());
    assert_eq!(drain(&mut p).await, 25);
    assert_eq!(store.tasks().await.unwrap().len(), 21, "everything but the poison reached SQL");
    assert_eq!(
        store.task("t-200").await.unwrap().unwrap().state["text"],
        json!("nul \u{0} inside"),
        "U+0000 kept exactly"
    );
    let letters = DeadLetters::new(&redis, &keys);
    let list = letters.list(10).await.unwrap();
    assert_eq!(list.len(), 4, "{list:#?}");
    assert_eq!(metrics.durability().dead_letters, 4);
    let refused = list.iter().find(|d| d.fields.get("state").is_some_and(|s| s.contains("poison"))).unwrap();
    assert!(refused.reason.contains("refused"), "{}", refused.reason);
    assert_eq!(refused.stream, keys.stream("task.created"));
    for reason in ["not JSON", "no id", "not a JSON object"] {
        assert!(list.iter().any(|d| d.reason.contains(reason)), "a dead letter says {reason:?}: {list:#?}");
    }

    // Fixed: the database takes the text again; the replayed entry reaches SQL, once.
    refuse_text(&url, "poison", false).await;
    letters.replay(&refused.id).await.unwrap();
    drain(&mut p).await;
    assert_eq!(store.task("t-100").await.unwrap().unwrap().text, "poison");
    assert_eq!(letters.count().await.unwrap(), 3);
    assert_eq!(letters.replay(&refused.id).await.unwrap_err().code, ErrorCode::NotFound);
    // Replaying a hopeless one brings it back as a dead letter; dropping removes it.
    let hopeless = list.iter().find(|d| d.reason.contains("not JSON")).unwrap();
    letters.replay(&hopeless.id).await.unwrap();
    drain(&mut p).await;
    assert_eq!(letters.count().await.unwrap(), 3);
    for d in letters.list(10).await.unwrap() {
        assert!(letters.remove(&d.id).await.unwrap());
    }
    assert_eq!(letters.count().await.unwrap(), 0);
}

async fn a_change_of_a_different_task_under_a_stored_id_is_refused(store: SqlStore) {
    let (redis, keys, bus, store) = setup(store).await;
    publish_task(&bus, "task.created", &task("t-1", "completed", 5, "the original")).await;
    let mut impostor = task("t-1", "pending", 9, "an impostor");
    impostor["createdAt"] = json!("2030-01-01T00:00:00.000Z");
    publish_task(&bus, "task.created", &impostor).await;
    let mut p = Persister::with_options(&redis, &keys, store.clone(), options("p")).await.unwrap();
    drain(&mut p).await;
    assert_eq!(store.task("t-1").await.unwrap().unwrap().text, "the original", "never overwritten");
    let list = DeadLetters::new(&redis, &keys).list(10).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].reason.contains("different task"), "{}", list[0].reason);
}

async fn an_unreachable_database_leaves_entries_pending(store: SqlStore) {
    let (redis, keys, bus, store) = setup(store).await;
    publish_task(&bus, "task.created", &task("t-1", "pending", 1, "x")).await;
    let mut p = Persister::with_options(&redis, &keys, store.clone(), options("p")).await.unwrap();
    store.close().await;
    let e = p.step().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
    let mut conn = support::redis().await;
    let pending: redis::streams::StreamPendingReply =
        conn.xpending(keys.stream("task.created"), PERSISTER_GROUP).await.unwrap();
    assert_eq!(pending.count(), 1, "not acknowledged, not dead-lettered");
    assert_eq!(DeadLetters::new(&redis, &keys).count().await.unwrap(), 0);
}

on_both!(
    postgres,
    sqlite,
    crate::fixtures::postgres_store().await,
    crate::fixtures::sqlite_store().await;
    drains_changes_idempotently_and_never_lets_an_older_snapshot_win,
    a_crash_between_redis_and_sql_loses_nothing_and_doubles_nothing,
    recovery_restores_lost_tasks_without_touching_present_ones,
    ids_are_never_reused_after_redis_loses_unpersisted_tasks,
    a_second_loss_during_recovery_never_lets_ids_repeat,
    recovery_never_resurrects_a_deleted_task,
    the_id_counter_stops_at_the_reservation_until_it_is_topped_up,
    a_change_of_a_different_task_under_a_stored_id_is_refused,
    an_unreachable_database_leaves_entries_pending,
);
on_both!(
    postgres_url,
    sqlite_url,
    crate::fixtures::postgres_url().await,
    crate::fixtures::sqlite_url();
    deployments_sharing_a_database_never_see_each_others_rows,
    poison_entries_go_to_the_dead_letters_and_the_rest_flows
);

#[tokio::test]
async fn sqlite_is_the_default_database_under_the_data_dir() {
    let dir = std::env::temp_dir().join(format!("claudebench-{}", support::unique_prefix()));
    let config = claudebench_runtime::config::RuntimeConfig { data_dir: dir.join("nested"), ..Default::default() };
    let store = SqlStore::from_config(&config).await.unwrap();
    store.ping().await.unwrap();
    assert!(dir.join("nested").join("claudebench.db").exists());
}
