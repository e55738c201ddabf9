//! Tasks spread over several partitions (hash slots): routing, the claim order across
//! partitions, exactly-once claiming under concurrency, listing across partitions, and taking a
//! failed or leaving instance's tasks back from every partition (fences, incarnations, a sweep
//! that finishes a cleanup a crashed process left).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use claudebench_domain::coordination::tasks::{ListOrder, NewTask, Outcome, TaskQuery, TaskStatus, TaskUpdate};
use claudebench_domain::coordination::{Coordination, CoordinationConfig, ErrorCode};
use claudebench_runtime::keys::{Keys, Partitions};

use crate::coordination_tasks::claim_and_complete_concurrently;
use crate::support::{open_partitions, redis, unique_prefix};

const PARTS: u32 = 3;

fn config() -> CoordinationConfig {
    CoordinationConfig { partitions: PARTS, ..Default::default() }
}

fn coordination_with(config: CoordinationConfig) -> (Coordination, Keys) {
    let keys = Keys::new(&unique_prefix());
    open_partitions(&keys, config.partitions);
    (Coordination::new(keys.clone(), config), keys)
}

fn partition_of(keys: &Keys, id: &str) -> u32 {
    Partitions::new(keys, PARTS).of_task(id).expect("a t-<n> id").index()
}

