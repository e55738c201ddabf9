//! The task events through the whole pipeline (validation, limits, breaker, handler, output
//! check) against the real Redis: the contract of `spec/task.yaml` and the queue's guarantees
//! (priority order, no task claimed twice, ids never reused).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use claudebench_generated::error::Error;
use serde_json::{Value, json};

use crate::support::{TestApp, options};

/// Register a live worker directly in the coordination core (`system.register` belongs to
/// another domain; the task events only need the instance to exist and be alive).
async fn register(t: &TestApp, id: &str) {
    let roles = vec!["worker".to_string()];
    t.domain().coord.instances.register(&mut t.redis(), id, &roles).await.expect("register a worker");
}

/// The entries of one event stream, oldest first: (`event` field, parsed `payload`).
async fn stream(t: &TestApp, event: &str) -> Vec<(String, Value)> {
    t.stream(event).await
}

fn code(result: Result<Value, Error>) -> String {
    match result {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e.code.as_str().to_string(),
    }
}

async fn create(t: &TestApp, text: &str, priority: i64) -> String {
    let task = t.ok("task.create", json!({"text": text, "priority": priority})).await;
    task["id"].as_str().expect("an id").to_string()
}

async fn claim(t: &TestApp, worker: &str, max: i64) -> Value {
    t.ok("task.claim", json!({"workerId": worker, "maxTasks": max})).await
}

fn ids(tasks: &Value) -> Vec<String> {
    tasks.as_array().expect("a task array").iter().map(|t| t["id"].as_str().expect("id").to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// task.create

#[tokio::test]
async fn create_defaults_the_priority_to_50_and_starts_pending_and_unassigned() {
    let t = TestApp::start().await;
    let task = t.ok("task.create", json!({"text": "Write integration tests for the claim path"})).await;
    let id = task["id"].as_str().unwrap();
    assert!(id.starts_with("t-") && id[2..].parse::<u64>().is_ok(), "server ids are t-<n>, got {id}");
    assert_eq!(task["text"], "Write integration tests for the claim path");
    assert_eq!(task["status"], "pending");
    assert_eq!(task["priority"], 50);
    assert_eq!(task["assignedTo"], Value::Null);
    assert!(task.get("metadata").is_none() && task.get("result").is_none() && task.get("completedAt").is_none());
    assert_eq!(task["createdAt"], task["updatedAt"]);
    // What was stored is what was answered.
    assert_eq!(t.ok("task.get", json!({"id": id})).await, task);
    t.stop().await;
}

#[tokio::test]
async fn create_keeps_metadata_and_publishes_task_created_with_the_task() {
    let t = TestApp::start().await;
    let meta = json!({"source": "todo_write", "sessionId": "3f2a9c1b", "nested": {"a": [1, 2]}});
    let task = t.ok("task.create", json!({"text": "Fix the failing deploy", "priority": 90, "metadata": meta})).await;
    assert_eq!(task["priority"], 90);
    assert_eq!(task["metadata"], meta);
    let entries = stream(&t, "task.created").await;
    assert_eq!(entries.len(), 1, "one create, one stream entry");
    let (event, payload) = &entries[0];
    assert_eq!(event, "task.created");
    assert_eq!(payload["id"], task["id"]);
    assert_eq!(payload["text"], "Fix the failing deploy");
    t.stop().await;
}

#[tokio::test]
async fn create_accepts_the_bounds_and_refuses_anything_outside_them() {
    let t = TestApp::start().await;
    for ok in
        [json!({"text": "x".repeat(500)}), json!({"text": "a", "priority": 0}), json!({"text": "a", "priority": 100})]
    {
        t.ok("task.create", ok).await;
    }
    for bad in [
        json!({"text": ""}),
        json!({"text": "x".repeat(501)}),
        json!({"text": "a", "priority": -1}),
        json!({"text": "a", "priority": 101}),
        json!({"priority": 50}),
        json!({"text": "a", "prority": 60}),
    ] {
        assert_eq!(code(t.call("task.create", bad.clone()).await), "validation", "{bad}");
    }
    // Refused inputs never reach the handler: nothing was stored for them.
    let all = t.ok("task.list", json!({})).await;
    assert_eq!(all["total"], 3);
    t.stop().await;
}

#[tokio::test]
async fn concurrent_creates_on_two_instances_never_share_an_id() {
    let opts = options();
    let (a, b) = (TestApp::start_with(opts.clone()).await, TestApp::start_with(opts).await);
    let calls =
        (0..100).map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            async move {
                app.ok("task.create", json!({"text": format!("task {i}")})).await["id"].as_str().unwrap().to_string()
            }
        });
    let created: Vec<String> = join_all(calls).await;
    let unique: HashSet<&String> = created.iter().collect();
    assert_eq!(unique.len(), 100, "duplicate ids: {created:?}");
    assert_eq!(a.ok("task.list", json!({})).await["total"], 100);
    b.stop().await;
    a.stop().await;
}

