//! Gossip, quorum, batches, global state and metrics against the real Redis.

use std::time::Duration;

use claudebench_domain::coordination::batch::LockState;
use claudebench_domain::coordination::gossip::HealthStatus;
use claudebench_domain::coordination::tasks::{NewTask, Outcome};
use claudebench_domain::coordination::{CoordinationConfig, ErrorCode, now_ms};
use serde_json::json;

use crate::coordination_tasks::{coordination, stream};
use crate::support::redis;

#[tokio::test]
async fn a_partition_is_flagged_below_half_healthy_and_cleared_on_recovery() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    for i in ["a", "b", "c", "d"] {
        c.instances.register(&mut con, i, &[]).await.unwrap();
    }
    let now = now_ms();
    let s = c.gossip.report_at(&mut con, "a", HealthStatus::Healthy, now).await.unwrap();
    assert!(s.detected && s.changed, "1 of 4 healthy: {s:?}");
    assert_eq!((s.healthy, s.total), (1, 4));
    assert!(s.since.is_some());
    let s = c.gossip.report_at(&mut con, "b", HealthStatus::Unhealthy, now).await.unwrap();
    assert!(s.detected && !s.changed);
    let s = c.gossip.report_at(&mut con, "c", HealthStatus::Healthy, now).await.unwrap();
    assert!(!s.detected && s.changed, "2 of 4 healthy is not a partition: {s:?}");
    assert!(!c.gossip.partition_detected(&mut con).await.unwrap());
    assert_eq!(stream(&mut con, &keys.stream("partition.detected")).await.len(), 1);
    assert_eq!(stream(&mut con, &keys.stream("partition.recovered")).await.len(), 1);
    let entries = c.gossip.entries(&mut con).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries["b"].status, HealthStatus::Unhealthy);
}

#[tokio::test]
async fn stale_gossip_entries_are_removed_and_stop_counting_as_healthy() {
    let (c, _) = coordination();
    let mut con = redis().await;
    for i in ["a", "b"] {
        c.instances.register(&mut con, i, &[]).await.unwrap();
    }
    let t0 = now_ms();
    c.gossip.report_at(&mut con, "a", HealthStatus::Healthy, t0).await.unwrap();
    let s = c.gossip.report_at(&mut con, "b", HealthStatus::Healthy, t0).await.unwrap();
    assert_eq!(s.healthy, 2);
    // Much later only "b" still reports: "a"'s entry is stale.
    let later = t0 + CoordinationConfig::default().gossip_stale_ms as i64 + 1;
    let s = c.gossip.report_at(&mut con, "b", HealthStatus::Healthy, later).await.unwrap();
    assert_eq!(s.healthy, 1);
    assert!(!c.gossip.entries(&mut con).await.unwrap().contains_key("a"));
}

#[tokio::test]
async fn a_duplicate_vote_replaces_the_earlier_one_and_never_double_counts() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    let r = c.quorum.vote(&mut con, "deploy", "i1", "yes", Some(3)).await.unwrap();
    assert!(!r.reached);
    assert_eq!((r.vote_count, r.quorum), (1, 2));
    // The same instance voting again, even for the same value, is still one vote.
    let r = c.quorum.vote(&mut con, "deploy", "i1", "yes", Some(3)).await.unwrap();
    assert!(!r.reached);
    assert_eq!(r.vote_count, 1);
    let r = c.quorum.vote(&mut con, "deploy", "i1", "no", Some(3)).await.unwrap();
    assert!(!r.reached);
    let r = c.quorum.vote(&mut con, "deploy", "i2", "no", Some(3)).await.unwrap();
    assert!(r.reached);
    assert_eq!(r.decision.as_deref(), Some("no"));
    assert_eq!((r.vote_count, r.votes_for), (2, 2));
    assert!(r.voted);
    // Fixed once reached: later votes are refused and leave the tally alone.
    let late = c.quorum.vote(&mut con, "deploy", "i1", "yes", Some(3)).await.unwrap();
    assert!(!late.voted);
    let r = c.quorum.vote(&mut con, "deploy", "i3", "yes", Some(3)).await.unwrap();
    assert!(!r.voted);
    assert_eq!(r.decision.as_deref(), Some("no"));
    assert_eq!((r.vote_count, r.votes_for), (2, 2));
    assert_eq!(stream(&mut con, &keys.stream("quorum.decision.made")).await.len(), 1);
    // Decisions are independent.
    let other = c.quorum.vote(&mut con, "rollback", "i1", "yes", Some(3)).await.unwrap();
    assert!(!other.reached);
}

#[tokio::test]
async fn a_quorum_of_a_huge_electorate_is_counted_exactly() {
    // Found by schemathesis: Lua printed this quorum as `4.5035996273705e+15` and the vote failed.
    let (c, keys) = coordination();
    let mut con = redis().await;
    let total = (1u64 << 53) - 1;
    let r = c.quorum.vote(&mut con, "huge", "i1", "yes", Some(total)).await.unwrap();
    assert_eq!((r.reached, r.vote_count, r.quorum), (false, 1, 1 << 52));
    let r = c.quorum.vote(&mut con, "small", "i1", "yes", Some(1)).await.unwrap();
    assert!(r.reached);
    let stored: Vec<String> =
        redis::cmd("HMGET").arg(keys.quorum("small")).arg("quorum").arg("total").query_async(&mut con).await.unwrap();
    assert_eq!(stored, ["1", "1"]);
}