#[tokio::test]
async fn creates_spread_round_robin_and_every_call_routes_by_id() {
    let (c, keys) = coordination_with(config());
    let mut con = redis().await;
    let mut per_partition: HashMap<u32, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for i in 0..30 {
        let t = c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap();
        assert!(ids.insert(t.id.clone()), "id {} handed out twice", t.id);
        *per_partition.entry(partition_of(&keys, &t.id)).or_default() += 1;
        // The record is where the id says.
        let part = Partitions::new(&keys, PARTS).of_task(&t.id).unwrap().clone();
        let here: bool = redis::cmd("EXISTS").arg(part.task(&t.id)).query_async(&mut con).await.unwrap();
        assert!(here, "{} is not in partition {}", t.id, part.index());
    }
    assert_eq!(per_partition.len(), PARTS as usize);
    assert!(per_partition.values().all(|n| *n == 10), "{per_partition:?}");
    // get / update / delete route to the right partition.
    let any = ids.iter().next().unwrap().clone();
    let updated = c
        .tasks
        .update(&mut con, &any, TaskUpdate { text: Some("renamed".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(c.tasks.get(&mut con, &any).await.unwrap(), updated);
    c.tasks.delete(&mut con, &any).await.unwrap();
    assert_eq!(c.tasks.get(&mut con, &any).await.unwrap_err().code, ErrorCode::NotFound);
    // An id no partition hands out is simply not found.
    assert_eq!(c.tasks.get(&mut con, "x-1").await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(c.tasks.get(&mut con, "t-99999").await.unwrap_err().code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_claim_takes_the_best_heads_across_partitions() {
    let (c, _) = coordination_with(config());
    let mut con = redis().await;
    // Priorities spread so that the three best sit in different partitions (round robin).
    for p in [10u8, 90, 50, 80, 20, 95, 60, 30, 70] {
        c.tasks.create(&mut con, NewTask::new(format!("p{p}")).priority(p)).await.unwrap();
    }
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let got: Vec<i64> = c.tasks.claim(&mut con, "w1", 4).await.unwrap().iter().map(|t| t.priority).collect();
    assert_eq!(got, vec![95, 90, 80, 70]);
    let one: Vec<i64> = c.tasks.claim(&mut con, "w1", 1).await.unwrap().iter().map(|t| t.priority).collect();
    assert_eq!(one, vec![60]);
    let rest: Vec<i64> = c.tasks.claim(&mut con, "w1", 10).await.unwrap().iter().map(|t| t.priority).collect();
    assert_eq!(rest, vec![50, 30, 20, 10]);
}

#[tokio::test]
async fn reserved_tasks_in_any_partition_are_claimed_first() {
    let (c, _) = coordination_with(config());
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let mut reserved = Vec::new();
    for i in 0..3 {
        let t = c.tasks.create(&mut con, NewTask::new(format!("r{i}")).priority(1)).await.unwrap();
        c.tasks.assign(&mut con, &t.id, "w1").await.unwrap();
        reserved.push(t.id);
    }
    c.tasks.create(&mut con, NewTask::new("urgent").priority(100)).await.unwrap();
    let got: Vec<String> = c.tasks.claim(&mut con, "w1", 3).await.unwrap().into_iter().map(|t| t.id).collect();
    let got: HashSet<String> = got.into_iter().collect();
    assert_eq!(got, reserved.into_iter().collect(), "what was reserved for the worker comes first");
}

#[tokio::test]
async fn eight_workers_claim_across_partitions_each_task_exactly_once() {
    let (c, _) = coordination_with(CoordinationConfig { partitions: 6, ..Default::default() });
    let mut con = redis().await;
    for i in 0..600 {
        c.tasks.create(&mut con, NewTask::new(format!("job {i}")).priority((i % 101) as u8)).await.unwrap();
    }
    for w in 0..8 {
        c.instances.register(&mut con, &format!("w{w}"), &["worker".into()]).await.unwrap();
    }
    let mut seen = HashSet::new();
    for mine in claim_and_complete_concurrently(&c, 8, 4).await {
        for id in mine {
            assert!(seen.insert(id.clone()), "{id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), 600);
    let done = c
        .tasks
        .list(&mut con, &TaskQuery { status: Some(TaskStatus::Completed), limit: 5, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(done.total, 600);
    assert_eq!(c.tasks.counts(&mut con).await.unwrap().queue_depth, 0);
}

#[tokio::test]
async fn listing_merges_partitions_in_id_order_with_one_total() {
    let (c, _) = coordination_with(config());
    let mut con = redis().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap().id);
    }
    let num = |id: &str| id[2..].parse::<u64>().unwrap();
    ids.sort_by_key(|id| std::cmp::Reverse(num(id)));
    let page = c.tasks.list(&mut con, &TaskQuery { offset: 5, limit: 7, ..Default::default() }).await.unwrap();
    assert_eq!(page.total, 20);
    assert_eq!(page.tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), ids[5..12].to_vec());
    let oldest =
        c.tasks.list(&mut con, &TaskQuery { order: ListOrder::Oldest, limit: 3, ..Default::default() }).await.unwrap();
    let mut asc = ids.clone();
    asc.reverse();
    assert_eq!(oldest.tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), asc[..3].to_vec());
    // Filters across partitions: by status, by assignee, unassigned.
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let claimed = c.tasks.claim(&mut con, "w1", 4).await.unwrap();
    let mine =
        c.tasks.list(&mut con, &TaskQuery { assigned_to: Some("w1".into()), ..Default::default() }).await.unwrap();
    assert_eq!(mine.total, 4);
    let running = c
        .tasks
        .list(
            &mut con,
            &TaskQuery { assigned_to: Some("w1".into()), status: Some(TaskStatus::InProgress), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(running.total, 4);
    let free = c.tasks.list(&mut con, &TaskQuery { unassigned_only: true, ..Default::default() }).await.unwrap();
    assert_eq!(free.total, 16);
    assert!(free.tasks.iter().all(|t| !claimed.iter().any(|c| c.id == t.id)));
}

#[tokio::test]
async fn a_failed_worker_loses_its_tasks_in_every_partition_and_its_late_claims() {
    let (c, _) = coordination_with(CoordinationConfig { failure_timeout_ms: 300, ..config() });
    let mut con = redis().await;
    for i in 0..9 {
        c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap();
    }
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let held = c.tasks.claim(&mut con, "w1", 6).await.unwrap();
    assert_eq!(held.len(), 6);
    c.instances.register(&mut con, "w2", &["worker".into()]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.instances.heartbeat(&mut con, "w2").await.unwrap();
    let failed = c.instances.sweep(&mut con).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, "w1");
    let requeued: HashSet<String> = failed[0].requeued.iter().cloned().collect();
    assert_eq!(requeued, held.iter().map(|t| t.id.clone()).collect(), "every partition gave them back");
    // The failed worker can neither claim nor complete any more; its old tasks go to others.
    assert_eq!(c.tasks.claim(&mut con, "w1", 1).await.unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(
        c.tasks.complete(&mut con, &held[0].id, "w1", Outcome::Completed(None)).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(c.tasks.claim(&mut con, "w2", 9).await.unwrap().len(), 9);
    // Registering again is a new incarnation: it may take work again.
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    c.tasks.create(&mut con, NewTask::new("fresh")).await.unwrap();
    assert_eq!(c.tasks.claim(&mut con, "w1", 1).await.unwrap().len(), 1);
}

/// A claim that passed its liveness check just before the worker was declared failed must not
/// land after the sweep took the worker's tasks back: the partition's fence refuses it. The
/// race is made deterministic by fencing exactly as a sweep does, then claiming.
#[tokio::test]
async fn a_fenced_incarnation_cannot_claim_or_be_assigned_in_that_partition() {
    let (c, keys) = coordination_with(config());
    let mut con = redis().await;
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let incarnation: String =
        redis::cmd("HGET").arg(keys.instance("w1")).arg("incarnation").query_async(&mut con).await.unwrap();
    let t = c.tasks.create(&mut con, NewTask::new("x")).await.unwrap();
    // The sweep's partition step, for this incarnation, while w1 still looks alive.
    c.tasks.requeue_from(&mut con, "w1", &incarnation, "instance_failed").await.unwrap();
    assert_eq!(c.tasks.claim(&mut con, "w1", 1).await.unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(c.tasks.assign(&mut con, &t.id, "w1").await.unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(c.tasks.get(&mut con, &t.id).await.unwrap().status, TaskStatus::Pending);
}

/// A sweeper that died between declaring an instance failed and taking its tasks back leaves a
/// cleanup entry; the next sweep finishes it (tasks re-queued, `instance.failed` published once).
#[tokio::test]
async fn a_cleanup_left_by_a_crashed_sweeper_is_finished_by_the_next_sweep() {
    let (c, keys) = coordination_with(config());
    let mut con = redis().await;
    for i in 0..3 {
        c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap();
    }
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let held = c.tasks.claim(&mut con, "w1", 3).await.unwrap();
    let incarnation: String =
        redis::cmd("HGET").arg(keys.instance("w1")).arg("incarnation").query_async(&mut con).await.unwrap();
    // What lua/instance_sweep.lua leaves when its process dies right after it.
    let _: () = redis::pipe()
        .zrem(keys.instances(), "w1")
        .sadd(keys.instances_failed(), "w1")
        .hset(
            keys.instances_cleanup(),
            "w1",
            // Written long enough ago to count as abandoned.
            format!(r#"{{"reason":"instance_failed","incarnation":{incarnation},"lastSeen":1,"since":1}}"#),
        )
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(c.instances.sweep(&mut con).await.unwrap().is_empty(), "nobody new is declared failed");
    for t in &held {
        let now = c.tasks.get(&mut con, &t.id).await.unwrap();
        assert_eq!((now.status, now.assigned_to), (TaskStatus::Pending, None), "{}", t.id);
    }
    let left: bool = redis::cmd("HEXISTS").arg(keys.instances_cleanup()).arg("w1").query_async(&mut con).await.unwrap();
    assert!(!left, "the cleanup entry is gone");
    let failed: Vec<(String, HashMap<String, String>)> =
        redis::cmd("XRANGE").arg(keys.stream("instance.failed")).arg("-").arg("+").query_async(&mut con).await.unwrap();
    assert_eq!(failed.len(), 1, "instance.failed published once");
    // Another sweep changes nothing and publishes nothing.
    c.instances.sweep(&mut con).await.unwrap();
    let again: Vec<(String, HashMap<String, String>)> =
        redis::cmd("XRANGE").arg(keys.stream("instance.failed")).arg("-").arg("+").query_async(&mut con).await.unwrap();
    assert_eq!(again.len(), 1);
}

#[tokio::test]
async fn unregistering_gives_back_tasks_from_every_partition() {
    let (c, _) = coordination_with(config());
    let mut con = redis().await;
    for i in 0..6 {
        c.tasks.create(&mut con, NewTask::new(format!("t{i}"))).await.unwrap();
    }
    c.instances.register(&mut con, "w1", &["worker".into()]).await.unwrap();
    let held: HashSet<String> = c.tasks.claim(&mut con, "w1", 6).await.unwrap().into_iter().map(|t| t.id).collect();
    let back: HashSet<String> = c.instances.unregister(&mut con, "w1").await.unwrap().into_iter().collect();
    assert_eq!(back, held);
    assert_eq!(c.tasks.counts(&mut con).await.unwrap().queue_depth, 6);
}

#[tokio::test]
async fn auto_assign_balances_load_counted_across_partitions() {
    let (c, _) = coordination_with(CoordinationConfig { worker_capacity: 4, ..config() });
    let mut con = redis().await;
    for w in ["w1", "w2"] {
        c.instances.register(&mut con, w, &["worker".into()]).await.unwrap();
    }
    // w1 already holds three tasks, one in each partition.
    for _ in 0..3 {
        let t = c.tasks.create(&mut con, NewTask::new("pre")).await.unwrap();
        c.tasks.assign(&mut con, &t.id, "w1").await.unwrap();
    }
    for i in 0..9 {
        c.tasks.create(&mut con, NewTask::new(format!("n{i}"))).await.unwrap();
    }
    let made = c.tasks.auto_assign(&mut con, 100).await.unwrap();
    let to = |w: &str| made.iter().filter(|a| a.instance_id == w).count();
    assert_eq!((to("w1"), to("w2")), (1, 4), "{made:?}");
    assert_eq!(c.tasks.queue_length(&mut con, "w1").await.unwrap(), 4);
    assert_eq!(c.tasks.queue_length(&mut con, "w2").await.unwrap(), 4);
}

/// `task.create` checks its caller's rate limit: inside the create script with one partition (one
/// round trip), first with the limiter's own script with several (new tasks go round robin). Either
/// way two servers racing one caller's creates admit exactly the limit, a refusal creates nothing
/// and uses no id, and other callers keep their own limit.
#[tokio::test]
async fn a_create_checks_its_callers_limit_with_one_partition_or_several() {
    for partitions in [1, PARTS] {
        create_limit_holds(partitions).await;
    }
}

async fn create_limit_holds(partitions: u32) {
    use claudebench_generated::event::RateLimit;
    use claudebench_runtime::keys::slot;
    use claudebench_runtime::resilience::OwnLimit;

    let config = || CoordinationConfig { partitions, ..Default::default() };
    let (a, keys) = coordination_with(config());
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(Coordination::new(keys.clone(), config())));
    let limit = RateLimit { count: 12, window_ms: 3_600_000 };
    let own = |caller: &str| OwnLimit { event: "task.create", caller: caller.into(), limit };
    let busy = own("client:busy");
    let mut racers = tokio::task::JoinSet::new();
    for (i, server) in (0..40).map(|i| (i, if i % 2 == 0 { a.clone() } else { b.clone() })) {
        let busy = busy.clone();
        racers.spawn(async move {
            let mut con = redis().await;
            server.tasks.create_limited(&mut con, NewTask::new(format!("r{i}")), Some(&busy)).await
        });
    }
    let (mut created, mut refused) = (Vec::new(), 0);
    while let Some(result) = racers.join_next().await {
        match result.unwrap() {
            Ok(task) => created.push(task.id),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::RateLimited, "{e:?}");
                let retry = e.retry_after_ms.expect("retryAfterMs");
                assert!((1..=3_600_000).contains(&retry), "{retry}");
                assert!(e.message.contains("task.create") && e.message.contains("12 calls"), "{}", e.message);
                refused += 1;
            }
        }
    }
    assert_eq!((created.len(), refused), (12, 28), "{partitions} partition(s)");

    // The refusals used no id: each partition handed out the first ids of its sequence
    // (N + p, 2N + p, …), nothing skipped. How many landed in each partition depends on which
    // server's round robin won the races, so only the per-partition sequences are fixed.
    let n = u64::from(partitions);
    let mut by_partition = vec![Vec::new(); partitions as usize];
    for id in &created {
        let number: u64 = id[2..].parse().unwrap();
        by_partition[(number % n) as usize].push(number);
    }
    for (p, numbers) in by_partition.iter_mut().enumerate() {
        numbers.sort_unstable();
        let expected: Vec<u64> = (1..=numbers.len() as u64).map(|k| k * n + p as u64).collect();
        assert_eq!(*numbers, expected, "partition {p} of {partitions}: an id was skipped");
    }
    let mut con = redis().await;
    assert_eq!(a.tasks.list(&mut con, &TaskQuery::default()).await.unwrap().total, 12, "a refused create left nothing");

    // Where the limit's state lives: in the one partition's slot, or under the limiter's own key.
    let exists = |key: String| {
        let mut con = con.clone();
        async move { redis::cmd("EXISTS").arg(&key).query_async::<bool>(&mut con).await.unwrap() }
    };
    let parts = Partitions::new(&keys, partitions);
    let in_partition = parts.get(0).rate_limit("task.create", "client:busy");
    let own_key = keys.rate_limit("task.create", "client:busy");
    if partitions == 1 {
        assert!(exists(in_partition.clone()).await && slot(&in_partition) == slot(parts.get(0).tag()));
        assert!(!exists(own_key).await);
    } else {
        assert!(exists(own_key).await && !exists(in_partition).await);
    }

    // Another caller has its own limit; a limit of 0 refuses without creating.
    a.tasks.create_limited(&mut con, NewTask::new("calm"), Some(&own("client:calm"))).await.unwrap();
    let zero = OwnLimit { limit: RateLimit { count: 0, window_ms: 5_000 }, ..own("client:none") };
    let err = a.tasks.create_limited(&mut con, NewTask::new("never"), Some(&zero)).await.unwrap_err();
    assert_eq!((err.code, err.retry_after_ms), (ErrorCode::RateLimited, Some(5_000)));
    assert_eq!(a.tasks.list(&mut con, &TaskQuery::default()).await.unwrap().total, 13);
}