// ---------------------------------------------------------------------------------------------
// task.get / task.update

#[tokio::test]
async fn get_of_an_unknown_task_is_not_found() {
    let t = TestApp::start().await;
    assert_eq!(code(t.call("task.get", json!({"id": "t-999999"})).await), "not_found");
    assert_eq!(code(t.call("task.get", json!({"id": ""})).await), "validation");
    t.stop().await;
}

#[tokio::test]
async fn update_changes_only_the_given_fields_and_merges_metadata() {
    let t = TestApp::start().await;
    let created = t.ok("task.create", json!({"text": "original", "priority": 40, "metadata": {"a": 1, "b": 2}})).await;
    let id = created["id"].as_str().unwrap();

    let full = t
        .ok(
            "task.update",
            json!({"id": id, "updates": {"text": "renamed", "priority": 85, "metadata": {"b": 3, "c": 4}}}),
        )
        .await;
    assert_eq!(full["text"], "renamed");
    assert_eq!(full["priority"], 85);
    assert_eq!(full["status"], "pending");
    assert_eq!(full["metadata"], json!({"a": 1, "b": 3, "c": 4}), "metadata is merged key by key");
    assert_eq!(t.ok("task.get", json!({"id": id})).await, full, "the answer is what was stored");

    // Partial updates keep every other field.
    let done = t.ok("task.update", json!({"id": id, "updates": {"status": "completed"}})).await;
    assert_eq!(
        (done["status"].as_str(), done["priority"].as_i64(), done["text"].as_str()),
        (Some("completed"), Some(85), Some("renamed"))
    );
    let reprioritised = t.ok("task.update", json!({"id": id, "updates": {"priority": 10}})).await;
    assert_eq!(reprioritised["status"], "completed", "a priority change keeps the status");
    assert_eq!(reprioritised["priority"], 10);

    let updates = stream(&t, "task.updated").await;
    assert_eq!(updates.len(), 3);
    assert_eq!(updates[0].1["id"], id);
    assert_eq!(updates[0].1["task"]["text"], "renamed");
    t.stop().await;
}

#[tokio::test]
async fn update_with_empty_updates_returns_the_task_unchanged_and_publishes_nothing() {
    let t = TestApp::start().await;
    let created = t.ok("task.create", json!({"text": "stay as you are"})).await;
    let same = t.ok("task.update", json!({"id": created["id"], "updates": {}})).await;
    assert_eq!(same, created, "not even updatedAt moves");
    assert!(stream(&t, "task.updated").await.is_empty());
    assert_eq!(code(t.call("task.update", json!({"id": "t-424242", "updates": {}})).await), "not_found");
    t.stop().await;
}

#[tokio::test]
async fn update_refuses_invalid_input_and_unknown_tasks() {
    let t = TestApp::start().await;
    let id = create(&t, "target", 50).await;
    for bad in [
        json!({"updates": {"priority": 1}}),
        json!({"id": "", "updates": {"priority": 1}}),
        json!({"id": id}),
        json!({"id": id, "updates": {"text": "x".repeat(501)}}),
        json!({"id": id, "updates": {"status": "INVALID"}}),
        json!({"id": id, "updates": {"priority": -1}}),
        json!({"id": id, "updates": {"priority": 101}}),
        json!({"id": id, "updates": {"priority": 1000}}),
    ] {
        assert_eq!(code(t.call("task.update", bad.clone()).await), "validation", "{bad}");
    }
    assert_eq!(code(t.call("task.update", json!({"id": "t-999999", "updates": {"priority": 5}})).await), "not_found");
    assert_eq!(t.ok("task.get", json!({"id": id})).await["priority"], 50, "refused updates changed nothing");
    t.stop().await;
}