#[tokio::test]
async fn without_a_total_the_quorum_is_a_majority_of_registered_instances() {
    let (c, _) = coordination();
    let mut con = redis().await;
    for i in ["a", "b", "c", "d", "e"] {
        c.instances.register(&mut con, i, &[]).await.unwrap();
    }
    for (n, i) in ["a", "b"].iter().enumerate() {
        let r = c.quorum.vote(&mut con, "x", i, "v", None).await.unwrap();
        assert!(!r.reached, "{n}");
        assert_eq!(r.quorum, 3);
    }
    assert!(c.quorum.vote(&mut con, "x", "c", "v", None).await.unwrap().reached);
}

#[tokio::test]
async fn a_batch_has_one_processor_whose_progress_advances_until_completion() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    let a = c.batches.acquire(&mut con, "b1", "p1", 30, 5_000).await.unwrap();
    assert!(a.acquired);
    let b = c.batches.acquire(&mut con, "b1", "p2", 30, 5_000).await.unwrap();
    assert!(!b.acquired);
    assert_eq!((b.state, b.owner.as_str()), (LockState::Held, "p1"));
    assert_eq!(c.batches.progress(&mut con, "b1", "p2", 5, 5_000).await.unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(c.batches.progress(&mut con, "b1", "p1", 10, 5_000).await.unwrap().processed, 10);
    assert_eq!(c.batches.progress(&mut con, "b1", "p1", 20, 5_000).await.unwrap().processed, 20);
    // Never backwards, never past the total.
    assert_eq!(c.batches.progress(&mut con, "b1", "p1", 5, 5_000).await.unwrap().processed, 20);
    assert_eq!(c.batches.progress(&mut con, "b1", "p1", 99, 5_000).await.unwrap().processed, 30);
    let done = c.batches.complete(&mut con, "b1", "p1", 30).await.unwrap();
    assert_eq!(done.processed, 30);
    let again = c.batches.acquire(&mut con, "b1", "p2", 30, 5_000).await.unwrap();
    assert_eq!((again.acquired, again.state), (false, LockState::Completed));
    assert_eq!(stream(&mut con, &keys.stream("batch.completed")).await.len(), 1);
    assert_eq!(c.batches.progress(&mut con, "nope", "p1", 1, 5_000).await.unwrap_err().code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_lapsed_or_released_batch_lock_is_taken_over_with_its_progress() {
    let (c, _) = coordination();
    let mut con = redis().await;
    assert!(c.batches.acquire(&mut con, "b", "p1", 10, 100).await.unwrap().acquired);
    c.batches.progress(&mut con, "b", "p1", 4, 100).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let taken = c.batches.acquire(&mut con, "b", "p2", 10, 5_000).await.unwrap();
    assert!(taken.acquired);
    assert_eq!(taken.processed, 4);
    // The old owner is fenced off.
    assert_eq!(c.batches.progress(&mut con, "b", "p1", 6, 100).await.unwrap_err().code, ErrorCode::Conflict);
    c.batches.release(&mut con, "b", "p2", 7).await.unwrap();
    let third = c.batches.acquire(&mut con, "b", "p3", 10, 5_000).await.unwrap();
    assert!(third.acquired);
    assert_eq!(third.processed, 7);
}

#[tokio::test]
async fn the_state_version_only_grows_and_compare_and_set_detects_conflicts() {
    let (c, _) = coordination();
    let mut con = redis().await;
    assert_eq!(c.state.get(&mut con).await.unwrap().version, 0);
    assert_eq!(c.state.sync(&mut con, &json!({"a": 1}), "i1", None).await.unwrap(), 1);
    assert_eq!(c.state.sync(&mut con, &json!({"a": 2}), "i2", Some(1)).await.unwrap(), 2);
    assert_eq!(c.state.sync(&mut con, &json!({"a": 3}), "i1", Some(1)).await.unwrap_err().code, ErrorCode::Conflict);
    let s = c.state.get(&mut con).await.unwrap();
    assert_eq!((s.version, s.data, s.updated_by.as_deref()), (2, json!({"a": 2}), Some("i2")));
}

#[tokio::test]
async fn metrics_count_tasks_by_status_and_measure_load_balance() {
    let (c, keys) = coordination();
    let mut con = redis().await;
    for w in ["w1", "w2"] {
        c.instances.register(&mut con, w, &["worker".into()]).await.unwrap();
    }
    for i in 0..6 {
        c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap();
    }
    let got = c.tasks.claim(&mut con, "w1", 3).await.unwrap();
    c.tasks.complete(&mut con, &got[0].id, "w1", Outcome::Completed(None)).await.unwrap();
    c.tasks.claim(&mut con, "w2", 1).await.unwrap();
    let m = c.state.aggregate_metrics(&mut con).await.unwrap();
    assert_eq!((m.instances, m.alive_instances, m.failed_instances), (2, 2, 0));
    assert_eq!((m.pending, m.in_progress, m.completed, m.failed, m.total_tasks), (2, 3, 1, 0, 6));
    assert_eq!(m.queue_depth, 2);
    assert_eq!(m.total_load, 3);
    // Queues 2 and 1: mean 1.5, mean absolute deviation 0.5.
    assert!((m.load_balance - 0.5).abs() < 1e-9, "{}", m.load_balance);
    let stored: Option<String> =
        redis::cmd("HGET").arg(keys.global_metrics()).arg("totalTasks").query_async(&mut con).await.unwrap();
    assert_eq!(stored.as_deref(), Some("6"));
}
