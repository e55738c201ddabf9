//! The hot/cold lifecycle, on PostgreSQL and on SQLite: finished tasks leave Redis once SQL holds
//! their final version and the retention passed; reads, listings, counts and further changes keep
//! working from SQL with the same wire shape; a task deleted in Redis never comes back from SQL.

use claudebench_domain::coordination::tasks::{ListOrder, NewTask, Outcome, TaskQuery, TaskStatus, TaskUpdate};
use claudebench_domain::coordination::{Coordination, CoordinationConfig, ErrorCode};
use claudebench_runtime::keys::Keys;
use claudebench_runtime::persist::SqlStore;
use serde_json::json;

use crate::lifecycle_setup::Setup;
use crate::support::{open_partitions, redis, unique_prefix};

const PARTS: u32 = 2;

async fn finished_tasks_leave_redis_and_sql_answers_for_them_unchanged(store: SqlStore) {
    let mut s = Setup::new(store, PARTS, 0).await;
    let mut con = s.redis.conn();
    let tasks = s.coord.tasks.clone();
    let mut ids = Vec::new();
    for i in 0..6u8 {
        let meta = serde_json::Map::from_iter([("k".to_string(), json!([i, [], {"big": 12345678901234567u64}]))]);
        ids.push(
            tasks.create(&mut con, NewTask::new(format!("t{i}")).priority(90 - i).metadata(meta)).await.unwrap().id,
        );
    }
    s.coord.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let claimed = tasks.claim(&mut con, "w1", 4).await.unwrap();
    tasks.complete(&mut con, &claimed[0].id, "w1", Outcome::Completed(Some(json!({"ok": [1, 2]})))).await.unwrap();
    tasks.complete(&mut con, &claimed[1].id, "w1", Outcome::Completed(None)).await.unwrap();
    tasks.complete(&mut con, &claimed[2].id, "w1", Outcome::Failed("it broke \"badly\"".into())).await.unwrap();
    let finished: Vec<String> = claimed[..3].iter().map(|t| t.id.clone()).collect();

    // Nothing leaves before SQL holds it.
    assert_eq!(tasks.retire(&mut con, 100).await.unwrap(), 0, "SQL is behind: everything stays");
    s.drain().await;
    let mut before = Vec::new();
    for id in &ids {
        before.push(serde_json::to_value(tasks.get(&mut con, id).await.unwrap()).unwrap());
    }
    let listed_before = s.list(TaskQuery::default()).await;
    let counts_before = tasks.counts(&mut con).await.unwrap();

    assert_eq!(tasks.retire(&mut con, 100).await.unwrap(), 3);
    for id in &ids {
        assert_eq!(s.in_redis(id).await, !finished.contains(id), "{id}");
    }
    // Same answers, now from SQL for the finished ones.
    for (id, was) in ids.iter().zip(&before) {
        assert_eq!(&serde_json::to_value(tasks.get(&mut con, id).await.unwrap()).unwrap(), was, "{id}");
    }
    assert_eq!(s.list(TaskQuery::default()).await, listed_before);
    assert_eq!(tasks.counts(&mut con).await.unwrap(), counts_before);
    let (done, _) = s.list(TaskQuery { status: Some(TaskStatus::Completed), ..Default::default() }).await;
    let (failed, failed_tasks) = s.list(TaskQuery { status: Some(TaskStatus::Failed), ..Default::default() }).await;
    assert_eq!((done, failed), (2, 1));
    assert_eq!(failed_tasks[0]["error"], json!("it broke \"badly\""));
    let (mine, _) = s.list(TaskQuery { assigned_to: Some("w1".into()), ..Default::default() }).await;
    assert_eq!(mine, 4, "three cold and one hot");
    let (page_total, page) =
        s.list(TaskQuery { offset: 2, limit: 3, order: ListOrder::Oldest, ..Default::default() }).await;
    assert_eq!(page_total, 6);
    let mut oldest_first = listed_before.1.clone();
    oldest_first.reverse();
    assert_eq!(page, oldest_first[2..5].to_vec());

    // A repeated completion (a retry after a lost answer) still gets the stored outcome.
    let again = tasks.complete(&mut con, &finished[0], "w1", Outcome::Completed(Some(json!({"ok": [1, 2]})))).await;
    assert_eq!(
        serde_json::to_value(again.unwrap().task).unwrap(),
        before[ids.iter().position(|i| *i == finished[0]).unwrap()]
    );
    // Another outcome is still a conflict.
    let other = tasks.complete(&mut con, &finished[1], "w1", Outcome::Failed("no".into())).await.unwrap_err();
    assert_eq!(other.code, ErrorCode::Conflict);

    // A cold task changes again: it comes back into Redis, and is listed once.
    let reopened = tasks
        .update(&mut con, &finished[2], TaskUpdate { status: Some(TaskStatus::Pending), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((reopened.status, reopened.assigned_to, reopened.error), (TaskStatus::Pending, None, None));
    assert!(s.in_redis(&finished[2]).await);
    let (total, listed) = s.list(TaskQuery::default()).await;
    assert_eq!(total, 6);
    assert_eq!(listed.iter().filter(|t| t["id"] == json!(finished[2])).count(), 1);
    assert_eq!(tasks.claim(&mut con, "w1", 5).await.unwrap().iter().filter(|t| t.id == finished[2]).count(), 1);

    // A cold task deleted is gone for good, also before SQL hears of it.
    tasks.delete(&mut con, &finished[1]).await.unwrap();
    assert_eq!(tasks.get(&mut con, &finished[1]).await.unwrap_err().code, ErrorCode::NotFound);
    s.drain().await;
    assert_eq!(tasks.get(&mut con, &finished[1]).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(s.list(TaskQuery::default()).await.0, 5);
}

/// A task deleted in Redis while SQL still holds its row (the tombstone is in the outbox) is
/// not found: SQL only answers for tasks that left Redis by retiring.
async fn a_deleted_task_never_answers_from_sql(store: SqlStore) {
    let mut s = Setup::new(store, PARTS, 0).await;
    let mut con = s.redis.conn();
    let t = s.coord.tasks.create(&mut con, NewTask::new("short-lived")).await.unwrap();
    s.drain().await;
    s.coord.tasks.delete(&mut con, &t.id).await.unwrap();
    assert_eq!(s.coord.tasks.get(&mut con, &t.id).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(s.list(TaskQuery::default()).await.0, 0);
    let update = TaskUpdate { text: Some("back?".into()), ..Default::default() };
    assert_eq!(s.coord.tasks.update(&mut con, &t.id, update).await.unwrap_err().code, ErrorCode::NotFound);
}

/// A finished task that changed after SQL caught up stays in Redis until the new version is in
/// SQL: leaving earlier would lose the change.
async fn a_task_changed_after_sql_caught_up_waits_for_its_new_version(store: SqlStore) {
    let mut s = Setup::new(store, PARTS, 0).await;
    let mut con = s.redis.conn();
    let tasks = s.coord.tasks.clone();
    let t = tasks.create(&mut con, NewTask::new("v1")).await.unwrap();
    tasks
        .update(&mut con, &t.id, TaskUpdate { status: Some(TaskStatus::Completed), ..Default::default() })
        .await
        .unwrap();
    s.drain().await;
    tasks.update(&mut con, &t.id, TaskUpdate { text: Some("v2".into()), ..Default::default() }).await.unwrap();
    assert_eq!(tasks.retire(&mut con, 100).await.unwrap(), 0);
    assert!(s.in_redis(&t.id).await);
    s.drain().await;
    assert_eq!(tasks.retire(&mut con, 100).await.unwrap(), 1);
    assert_eq!(tasks.get(&mut con, &t.id).await.unwrap().text, "v2");
}

on_both!(
    postgres,
    sqlite,
    crate::fixtures::postgres_store().await,
    crate::fixtures::sqlite_store().await;
    finished_tasks_leave_redis_and_sql_answers_for_them_unchanged,
    a_deleted_task_never_answers_from_sql,
    a_task_changed_after_sql_caught_up_waits_for_its_new_version,
);

#[tokio::test]
async fn without_sql_finished_tasks_stay_in_redis() {
    let keys = Keys::new(&unique_prefix());
    open_partitions(&keys, 1);
    let c = Coordination::new(keys, CoordinationConfig { task_retention_ms: 0, ..Default::default() });
    let mut con = redis().await;
    let t = c.tasks.create(&mut con, NewTask::new("x")).await.unwrap();
    c.tasks
        .update(&mut con, &t.id, TaskUpdate { status: Some(TaskStatus::Completed), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(c.tasks.retire(&mut con, 100).await.unwrap(), 0);
    assert_eq!(c.tasks.get(&mut con, &t.id).await.unwrap().status, TaskStatus::Completed);
}