#[tokio::test]
async fn a_priority_change_reorders_a_pending_task_in_the_queue() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    let low = create(&t, "low", 10).await;
    let _mid = create(&t, "mid", 60).await;
    t.ok("task.update", json!({"id": low, "updates": {"priority": 95}})).await;
    assert_eq!(claim(&t, "w1", 1).await["taskId"], low.as_str());
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// task.assign

#[tokio::test]
async fn assign_reserves_a_pending_task_for_a_live_instance_and_publishes_task_assigned() {
    let t = TestApp::start().await;
    register(&t, "worker-test-1").await;
    let id = create(&t, "assign me", 50).await;
    let before = claudebench_domain::coordination::iso_millis(claudebench_domain::coordination::now_ms());
    let out = t.ok("task.assign", json!({"taskId": id, "instanceId": "worker-test-1"})).await;
    assert_eq!(out["taskId"], id.as_str());
    assert_eq!(out["instanceId"], "worker-test-1");
    let at = out["assignedAt"].as_str().unwrap();
    // Same fixed-width RFC 3339 format, so string order is time order.
    assert!(at >= before.as_str(), "{at} < {before}");

    let task = t.ok("task.get", json!({"id": id})).await;
    assert_eq!(task["assignedTo"], "worker-test-1");
    assert_eq!(task["status"], "pending", "assigned tasks stay pending until claimed");
    let queue: Vec<String> = redis::cmd("ZRANGE")
        .arg(t.domain().coord.tasks.partitions().of_task(&id).unwrap().worker_queue("worker-test-1"))
        .arg(0)
        .arg(-1)
        .query_async(&mut t.redis())
        .await
        .unwrap();
    assert_eq!(queue, vec![id.clone()]);

    let events = stream(&t, "task.assigned").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["taskId"], id.as_str());
    assert_eq!(events[0].1["instanceId"], "worker-test-1");
    t.stop().await;
}

#[tokio::test]
async fn assign_refuses_unknown_tasks_and_instances_double_assignment_and_finished_tasks() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    register(&t, "w2").await;
    let id = create(&t, "only once", 50).await;
    assert_eq!(code(t.call("task.assign", json!({"taskId": "t-999999", "instanceId": "w1"})).await), "not_found");
    assert_eq!(code(t.call("task.assign", json!({"taskId": id, "instanceId": "ghost"})).await), "not_found");
    t.ok("task.assign", json!({"taskId": id, "instanceId": "w1"})).await;
    assert_eq!(code(t.call("task.assign", json!({"taskId": id, "instanceId": "w2"})).await), "conflict");
    assert_eq!(code(t.call("task.assign", json!({"taskId": id, "instanceId": "w1"})).await), "conflict");

    let done = create(&t, "finished", 50).await;
    t.ok("task.update", json!({"id": done, "updates": {"status": "completed"}})).await;
    assert_eq!(code(t.call("task.assign", json!({"taskId": done, "instanceId": "w1"})).await), "conflict");
    assert_eq!(code(t.call("task.assign", json!({"taskId": id})).await), "validation");
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// task.claim

#[tokio::test]
async fn claim_with_nothing_available_answers_claimed_false_and_an_empty_list() {
    let t = TestApp::start().await;
    register(&t, "worker-2").await;
    let out = t.ok("task.claim", json!({"workerId": "worker-2", "maxTasks": 5})).await;
    assert_eq!(out, json!({"claimed": false, "tasks": []}));
    t.stop().await;
}

#[tokio::test]
async fn claim_requires_a_registered_worker_and_a_max_tasks_within_1_to_10() {
    let t = TestApp::start().await;
    let id = create(&t, "not for strangers", 50).await;
    assert_eq!(code(t.call("task.claim", json!({"workerId": "nobody"})).await), "not_found");
    register(&t, "w1").await;
    for bad in [json!({"workerId": "w1", "maxTasks": 0}), json!({"workerId": "w1", "maxTasks": 11}), json!({})] {
        assert_eq!(code(t.call("task.claim", bad.clone()).await), "validation", "{bad}");
    }
    assert_eq!(t.ok("task.get", json!({"id": id})).await["status"], "pending", "refused claims took nothing");
    t.stop().await;
}

