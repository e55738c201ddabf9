//! Task queue behaviour against the real Redis.

use std::collections::HashSet;

use claudebench_domain::coordination::tasks::{ListOrder, NewTask, Outcome, TaskQuery, TaskStatus, TaskUpdate};
use claudebench_domain::coordination::{Coordination, CoordinationConfig, ErrorCode};
use claudebench_generated::types::Metadata;
use claudebench_runtime::keys::Keys;
use redis::streams::StreamRangeReply;
use serde_json::{Value, json};

use crate::support::{self, redis, unique_keys};

pub fn coordination() -> (Coordination, Keys) {
    let keys = unique_keys();
    (Coordination::new(keys.clone(), CoordinationConfig::default()), keys)
}

pub async fn stream(
    con: &mut claudebench_runtime::redis::Conn,
    key: &str,
) -> Vec<std::collections::HashMap<String, String>> {
    let reply: StreamRangeReply = redis::cmd("XRANGE").arg(key).arg("-").arg("+").query_async(con).await.unwrap();
    reply
        .ids
        .into_iter()
        .map(|e| e.map.keys().map(|k| (k.clone(), e.get::<String>(k).unwrap_or_default())).collect())
        .collect()
}

/// `workers` registered workers `w0…` claiming `batch` at a time and completing what they got,
/// each on its own connection, until nothing is left; the ids each one completed.
pub async fn claim_and_complete_concurrently(c: &Coordination, workers: usize, batch: usize) -> Vec<Vec<String>> {
    let mut handles = Vec::new();
    for w in 0..workers {
        let c = c.clone();
        handles.push(tokio::spawn(async move {
            let mut con = redis().await;
            let worker = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = c.tasks.claim(&mut con, &worker, batch).await.unwrap();
                if got.is_empty() {
                    break;
                }
                for t in got {
                    assert_eq!(t.assigned_to.as_deref(), Some(worker.as_str()));
                    c.tasks.complete(&mut con, &t.id, &worker, Outcome::Completed(None)).await.unwrap();
                    mine.push(t.id);
                }
            }
            mine
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

fn meta(v: Value) -> Metadata {
    v.as_object().cloned().unwrap().into_iter().collect()
}

#[tokio::test]
async fn create_returns_a_pending_task_with_a_counter_id_and_publishes_it_with_its_state() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    let t = c.tasks.create(&mut con, NewTask::new("write the docs").priority(70)).await.unwrap();
    assert!(t.id.starts_with("t-") && t.id[2..].parse::<u64>().is_ok(), "{}", t.id);
    assert_eq!(t.status, TaskStatus::Pending);
    assert_eq!(t.priority, 70);
    assert_eq!(t.assigned_to, None);
    assert_eq!(t.created_at.len(), "2025-09-15T10:00:00.000Z".len());
    assert!(t.created_at.ends_with('Z'));
    assert_eq!(c.tasks.get(&mut con, &t.id).await.unwrap(), t);

    let events = stream(&mut con, &support::part0(&keys).stream("task.created")).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "task.created");
    assert_eq!(events[0]["entity"], "task");
    let mut state: Value = serde_json::from_str(&events[0]["state"]).unwrap();
    assert_eq!(state["version"], 1, "the outbox snapshot carries the task's change version");
    state.as_object_mut().unwrap().remove("version");
    assert_eq!(state, serde_json::to_value(&t).unwrap());
}

#[tokio::test]
async fn create_rejects_empty_or_long_text_and_out_of_range_priority() {
    let (c, _) = coordination();
    let mut con = redis().await;
    for bad in [NewTask::new(""), NewTask::new("x".repeat(501)), NewTask::new("ok").priority(101)] {
        assert_eq!(c.tasks.create(&mut con, bad).await.unwrap_err().code, ErrorCode::Validation);
    }
    assert!(c.tasks.create(&mut con, NewTask::new("x".repeat(500))).await.is_ok());
}

#[tokio::test]
async fn concurrent_creates_from_separate_connections_never_share_an_id() {
    let (c, _) = coordination();
    let mut handles = Vec::new();
    for n in 0..8 {
        let c = c.clone();
        handles.push(tokio::spawn(async move {
            let mut con = redis().await;
            let mut ids = Vec::new();
            for i in 0..50 {
                ids.push(c.tasks.create(&mut con, NewTask::new(format!("w{n} t{i}"))).await.unwrap().id);
            }
            ids
        }));
    }
    let mut all = HashSet::new();
    for h in handles {
        for id in h.await.unwrap() {
            assert!(all.insert(id), "duplicate id");
        }
    }
    assert_eq!(all.len(), 400);
}

#[tokio::test]
async fn metadata_and_results_round_trip_exactly_including_empty_arrays_and_big_integers() {
    let (c, _) = coordination();
    let mut con = redis().await;
    let m = meta(json!({"tags": [], "big": 12345678901234567u64, "nested": {"a": [1, {}]}, "s": "é/\"q\""}));
    let t = c.tasks.create(&mut con, NewTask::new("m").metadata(m.clone())).await.unwrap();
    assert_eq!(t.metadata.as_ref(), Some(&m));
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    c.tasks.claim(&mut con, "w1", 1).await.unwrap();
    let result = json!({"rows": [], "n": 18446744073709551615u64});
    let done = c.tasks.complete(&mut con, &t.id, "w1", Outcome::Completed(Some(result.clone()))).await.unwrap();
    assert_eq!(done.task.result, Some(result));
    assert_eq!(c.tasks.get(&mut con, &t.id).await.unwrap().metadata, Some(m));
}

#[tokio::test]
async fn claim_takes_the_highest_priority_first_then_the_oldest() {
    let (c, _) = coordination();
    let mut con = redis().await;
    let low = c.tasks.create(&mut con, NewTask::new("low").priority(10)).await.unwrap();
    let high_old = c.tasks.create(&mut con, NewTask::new("high old").priority(90)).await.unwrap();
    let mid = c.tasks.create(&mut con, NewTask::new("mid").priority(50)).await.unwrap();
    let high_new = c.tasks.create(&mut con, NewTask::new("high new").priority(90)).await.unwrap();
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let got: Vec<String> = c.tasks.claim(&mut con, "w1", 3).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(got, vec![high_old.id, high_new.id, mid.id]);
    let rest = c.tasks.claim(&mut con, "w1", 5).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, low.id);
    assert_eq!(rest[0].status, TaskStatus::InProgress);
    assert_eq!(rest[0].assigned_to.as_deref(), Some("w1"));
    assert!(c.tasks.claim(&mut con, "w1", 1).await.unwrap().is_empty());
}

#[tokio::test]
async fn claim_requires_a_registered_and_live_worker() {
    let keys = unique_keys();
    let c = Coordination::new(keys, CoordinationConfig { failure_timeout_ms: 200, ..Default::default() });
    let mut con = redis().await;
    c.tasks.create(&mut con, NewTask::new("t")).await.unwrap();
    assert_eq!(c.tasks.claim(&mut con, "ghost", 1).await.unwrap_err().code, ErrorCode::NotFound);
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(c.tasks.claim(&mut con, "w1", 1).await.unwrap_err().code, ErrorCode::Conflict);
    assert!(c.instances.heartbeat(&mut con, "w1").await.unwrap());
    assert_eq!(c.tasks.claim(&mut con, "w1", 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn eight_concurrent_workers_claim_a_thousand_tasks_each_exactly_once() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    for i in 0..1000 {
        c.tasks.create(&mut con, NewTask::new(format!("job {i}")).priority((i % 101) as u8)).await.unwrap();
    }
    for w in 0..8 {
        c.instances.register(&mut con, &format!("w{w}"), &["worker".into()]).await.unwrap();
    }
    let per_worker = claim_and_complete_concurrently(&c, 8, 3).await;
    let mut seen = HashSet::new();
    let mut busy_workers = 0;
    for mine in per_worker {
        if !mine.is_empty() {
            busy_workers += 1;
        }
        for id in mine {
            assert!(seen.insert(id), "a task was claimed twice");
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(busy_workers > 1, "work should spread over several workers");
    let claimed = stream(&mut con, &support::part0(&keys).stream("task.claimed")).await;
    assert_eq!(claimed.len(), 1000);
    let done = c
        .tasks
        .list(&mut con, &TaskQuery { status: Some(TaskStatus::Completed), limit: 1, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(done.total, 1000);
    let pending: u64 = redis::cmd("ZCARD").arg(support::part0(&keys).pending()).query_async(&mut con).await.unwrap();
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn assign_reserves_a_task_for_one_instance_and_conflicts_on_a_second_assignment() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    let t = c.tasks.create(&mut con, NewTask::new("a")).await.unwrap();
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    c.instances.register(&mut con, "w2", &["worker".into()]).await.unwrap();

    assert_eq!(c.tasks.assign(&mut con, "t-nope", "w1").await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(c.tasks.assign(&mut con, &t.id, "nobody").await.unwrap_err().code, ErrorCode::NotFound);

    let a = c.tasks.assign(&mut con, &t.id, "w1").await.unwrap();
    assert_eq!(a.assigned_to.as_deref(), Some("w1"));
    assert_eq!(a.status, TaskStatus::Pending);
    assert_eq!(c.tasks.assign(&mut con, &t.id, "w2").await.unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(c.tasks.assign(&mut con, &t.id, "w1").await.unwrap_err().code, ErrorCode::Conflict);

    // Reserved: nobody else can claim it, its owner gets it first.
    assert!(c.tasks.claim(&mut con, "w2", 5).await.unwrap().is_empty());
    let got = c.tasks.claim(&mut con, "w1", 5).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, t.id);
    assert_eq!(got[0].status, TaskStatus::InProgress);

    let events = stream(&mut con, &support::part0(&keys).stream("task.assigned")).await;
    assert_eq!(events.len(), 1);
    let payload: Value = serde_json::from_str(&events[0]["payload"]).unwrap();
    assert_eq!(payload["taskId"], json!(t.id));
    assert_eq!(payload["instanceId"], json!("w1"));
}

#[tokio::test]
async fn complete_without_a_result_is_a_success_and_with_an_error_a_failure() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let a = c.tasks.create(&mut con, NewTask::new("a")).await.unwrap();
    let b = c.tasks.create(&mut con, NewTask::new("b")).await.unwrap();
    c.tasks.claim(&mut con, "w1", 2).await.unwrap();

    let done = c.tasks.complete(&mut con, &a.id, "w1", Outcome::Completed(None)).await.unwrap();
    assert_eq!(done.task.status, TaskStatus::Completed);
    assert!(done.task.completed_at.is_some());
    assert!(done.duration_ms >= 0);
    let failed = c.tasks.complete(&mut con, &b.id, "w1", Outcome::Failed("boom".into())).await.unwrap();
    assert_eq!(failed.task.status, TaskStatus::Failed);
    assert_eq!(failed.task.error.clone().flatten().as_deref(), Some("boom"));

    let queue: u64 =
        redis::cmd("ZCARD").arg(support::part0(&keys).worker_queue("w1")).query_async(&mut con).await.unwrap();
    assert_eq!(queue, 0, "finished tasks leave the worker's queue");
    let events = stream(&mut con, &support::part0(&keys).stream("task.completed")).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["entity"], "task");
}

#[tokio::test]
async fn repeating_a_completion_answers_the_stored_outcome_and_publishes_once() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let ok = c.tasks.create(&mut con, NewTask::new("ok")).await.unwrap();
    let bad = c.tasks.create(&mut con, NewTask::new("bad")).await.unwrap();
    let none = c.tasks.create(&mut con, NewTask::new("none")).await.unwrap();
    c.tasks.claim(&mut con, "w1", 3).await.unwrap();
    let result = json!({"n": [1, 2, {"deep": null}], "s": "x"});
    for _ in 0..2 {
        let first = c.tasks.complete(&mut con, &ok.id, "w1", Outcome::Completed(Some(result.clone()))).await.unwrap();
        let again = c.tasks.complete(&mut con, &ok.id, "w1", Outcome::Completed(Some(result.clone()))).await.unwrap();
        assert_eq!(first, again, "a retried completion answers exactly the stored one");
        assert_eq!(again.task.result, Some(result.clone()));
    }
    let failed = c.tasks.complete(&mut con, &bad.id, "w1", Outcome::Failed("boom".into())).await.unwrap();
    assert_eq!(c.tasks.complete(&mut con, &bad.id, "w1", Outcome::Failed("boom".into())).await.unwrap(), failed);
    let empty = c.tasks.complete(&mut con, &none.id, "w1", Outcome::Completed(None)).await.unwrap();
    assert_eq!(c.tasks.complete(&mut con, &none.id, "w1", Outcome::Completed(None)).await.unwrap(), empty);
    assert_eq!(
        c.tasks.complete(&mut con, &none.id, "w1", Outcome::Completed(Some(Value::Null))).await.unwrap_err().code,
        ErrorCode::Conflict,
        "a null result is a different outcome than no result"
    );
    let events = stream(&mut con, &support::part0(&keys).stream("task.completed")).await;
    assert_eq!(events.len(), 3, "one task.completed per task, however often it was reported");
}

#[tokio::test]
async fn a_worker_that_lost_its_task_cannot_complete_it() {
    let keys = unique_keys();
    let c = Coordination::new(keys, CoordinationConfig { failure_timeout_ms: 200, ..Default::default() });
    let mut con = redis().await;
    c.instances.register(&mut con, "zombie", &["worker".into()]).await.unwrap();
    let t = c.tasks.create(&mut con, NewTask::new("x")).await.unwrap();
    c.tasks.claim(&mut con, "zombie", 1).await.unwrap();
    // The zombie stops heartbeating: declared failed, its task re-queued and claimed elsewhere.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(c.instances.sweep(&mut con).await.unwrap().len(), 1);
    c.instances.register(&mut con, "healthy", &["worker".into()]).await.unwrap();
    assert_eq!(c.tasks.claim(&mut con, "healthy", 1).await.unwrap()[0].id, t.id);
    let zombie = c.tasks.complete(&mut con, &t.id, "zombie", Outcome::Completed(Some(json!("stale")))).await;
    assert_eq!(zombie.unwrap_err().code, ErrorCode::Conflict);
    let done = c.tasks.complete(&mut con, &t.id, "healthy", Outcome::Completed(Some(json!("fresh")))).await.unwrap();
    assert_eq!(done.task.result, Some(json!("fresh")));
    let zombie = c.tasks.complete(&mut con, &t.id, "zombie", Outcome::Completed(Some(json!("fresh")))).await;
    assert_eq!(zombie.unwrap_err().code, ErrorCode::Conflict, "the same outcome from another worker is no retry");
}

#[tokio::test]
async fn complete_conflicts_when_unassigned_already_finished_or_owned_by_another_worker() {
    let (c, _) = coordination();
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    c.instances.register(&mut con, "w2", &["worker".into()]).await.unwrap();
    let t = c.tasks.create(&mut con, NewTask::new("a")).await.unwrap();
    assert_eq!(
        c.tasks.complete(&mut con, "t-missing", "w1", Outcome::Completed(None)).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        c.tasks.complete(&mut con, &t.id, "w1", Outcome::Completed(None)).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    c.tasks.claim(&mut con, "w1", 1).await.unwrap();
    assert_eq!(
        c.tasks.complete(&mut con, &t.id, "w2", Outcome::Completed(None)).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    let first = c.tasks.complete(&mut con, &t.id, "w1", Outcome::Completed(Some(json!(1)))).await.unwrap();
    // Finished with another outcome, or by another worker: conflict, nothing changes.
    assert_eq!(
        c.tasks.complete(&mut con, &t.id, "w1", Outcome::Completed(None)).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(
        c.tasks.complete(&mut con, &t.id, "w2", Outcome::Completed(Some(json!(1)))).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(
        c.tasks.complete(&mut con, &t.id, "w1", Outcome::Failed("late".into())).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(c.tasks.get(&mut con, &t.id).await.unwrap(), first.task, "the stored outcome is untouched");
    // A finished task is never claimable again.
    assert!(c.tasks.claim(&mut con, "w2", 5).await.unwrap().is_empty());
}

#[tokio::test]
async fn partial_updates_keep_other_fields_and_merge_metadata() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    let t = c.tasks.create(&mut con, NewTask::new("first").metadata(meta(json!({"a": 1, "b": 2})))).await.unwrap();
    let u = c
        .tasks
        .update(
            &mut con,
            &t.id,
            TaskUpdate {
                priority: Some(85),
                metadata: Some(meta(json!({"b": 3, "c": [4]})).into_iter().collect()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.text, "first");
    assert_eq!(u.priority, 85);
    assert_eq!(u.metadata, Some(meta(json!({"a": 1, "b": 3, "c": [4]}))));
    let u = c
        .tasks
        .update(&mut con, &t.id, TaskUpdate { status: Some(TaskStatus::Completed), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(u.priority, 85);
    assert!(u.completed_at.is_some());
    let u = c.tasks.update(&mut con, &t.id, TaskUpdate { priority: Some(10), ..Default::default() }).await.unwrap();
    assert_eq!(u.status, TaskStatus::Completed);
    assert_eq!(u.text, "first");
    let u = c.tasks.update(&mut con, &t.id, TaskUpdate::default()).await.unwrap();
    assert_eq!(u.priority, 10);
    assert_eq!(
        c.tasks.update(&mut con, "t-missing", TaskUpdate::default()).await.unwrap_err().code,
        ErrorCode::NotFound
    );

    let events = stream(&mut con, &support::part0(&keys).stream("task.updated")).await;
    assert_eq!(events.len(), 4);
    let payload: Value = serde_json::from_str(&events[0]["payload"]).unwrap();
    assert_eq!(payload["changes"], json!(["priority", "metadata"]));
}

#[tokio::test]
async fn a_priority_change_reorders_the_pending_queue() {
    let (c, _) = coordination();
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let a = c.tasks.create(&mut con, NewTask::new("a").priority(50)).await.unwrap();
    let b = c.tasks.create(&mut con, NewTask::new("b").priority(50)).await.unwrap();
    c.tasks.update(&mut con, &b.id, TaskUpdate { priority: Some(99), ..Default::default() }).await.unwrap();
    let got = c.tasks.claim(&mut con, "w1", 1).await.unwrap();
    assert_eq!(got[0].id, b.id);
    let got = c.tasks.claim(&mut con, "w1", 1).await.unwrap();
    assert_eq!(got[0].id, a.id);
}

#[tokio::test]
async fn status_changes_keep_the_queues_consistent() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let t = c.tasks.create(&mut con, NewTask::new("a")).await.unwrap();
    // Unowned tasks cannot be started by an update.
    let err = c
        .tasks
        .update(&mut con, &t.id, TaskUpdate { status: Some(TaskStatus::InProgress), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    // Cancelling a pending task takes it off the queue.
    c.tasks
        .update(&mut con, &t.id, TaskUpdate { status: Some(TaskStatus::Failed), ..Default::default() })
        .await
        .unwrap();
    assert!(c.tasks.claim(&mut con, "w1", 1).await.unwrap().is_empty());
    // Reopening puts it back.
    let r = c
        .tasks
        .update(&mut con, &t.id, TaskUpdate { status: Some(TaskStatus::Pending), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(r.completed_at, None);
    let got = c.tasks.claim(&mut con, "w1", 1).await.unwrap();
    assert_eq!(got[0].id, t.id);
    // Completing a claimed task by update removes it from its worker's queue.
    c.tasks
        .update(&mut con, &t.id, TaskUpdate { status: Some(TaskStatus::Completed), ..Default::default() })
        .await
        .unwrap();
    let queue: u64 =
        redis::cmd("ZCARD").arg(support::part0(&keys).worker_queue("w1")).query_async(&mut con).await.unwrap();
    assert_eq!(queue, 0);
    let in_progress: u64 =
        redis::cmd("ZCARD").arg(support::part0(&keys).by_status("in_progress")).query_async(&mut con).await.unwrap();
    assert_eq!(in_progress, 0);
}

#[tokio::test]
async fn list_filters_by_status_and_assignee_and_pages_with_a_total() {
    let (c, _) = coordination();
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(c.tasks.create(&mut con, NewTask::new(format!("t{i}")).priority(90 - i)).await.unwrap().id);
    }
    let claimed = c.tasks.claim(&mut con, "w1", 3).await.unwrap();
    c.tasks.complete(&mut con, &claimed[0].id, "w1", Outcome::Completed(None)).await.unwrap();

    let all = c.tasks.list(&mut con, &TaskQuery { limit: 3, ..Default::default() }).await.unwrap();
    assert_eq!(all.total, 7);
    assert_eq!(
        all.tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        vec![ids[6].clone(), ids[5].clone(), ids[4].clone()]
    );
    let page2 = c.tasks.list(&mut con, &TaskQuery { offset: 6, limit: 3, ..Default::default() }).await.unwrap();
    assert_eq!(page2.tasks.len(), 1);
    let oldest =
        c.tasks.list(&mut con, &TaskQuery { limit: 1, order: ListOrder::Oldest, ..Default::default() }).await.unwrap();
    assert_eq!(oldest.tasks[0].id, ids[0]);

    let pending =
        c.tasks.list(&mut con, &TaskQuery { status: Some(TaskStatus::Pending), ..Default::default() }).await.unwrap();
    assert_eq!(pending.total, 4);
    let mine =
        c.tasks.list(&mut con, &TaskQuery { assigned_to: Some("w1".into()), ..Default::default() }).await.unwrap();
    assert_eq!(mine.total, 3);
    let mine_running = c
        .tasks
        .list(
            &mut con,
            &TaskQuery {
                assigned_to: Some("w1".into()),
                status: Some(TaskStatus::InProgress),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(mine_running.total, 2);
    assert_eq!(mine_running.tasks.len(), 1);
}

#[tokio::test]
async fn delete_removes_a_task_from_every_queue_and_publishes_it() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let a = c.tasks.create(&mut con, NewTask::new("a")).await.unwrap();
    let b = c.tasks.create(&mut con, NewTask::new("b")).await.unwrap();
    c.tasks.assign(&mut con, &a.id, "w1").await.unwrap();
    c.tasks.delete(&mut con, &a.id).await.unwrap();
    c.tasks.delete(&mut con, &b.id).await.unwrap();
    assert_eq!(c.tasks.get(&mut con, &a.id).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(c.tasks.delete(&mut con, &a.id).await.unwrap_err().code, ErrorCode::NotFound);
    assert!(c.tasks.claim(&mut con, "w1", 5).await.unwrap().is_empty());
    assert_eq!(c.tasks.list(&mut con, &TaskQuery::default()).await.unwrap().total, 0);
    let part = support::part0(&keys);
    let left: u64 = redis::cmd("EXISTS")
        .arg(part.task(&a.id))
        .arg(part.task(&b.id))
        .arg(part.worker_queue("w1"))
        .arg(part.by_assignee("w1"))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(left, 0, "no record, queue or index entry is left behind");
    let events = stream(&mut con, &support::part0(&keys).stream("task.deleted")).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["deleted"], a.id);
}

#[tokio::test]
async fn auto_assign_picks_the_least_loaded_live_worker_within_capacity() {
    let keys = unique_keys();
    let c = Coordination::new(keys.clone(), CoordinationConfig { worker_capacity: 3, ..Default::default() });
    let mut con = redis().await;
    for w in ["w1", "w2"] {
        c.instances.register(&mut con, w, &["worker".into()]).await.unwrap();
    }
    c.instances.register(&mut con, "sup", &["supervisor".into()]).await.unwrap();
    // w1 already holds two tasks.
    for _ in 0..2 {
        let t = c.tasks.create(&mut con, NewTask::new("pre")).await.unwrap();
        c.tasks.assign(&mut con, &t.id, "w1").await.unwrap();
    }
    for i in 0..6 {
        c.tasks.create(&mut con, NewTask::new(format!("n{i}"))).await.unwrap();
    }
    let made = c.tasks.auto_assign(&mut con, 100).await.unwrap();
    // Capacity 3 each: w2 gets 3, w1 gets 1; two stay pending; the supervisor gets nothing.
    let to = |w: &str| made.iter().filter(|a| a.instance_id == w).count();
    assert_eq!((to("w1"), to("w2"), to("sup")), (1, 3, 0));
    assert_eq!(made[0].instance_id, "w2", "the least loaded goes first");
    let pending =
        c.tasks.list(&mut con, &TaskQuery { status: Some(TaskStatus::Pending), ..Default::default() }).await.unwrap();
    assert_eq!(pending.tasks.iter().filter(|t| t.assigned_to.is_none()).count(), 2);

    // An unregistered worker is dropped from the role set and never chosen.
    c.instances.unregister(&mut con, "w2").await.unwrap();
    let again = c.tasks.auto_assign(&mut con, 100).await.unwrap();
    assert!(again.iter().all(|a| a.instance_id == "w1"));
    assert_eq!(c.instances.with_role(&mut con, "worker").await.unwrap(), vec!["w1".to_string()]);
}

/// One registry: every file of `lua/` is declared exactly once, by the runtime or the domain, and
/// the node loads them all.
#[test]
fn every_lua_file_is_declared_once() {
    let mut declared: Vec<&str> = claudebench_runtime::scripts::ALL
        .iter()
        .copied()
        .chain(claudebench_domain::coordination::scripts())
        .chain(claudebench_domain::recovery::SCRIPTS.iter().copied())
        .chain(claudebench_domain::leases::SCRIPTS.iter().copied())
        .chain(claudebench_domain::sessions::agents::SCRIPTS.iter().copied())
        .map(|lua| lua.name())
        .collect();
    declared.sort_unstable();
    let before = declared.len();
    declared.dedup();
    assert_eq!(declared.len(), before, "a script declared twice");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lua");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".lua").map(String::from))
        .collect();
    files.sort_unstable();
    assert_eq!(declared, files, "lua/ and the registries disagree");
}
