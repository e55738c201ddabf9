//! Instance registry and failure detection against the real Redis.

use std::collections::HashSet;
use std::time::Duration;

use claudebench_domain::coordination::tasks::{NewTask, Outcome, TaskQuery, TaskStatus};
use claudebench_domain::coordination::{Coordination, CoordinationConfig, ErrorCode, now_ms};
use serde_json::Value;

use crate::coordination_tasks::stream;
use crate::support::{self, redis, unique_keys};

#[tokio::test]
async fn heartbeat_is_alive_only_for_registered_instances() {
    let keys = unique_keys();
    let c = Coordination::new(keys.clone(), CoordinationConfig::default());
    let mut con = redis().await;
    assert!(!c.instances.heartbeat(&mut con, "w1").await.unwrap());
    let r = c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    assert!(!r.reregistered);
    assert!(c.instances.heartbeat(&mut con, "w1").await.unwrap());
    let inst = c.instances.get(&mut con, "w1").await.unwrap().unwrap();
    assert_eq!(inst.roles, vec!["worker".to_string()]);
    assert!((now_ms() - inst.last_seen).abs() < 5_000);
    assert!(inst.last_heartbeat.ends_with('Z'));
    let events = stream(&mut con, &keys.stream("instance.registered")).await;
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn the_record_outlives_the_failure_timeout() {
    let keys = unique_keys();
    let config = CoordinationConfig::default();
    let c = Coordination::new(keys.clone(), config.clone());
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &[]).await.unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg(keys.instance("w1")).query_async(&mut con).await.unwrap();
    assert!(ttl > config.failure_timeout_ms as i64, "ttl {ttl}");
}

#[tokio::test]
async fn re_registering_replaces_roles_and_drops_stale_memberships() {
    let keys = unique_keys();
    let c = Coordination::new(keys, CoordinationConfig::default());
    let mut con = redis().await;
    c.instances.register(&mut con, "i1", &["worker".into(), "supervisor".into()]).await.unwrap();
    assert_eq!(c.instances.with_role(&mut con, "supervisor").await.unwrap(), vec!["i1".to_string()]);
    let r = c.instances.register(&mut con, "i1", &["worker".into(), "monitor".into()]).await.unwrap();
    assert!(r.reregistered);
    assert!(c.instances.with_role(&mut con, "supervisor").await.unwrap().is_empty());
    assert_eq!(c.instances.with_role(&mut con, "monitor").await.unwrap(), vec!["i1".to_string()]);
    assert_eq!(c.instances.with_role(&mut con, "worker").await.unwrap(), vec!["i1".to_string()]);
}