#[tokio::test]
async fn claim_takes_the_workers_own_assignments_first_then_the_highest_priority() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    let low_reserved = create(&t, "reserved for w1", 5).await;
    let high = create(&t, "urgent", 90).await;
    let mid = create(&t, "normal", 50).await;
    let _lowest = create(&t, "later", 1).await;
    t.ok("task.assign", json!({"taskId": low_reserved, "instanceId": "w1"})).await;

    let out = claim(&t, "w1", 3).await;
    assert_eq!(out["claimed"], true);
    assert_eq!(ids(&out["tasks"]), vec![low_reserved.clone(), high.clone(), mid.clone()]);
    assert_eq!(out["taskId"], low_reserved.as_str());
    assert_eq!(out["task"], out["tasks"][0]);
    for task in out["tasks"].as_array().unwrap() {
        assert_eq!(task["status"], "in_progress");
        assert_eq!(task["assignedTo"], "w1");
    }
    assert_eq!(stream(&t, "task.claimed").await.len(), 3, "one task.claimed per claimed task");
    // The default maxTasks is 1.
    let one = t.ok("task.claim", json!({"workerId": "w1"})).await;
    assert_eq!(one["tasks"].as_array().unwrap().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn claim_never_returns_a_task_assigned_to_another_worker() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    register(&t, "w2").await;
    let for_w2 = create(&t, "w2's job", 100).await;
    t.ok("task.assign", json!({"taskId": for_w2, "instanceId": "w2"})).await;
    let free = create(&t, "anyone's job", 1).await;

    let out = claim(&t, "w1", 10).await;
    assert_eq!(ids(&out["tasks"]), vec![free], "the higher-priority task belongs to w2");
    assert_eq!(claim(&t, "w1", 10).await["claimed"], false);
    assert_eq!(ids(&claim(&t, "w2", 10).await["tasks"]), vec![for_w2]);
    t.stop().await;
}

#[tokio::test]
async fn completed_and_failed_tasks_are_never_claimable() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    let a = create(&t, "a", 50).await;
    let b = create(&t, "b", 50).await;
    let c = create(&t, "c", 50).await;
    claim(&t, "w1", 2).await;
    t.ok("task.complete", json!({"id": a, "workerId": "w1", "result": "ok"})).await;
    t.ok("task.complete", json!({"id": b, "workerId": "w1", "error": "broke"})).await;
    // Finished by an update, while still unassigned in the pending queue.
    t.ok("task.update", json!({"id": c, "updates": {"status": "completed"}})).await;
    assert_eq!(claim(&t, "w1", 10).await, json!({"claimed": false, "tasks": []}));
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// task.complete

#[tokio::test]
async fn create_claim_complete_round_trip() {
    let t = TestApp::start().await;
    register(&t, "worker-1").await;
    let id = create(&t, "Fix the failing deploy", 90).await;
    let claimed = claim(&t, "worker-1", 1).await;
    assert_eq!(claimed["taskId"], id.as_str());
    let before = t.services().metrics.take_totals().tasks_completed;
    assert_eq!(before, 0);

    let result = json!({"deployed": true, "version": "1.4.2"});
    let out = t.ok("task.complete", json!({"id": id, "workerId": "worker-1", "result": result})).await;
    assert_eq!(out["id"], id.as_str());
    assert_eq!(out["status"], "completed");
    assert!(out["durationMs"].as_i64().unwrap() >= 0);

    let task = t.ok("task.get", json!({"id": id})).await;
    assert_eq!(task["status"], "completed");
    assert_eq!(task["result"], result);
    assert_eq!(task["assignedTo"], "worker-1");
    assert_eq!(task["completedAt"], out["completedAt"]);
    assert!(task.get("error").is_none());
    assert_eq!(t.services().metrics.take_totals().tasks_completed, 1, "the completion is counted for system.metrics");

    let events = stream(&t, "task.completed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["id"], id.as_str());
    assert_eq!(events[0].1["status"], "completed");
    // A retry of the same completion (a lost response) answers the same and publishes nothing;
    // another outcome for a finished task is a conflict.
    let again = t.ok("task.complete", json!({"id": id, "workerId": "worker-1", "result": result})).await;
    assert_eq!(again, out);
    assert_eq!(stream(&t, "task.completed").await.len(), 1);
    assert_eq!(code(t.call("task.complete", json!({"id": id, "workerId": "worker-1", "result": 1})).await), "conflict");
    t.stop().await;
}

#[tokio::test]
async fn a_missing_or_falsy_result_completes_and_only_an_error_fails() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    let inputs = [
        (json!({}), "completed"),
        (json!({"result": null}), "completed"),
        (json!({"result": 0}), "completed"),
        (json!({"result": false}), "completed"),
        (json!({"result": ""}), "completed"),
        (json!({"error": "Tests failed: 3 of 120"}), "failed"),
    ];
    for _ in &inputs {
        create(&t, "job", 50).await;
    }
    let claimed = ids(&claim(&t, "w1", 10).await["tasks"]);
    assert_eq!(claimed.len(), inputs.len());
    for (id, (extra, want)) in claimed.iter().zip(&inputs) {
        let mut input = extra.clone();
        input["id"] = json!(id);
        input["workerId"] = json!("w1");
        let out = t.ok("task.complete", input).await;
        assert_eq!(out["status"], *want, "{extra}");
        let task = t.ok("task.get", json!({"id": id})).await;
        assert_eq!(task["status"], *want);
        match extra.get("result") {
            Some(r) => assert_eq!(task.get("result"), Some(r), "the result is stored as sent: {extra}"),
            None => assert!(task.get("result").is_none(), "no result was sent: {task}"),
        }
        if *want == "failed" {
            assert_eq!(task["error"], "Tests failed: 3 of 120");
        }
    }
    assert_eq!(t.services().metrics.take_totals().tasks_completed, 5, "failures are not counted as completions");
    t.stop().await;
}

#[tokio::test]
async fn complete_accepts_task_id_as_an_alias_and_id_wins_over_it() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    let a = create(&t, "a", 50).await;
    let b = create(&t, "b", 50).await;
    claim(&t, "w1", 2).await;
    let out = t.ok("task.complete", json!({"taskId": a, "workerId": "w1"})).await;
    assert_eq!(out["id"], a.as_str());
    let out = t.ok("task.complete", json!({"id": b, "taskId": "t-does-not-exist", "workerId": "w1"})).await;
    assert_eq!(out["id"], b.as_str());
    t.stop().await;
}

#[tokio::test]
async fn complete_refuses_bad_input_unknown_unassigned_foreign_and_finished_tasks() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    register(&t, "w2").await;
    for bad in [
        json!({}),
        json!({"id": "", "workerId": "w1"}),
        json!({"result": 1, "workerId": "w1"}),
        json!({"id": "t-1"}),
        json!({"id": "t-1", "workerId": ""}),
        json!({"id": "t-1", "workerId": "w1", "result": 1, "error": "both"}),
        json!({"id": "t-1", "workerId": "w1", "error": ""}),
    ] {
        assert_eq!(code(t.call("task.complete", bad.clone()).await), "validation", "{bad}");
    }
    assert_eq!(code(t.call("task.complete", json!({"id": "t-999999", "workerId": "w1"})).await), "not_found");

    let unassigned = create(&t, "nobody's", 50).await;
    assert_eq!(code(t.call("task.complete", json!({"id": unassigned, "workerId": "w1"})).await), "conflict");

    let owned = ids(&claim(&t, "w1", 1).await["tasks"]).remove(0);
    assert_eq!(owned, unassigned);
    assert_eq!(
        code(t.call("task.complete", json!({"id": owned, "workerId": "w2", "result": "stolen"})).await),
        "conflict",
        "only the assignee may complete a task"
    );
    t.ok("task.complete", json!({"id": owned, "workerId": "w1"})).await;
    assert_eq!(
        code(t.call("task.complete", json!({"id": owned, "workerId": "w1", "error": "late"})).await),
        "conflict"
    );
    assert_eq!(code(t.call("task.complete", json!({"id": owned, "workerId": "w2"})).await), "conflict");
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// task.delete