#[tokio::test]
async fn unregister_puts_in_flight_tasks_back_on_the_queue() {
    let keys = unique_keys();
    let c = Coordination::new(keys, CoordinationConfig::default());
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    c.instances.register(&mut con, "w2", &["worker".into()]).await.unwrap();
    for i in 0..3 {
        c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap();
    }
    let claimed = c.tasks.claim(&mut con, "w1", 2).await.unwrap();
    let mut requeued = c.instances.unregister(&mut con, "w1").await.unwrap();
    requeued.sort();
    let mut expected: Vec<String> = claimed.iter().map(|t| t.id.clone()).collect();
    expected.sort();
    assert_eq!(requeued, expected);
    assert!(!c.instances.heartbeat(&mut con, "w1").await.unwrap());
    assert!(c.instances.with_role(&mut con, "worker").await.unwrap() == vec!["w2".to_string()]);
    let back = c.tasks.claim(&mut con, "w2", 10).await.unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(c.instances.unregister(&mut con, "w1").await.unwrap_err().code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_worker_that_stops_heartbeating_has_its_tasks_requeued_exactly_once_and_finished_by_others() {
    let keys = unique_keys();
    let timeout = 400u64;
    let c = Coordination::new(keys.clone(), CoordinationConfig { failure_timeout_ms: timeout, ..Default::default() });
    let mut con = redis().await;
    for i in 0..20 {
        c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap();
    }
    for w in ["dead", "w1", "w2"] {
        c.instances.register(&mut con, w, &["worker".into()]).await.unwrap();
    }
    let held: HashSet<String> = c.tasks.claim(&mut con, "dead", 6).await.unwrap().into_iter().map(|t| t.id).collect();
    // One more reserved (assigned, not started) task.
    let extra = c.tasks.create(&mut con, NewTask::new("reserved")).await.unwrap();
    c.tasks.assign(&mut con, &extra.id, "dead").await.unwrap();
    let mut held = held;
    held.insert(extra.id.clone());

    // "dead" stops heartbeating; the others keep going past the timeout.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(timeout / 3)).await;
        assert!(c.instances.heartbeat(&mut con, "w1").await.unwrap());
        assert!(c.instances.heartbeat(&mut con, "w2").await.unwrap());
    }

    // Two sweepers race.
    let (a, b) = {
        let (c1, c2) = (c.clone(), c.clone());
        let h1 = tokio::spawn(async move { c1.instances.sweep(&mut redis().await).await.unwrap() });
        let h2 = tokio::spawn(async move { c2.instances.sweep(&mut redis().await).await.unwrap() });
        (h1.await.unwrap(), h2.await.unwrap())
    };
    let failed: Vec<_> = a.iter().chain(b.iter()).collect();
    assert_eq!(failed.len(), 1, "declared failed exactly once: {failed:?}");
    assert_eq!(failed[0].id, "dead");
    let requeued: HashSet<String> = failed[0].requeued.iter().cloned().collect();
    assert_eq!(requeued, held);
    assert_eq!(failed[0].tasks_reassigned as usize, held.len());

    let failed_events = stream(&mut con, &keys.stream("instance.failed")).await;
    assert_eq!(failed_events.len(), 1);
    let updates = stream(&mut con, &support::part0(&keys).stream("task.updated")).await;
    let requeue_events: Vec<Value> = updates
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e["payload"]).unwrap())
        .filter(|p| p["reason"] == "instance_failed")
        .collect();
    assert_eq!(requeue_events.len(), held.len(), "one requeue event per task");
    assert!(requeue_events.iter().all(|p| p["task"]["assignedTo"].is_null() && p["task"]["status"] == "pending"));

    // The dead worker is fenced off.
    assert!(!c.instances.heartbeat(&mut con, "dead").await.unwrap());
    assert_eq!(c.instances.failed(&mut con).await.unwrap(), vec!["dead".to_string()]);
    let some = held.iter().next().unwrap().clone();
    assert_eq!(
        c.tasks.complete(&mut con, &some, "dead", Outcome::Completed(None)).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(c.tasks.claim(&mut con, "dead", 1).await.unwrap_err().code, ErrorCode::Conflict);

    // The survivors finish everything.
    let mut finished = 0;
    for w in ["w1", "w2"].iter().cycle() {
        let got = c.tasks.claim(&mut con, w, 4).await.unwrap();
        if got.is_empty() {
            break;
        }
        for t in got {
            c.tasks.complete(&mut con, &t.id, w, Outcome::Completed(None)).await.unwrap();
            finished += 1;
        }
    }
    assert_eq!(finished, 21);
    let done =
        c.tasks.list(&mut con, &TaskQuery { status: Some(TaskStatus::Completed), ..Default::default() }).await.unwrap();
    assert_eq!(done.total, 21);

    // A later sweep finds nothing more to do.
    assert!(c.instances.sweep(&mut con).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_instance_can_register_again_and_take_new_work() {
    let keys = unique_keys();
    let c = Coordination::new(keys, CoordinationConfig::default());
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let t = c.tasks.create(&mut con, NewTask::new("x")).await.unwrap();
    c.tasks.claim(&mut con, "w1", 1).await.unwrap();
    // Sweep "in the future" instead of waiting for the timeout.
    let failed = c.instances.sweep_failed(&mut con, now_ms() + 60_000, 30_000).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(c.tasks.get(&mut con, &t.id).await.unwrap().assigned_to, None);
    assert!(!c.instances.heartbeat(&mut con, "w1").await.unwrap());
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    assert!(c.instances.heartbeat(&mut con, "w1").await.unwrap());
    assert!(c.instances.failed(&mut con).await.unwrap().is_empty());
    assert_eq!(c.tasks.claim(&mut con, "w1", 1).await.unwrap()[0].id, t.id);
}