#[tokio::test]
async fn delete_removes_a_task_everywhere_and_is_idempotent() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    let claimed = create(&t, "in flight", 50).await;
    claim(&t, "w1", 1).await;
    let queued = create(&t, "queued", 50).await;

    assert_eq!(t.ok("task.delete", json!({"id": claimed})).await, json!({"id": claimed, "deleted": true}));
    assert_eq!(t.ok("task.delete", json!({"id": queued})).await, json!({"id": queued, "deleted": true}));
    assert_eq!(t.ok("task.delete", json!({"id": queued})).await, json!({"id": queued, "deleted": false}));

    assert_eq!(code(t.call("task.get", json!({"id": claimed})).await), "not_found");
    assert_eq!(code(t.call("task.complete", json!({"id": claimed, "workerId": "w1"})).await), "not_found");
    assert_eq!(claim(&t, "w1", 10).await["claimed"], false, "a deleted task is not claimable");
    assert_eq!(t.ok("task.list", json!({})).await["total"], 0);
    let deleted = stream(&t, "task.deleted").await;
    assert_eq!(deleted.len(), 2, "only real deletions are published");
    assert_eq!(deleted[0].1["id"], claimed.as_str());
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// task.list

#[tokio::test]
async fn list_filters_by_status_and_assignee_oldest_or_newest_first() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    register(&t, "w2").await;
    let mut all = Vec::new();
    for i in 0..6 {
        all.push(create(&t, &format!("task {i}"), 50).await);
    }

    // w1 claims the two oldest, then finishes the first; w2 gets one reserved.
    assert_eq!(ids(&claim(&t, "w1", 2).await["tasks"]), vec![all[0].clone(), all[1].clone()]);
    t.ok("task.complete", json!({"id": all[0], "workerId": "w1"})).await;
    t.ok("task.assign", json!({"taskId": all[5], "instanceId": "w2"})).await;

    let everything = t.ok("task.list", json!({})).await;
    assert_eq!(ids(&everything["tasks"]), all, "oldest first");
    assert_eq!((everything["total"].as_i64(), &everything["nextOffset"]), (Some(6), &Value::Null));

    let pending = t.ok("task.list", json!({"status": "pending"})).await;
    assert_eq!(ids(&pending["tasks"]), all[2..].to_vec());
    let w1 = t.ok("task.list", json!({"assignedTo": "w1"})).await;
    assert_eq!(ids(&w1["tasks"]), all[..2].to_vec(), "finished tasks keep their assignee");
    let w1_working = t.ok("task.list", json!({"assignedTo": "w1", "status": "in_progress"})).await;
    assert_eq!(ids(&w1_working["tasks"]), vec![all[1].clone()]);
    let unassigned = t.ok("task.list", json!({"assignedTo": null})).await;
    assert_eq!(ids(&unassigned["tasks"]), all[2..5].to_vec());
    let unassigned_pending = t.ok("task.list", json!({"assignedTo": null, "status": "pending", "limit": 2})).await;
    assert_eq!(ids(&unassigned_pending["tasks"]), all[2..4].to_vec());
    assert_eq!((unassigned_pending["total"].as_i64(), unassigned_pending["nextOffset"].as_i64()), (Some(3), Some(2)));
    let none = t.ok("task.list", json!({"status": "failed"})).await;
    assert_eq!(none, json!({"tasks": [], "total": 0, "nextOffset": null}));

    // Newest first, through each way a listing is read: one status index, all four, an
    // assignee's index, and a filter applied task by task (unassigned pending).
    let reversed = |tasks: &[String]| tasks.iter().rev().cloned().collect::<Vec<_>>();
    assert_eq!(ids(&t.ok("task.list", json!({"order": "newest"})).await["tasks"]), reversed(&all));
    assert_eq!(
        ids(&t.ok("task.list", json!({"order": "newest", "status": "pending"})).await["tasks"]),
        reversed(&all[2..])
    );
    assert_eq!(
        ids(&t.ok("task.list", json!({"order": "newest", "assignedTo": "w1"})).await["tasks"]),
        reversed(&all[..2])
    );
    let newest_unassigned =
        t.ok("task.list", json!({"order": "newest", "assignedTo": null, "status": "pending", "limit": 2})).await;
    assert_eq!(ids(&newest_unassigned["tasks"]), vec![all[4].clone(), all[3].clone()]);
    assert_eq!((newest_unassigned["total"].as_i64(), newest_unassigned["nextOffset"].as_i64()), (Some(3), Some(2)));
    t.stop().await;
}

#[tokio::test]
async fn list_in_claim_order_puts_pending_tasks_by_priority_then_age_reserved_ones_included() {
    let t = TestApp::start().await;
    register(&t, "w1").await;
    register(&t, "w2").await;
    let mut task = Vec::new();
    for (i, priority) in [10, 90, 50, 90, 100, 70].into_iter().enumerate() {
        task.push(create(&t, &format!("task {i}"), priority).await);
    }
    // w1 claims the best (task 4, P100), which leaves pending; task 2 (P50) is reserved for w2.
    assert_eq!(ids(&claim(&t, "w1", 1).await["tasks"]), vec![task[4].clone()]);
    t.ok("task.assign", json!({"taskId": task[2], "instanceId": "w2"})).await;
    let pick = |i: &[usize]| i.iter().map(|&i| task[i].clone()).collect::<Vec<_>>();
    let app = &t;
    let list = |input: Value| async move { app.ok("task.list", input).await };

    let all = list(json!({"status": "pending", "order": "claim"})).await;
    assert_eq!(ids(&all["tasks"]), pick(&[1, 3, 5, 2, 0]), "priority first, the older of two P90 first");
    assert_eq!(all["total"], 5);
    let page = list(json!({"status": "pending", "order": "claim", "limit": 2, "offset": 2})).await;
    assert_eq!((ids(&page["tasks"]), page["nextOffset"].as_i64()), (pick(&[5, 2]), Some(4)));
    let shared = list(json!({"status": "pending", "order": "claim", "assignedTo": null})).await;
    assert_eq!((ids(&shared["tasks"]), &shared["total"]), (pick(&[1, 3, 5, 0]), &json!(4)));
    let reserved = list(json!({"status": "pending", "order": "claim", "assignedTo": "w2"})).await;
    assert_eq!((ids(&reserved["tasks"]), &reserved["total"]), (pick(&[2]), &json!(1)));
    let claimed_only = list(json!({"status": "pending", "order": "claim", "assignedTo": "w1"})).await;
    assert_eq!(
        claimed_only,
        json!({"tasks": [], "total": 0, "nextOffset": null}),
        "w1's queue holds only a claimed task"
    );

    // A new urgent task goes to the front however many wait before it.
    let urgent = create(&t, "urgent", 100).await;
    let front = list(json!({"status": "pending", "order": "claim", "limit": 1})).await;
    assert_eq!((ids(&front["tasks"]), &front["total"]), (vec![urgent], &json!(6)));

    // Only pending tasks are queued: any other status (or none) is refused at `order`.
    for input in [json!({"order": "claim"}), json!({"order": "claim", "status": "in_progress"})] {
        let err = t.call("task.list", input.clone()).await.expect_err("refused");
        assert_eq!(
            (err.code.as_str(), err.issues.first().map(|i| i.path.as_str())),
            ("validation", Some("order")),
            "{input}"
        );
    }
    t.stop().await;
}

/// Claim order read while 8 clients create, assign and claim for 3 s: every page is in claim
/// order, lists each task once and only pending ones, and its total is never below its length.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_in_claim_order_stays_ordered_and_duplicate_free_under_concurrent_changes() {
    let t = Arc::new(TestApp::start().await);
    for w in ["w1", "w2"] {
        register(&t, w).await;
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let t = t.clone();
            tokio::spawn(async move {
                let mut i = 0i64;
                while std::time::Instant::now() < until {
                    let id = create(&t, &format!("load {n}/{i}"), (i * 37 + n) % 101).await;
                    match i % 4 {
                        // Reserve it (pending, off the shared queue): the listing's second read.
                        1 => drop(t.call("task.assign", json!({"taskId": id, "instanceId": "w2"})).await),
                        3 => drop(claim(&t, "w1", 2).await),
                        _ => {}
                    }
                    i += 1;
                }
            })
        })
        .collect();
    let mut pages = 0;
    while std::time::Instant::now() < until {
        let page = t.ok("task.list", json!({"status": "pending", "order": "claim", "limit": 200})).await;
        let tasks = page["tasks"].as_array().expect("tasks");
        let keys: Vec<(i64, u64)> = tasks
            .iter()
            .map(|task| {
                assert_eq!(task["status"], "pending", "{task}");
                let seq = task["id"].as_str().and_then(|id| id.strip_prefix("t-")).and_then(|n| n.parse().ok());
                (-task["priority"].as_i64().expect("priority"), seq.expect("a t-<n> id"))
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "out of claim order or listed twice: {keys:?}");
        assert!(page["total"].as_u64().expect("total") >= tasks.len() as u64, "{}", page["total"]);
        pages += 1;
    }
    for w in writers {
        w.await.expect("a writer");
    }
    assert!(pages >= 3, "only {pages} listings in 3 s");
}

#[tokio::test]
async fn list_pages_with_limit_and_offset_until_next_offset_is_null() {
    let t = TestApp::start().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(create(&t, &format!("task {i}"), (i * 10) as i64).await);
    }
    let mut seen = Vec::new();
    let mut offset = Some(0);
    let mut pages = 0;
    while let Some(o) = offset {
        let page = t.ok("task.list", json!({"limit": 3, "offset": o})).await;
        assert_eq!(page["total"], 7);
        seen.extend(ids(&page["tasks"]));
        offset = page["nextOffset"].as_i64();
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "pages are in creation order, whatever the priority");
    let mut newest = Vec::new();
    for offset in [0, 3, 6] {
        newest.extend(ids(&t.ok("task.list", json!({"limit": 3, "offset": offset, "order": "newest"})).await["tasks"]));
    }
    assert_eq!(newest, created.iter().rev().cloned().collect::<Vec<_>>(), "offsets count from the newest");
    let past_the_end = t.ok("task.list", json!({"offset": 50})).await;
    assert_eq!(past_the_end, json!({"tasks": [], "total": 7, "nextOffset": null}));
    for bad in [
        json!({"limit": 0}),
        json!({"limit": 201}),
        json!({"offset": -1}),
        json!({"status": "done"}),
        json!({"order": "priority"}),
    ] {
        assert_eq!(code(t.call("task.list", bad.clone()).await), "validation", "{bad}");
    }
    assert_eq!(ids(&t.ok("task.list", json!({"limit": 200})).await["tasks"]).len(), 7);
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_by_four_workers_on_two_instances_get_each_task_exactly_once() {
    const TASKS: usize = 200;
    let opts = options();
    let apps = [Arc::new(TestApp::start_with(opts.clone()).await), Arc::new(TestApp::start_with(opts).await)];
    let workers = ["w1", "w2", "w3", "w4"];
    for w in workers {
        register(&apps[0], w).await;
    }
    join_all((0..TASKS).map(|i| {
        let app = &apps[i % 2];
        async move { create(app, &format!("job {i}"), (i % 101) as i64).await }
    }))
    .await;

    // Each worker runs on its own tokio task (real parallelism across the 4 threads), claims
    // 1 to 3 tasks at a time through its instance's pipeline and completes them, until the
    // queue is empty.
    let runs: Vec<_> = workers
        .iter()
        .enumerate()
        .map(|(n, &worker)| {
            let app = apps[n % 2].clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let out = claim(&app, worker, (n % 3 + 1) as i64).await;
                    if out["claimed"] == false {
                        return mine;
                    }
                    for id in ids(&out["tasks"]) {
                        app.ok("task.complete", json!({"id": id, "workerId": worker, "result": {"by": worker}})).await;
                        mine.push(id);
                    }
                }
            })
        })
        .collect();
    let mut count: HashMap<String, usize> = HashMap::new();
    for run in runs {
        for id in run.await.expect("a worker panicked") {
            *count.entry(id).or_default() += 1;
        }
    }
    assert_eq!(count.len(), TASKS, "every task was claimed");
    assert!(count.values().all(|n| *n == 1), "some task was claimed twice");
    let done = apps[1].ok("task.list", json!({"status": "completed", "limit": 200})).await;
    assert_eq!(done["total"], TASKS as i64);
    for app in apps {
        match Arc::try_unwrap(app) {
            Ok(app) => app.stop().await,
            Err(_) => panic!("a worker still holds the app"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers without extra dependencies.

/// Runs the futures concurrently on this task and collects their outputs in order.
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|v| v.expect("every future finished")).collect()
}
