//! Several servers on one Redis key prefix behave as one system: each test starts two or three
//! apps that share a prefix (as separate processes of one deployment would) but have their own
//! instance ids, and drives them through the pipeline.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use claudebench_domain::node::NodeOptions;
use serde_json::{Value, json};

use crate::support::{TestApp, options};
use crate::system_handlers::{claim, complete, create_task, stream, task};

/// `n` servers sharing `base`'s prefix, with ids `<base id>-0`, `-1`, …
async fn cluster(n: usize, base: NodeOptions) -> Vec<TestApp> {
    let mut apps = Vec::with_capacity(n);
    for i in 0..n {
        let mut o = base.clone();
        o.instance_id = format!("{}-{i}", base.instance_id);
        apps.push(TestApp::start_with(o).await);
    }
    apps
}

/// Shut a server down as a deployment would (unregister, release leadership), leaving the
/// shared keys to the others.
async fn shutdown(mut t: TestApp) {
    if let Some(app) = t.app.take() {
        app.shutdown().await;
    }
}

/// Shut every server down; the last one also deletes the test's keys.
async fn stop_all(mut apps: Vec<TestApp>) {
    let last = apps.pop();
    for t in apps {
        shutdown(t).await;
    }
    if let Some(t) = last {
        t.stop().await;
    }
}

#[tokio::test]
async fn an_instance_registered_through_one_server_is_seen_by_the_others() {
    let apps = cluster(3, options()).await;
    apps[0].ok("system.register", json!({"id": "worker-1", "roles": ["worker"]})).await;

    assert_eq!(apps[1].ok("system.heartbeat", json!({"instanceId": "worker-1"})).await, json!({"alive": true}));
    let state = apps[2].ok("system.get_state", json!({})).await;
    let instances = state["instances"].as_array().unwrap();
    let ids: HashSet<&str> = instances.iter().map(|i| i["id"].as_str().unwrap()).collect();
    // The three servers registered themselves at start, plus the worker.
    let mut expected: HashSet<&str> = apps.iter().map(|t| t.services().instance_id.as_str()).collect();
    expected.insert("worker-1");
    assert_eq!(ids, expected);
    let worker = instances.iter().find(|i| i["id"] == "worker-1").unwrap();
    assert_eq!((worker["roles"].clone(), worker["health"].clone()), (json!(["worker"]), json!("healthy")));

    apps[2].ok("system.unregister", json!({"id": "worker-1"})).await;
    assert_eq!(apps[0].ok("system.heartbeat", json!({"instanceId": "worker-1"})).await, json!({"alive": false}));
    stop_all(apps).await;
}

#[tokio::test]
async fn a_silent_worker_s_tasks_are_requeued_exactly_once_under_concurrent_sweeps_and_completed_by_another() {
    let apps = cluster(2, options()).await;
    let (a, b) = (&apps[0], &apps[1]);
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(create_task(a, &format!("work {i}"), 50).await);
    }
    // The worker is offered all four when it registers, claims three and then goes silent.
    a.ok("system.register", json!({"id": "doomed", "roles": ["worker"]})).await;
    assert_eq!(claim(b, "doomed", 3).await.len(), 3);
    b.ok("system.register", json!({"id": "survivor", "roles": ["worker"]})).await;
    for id in &ids {
        assert_eq!(task(a, id).await["assignedTo"], "doomed", "{id}");
    }
    // The worker stays silent well past the sweep's timeout, and the survivor's heartbeat is a
    // whole second younger than it: a stall of the loaded CI machine between the heartbeat and
    // the sweep must not make the survivor look silent too.
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    a.ok("system.heartbeat", json!({"instanceId": "survivor"})).await;

    // Both servers sweep at once.
    let sweep = json!({"timeout": 1_000});
    let (ra, rb) = tokio::join!(a.ok("system.check_health", sweep.clone()), b.ok("system.check_health", sweep.clone()));
    let counts: Vec<i64> = [&ra, &rb].iter().filter_map(|r| r["reassigned"]["doomed"].as_i64()).collect();
    assert_eq!(counts, [4], "exactly one sweep handled the failure: {ra} {rb}");
    for r in [&ra, &rb] {
        assert!(r["failed"].as_array().unwrap().contains(&json!("doomed")));
    }
    let failures: Vec<Value> = stream(a, "instance.failed").await.into_iter().filter(|f| f["id"] == "doomed").collect();
    assert_eq!(failures.len(), 1);
    // One requeue per task, never two.
    let requeues: Vec<String> = stream(a, "task.updated")
        .await
        .into_iter()
        .filter(|u| u["reason"] == "instance_failed")
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    let mut sorted_requeues = requeues.clone();
    sorted_requeues.sort();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert_eq!(sorted_requeues, sorted_ids);

    // The survivor was handed the work; it claims and completes every task.
    let mut claimed = claim(a, "survivor", 10).await;
    claimed.sort();
    assert_eq!(claimed, sorted_ids);
    for id in &claimed {
        complete(b, id, "survivor").await;
    }
    for id in &ids {
        let t = task(a, id).await;
        assert_eq!((t["status"].as_str(), t["assignedTo"].as_str()), (Some("completed"), Some("survivor")), "{id}");
    }
    // The silent worker cannot resume as if nothing happened.
    assert_eq!(b.ok("system.heartbeat", json!({"instanceId": "doomed"})).await["alive"], false);
    stop_all(apps).await;
}

#[tokio::test]
async fn duplicate_votes_through_different_servers_count_once() {
    let apps = cluster(2, options()).await;
    let (a, b) = (&apps[0], &apps[1]);
    let vote = |who: &str, value: &str| json!({"instanceId": who, "decision": "release-7", "value": value, "totalInstances": 3});
    a.ok("system.quorum_vote", vote("w1", "go")).await;
    b.ok("system.quorum_vote", vote("w1", "go")).await;
    // Many simultaneous duplicates are still one vote.
    let (r1, r2, r3) = tokio::join!(
        a.ok("system.quorum_vote", vote("w1", "go")),
        b.ok("system.quorum_vote", vote("w1", "go")),
        a.ok("system.quorum_vote", vote("w1", "go"))
    );
    for r in [&r1, &r2, &r3] {
        assert_eq!((r["voteCount"].as_i64(), r["quorumReached"].as_bool()), (Some(1), Some(false)), "{r}");
    }
    let decided = b.ok("system.quorum_vote", vote("w2", "go")).await;
    assert_eq!(decided, json!({"voted": true, "quorumReached": true, "finalDecision": "go", "voteCount": 2}));
    assert_eq!(stream(a, "quorum.decision.made").await.len(), 1);
    stop_all(apps).await;
}

#[tokio::test]
async fn a_batch_held_through_one_server_is_refused_through_another_and_free_once_released() {
    let apps = cluster(2, options()).await;
    let (a, b) = (&apps[0], &apps[1]);
    let items: Vec<Value> = (0..40).map(Value::from).collect();
    // A processor working through server A is 12 items in.
    let batches = &a.domain().coord.batches;
    let mut con = a.redis();
    assert!(batches.acquire(&mut con, "nightly", "proc-a", 40, 10_000).await.unwrap().acquired);
    batches.progress(&mut con, "nightly", "proc-a", 12, 10_000).await.unwrap();

    let refused =
        b.ok("system.batch_process", json!({"batchId": "nightly", "instanceId": "proc-b", "items": items})).await;
    assert_eq!(refused, json!({"processed": false, "processorId": "proc-a", "itemsProcessed": 12}));

    batches.release(&mut con, "nightly", "proc-a", 12).await.unwrap();
    let done =
        b.ok("system.batch_process", json!({"batchId": "nightly", "instanceId": "proc-b", "items": items})).await;
    assert_eq!(done, json!({"processed": true, "processorId": "proc-b", "itemsProcessed": 40}));

    // Two servers racing for a fresh batch: one processes it, the other names it.
    let race = |t: &'static str| json!({"batchId": "race", "instanceId": t, "items": items});
    let (ra, rb) = tokio::join!(a.ok("system.batch_process", race("x")), b.ok("system.batch_process", race("y")));
    let winners: Vec<&Value> = [&ra, &rb].into_iter().filter(|r| r["processed"] == true).collect();
    assert_eq!(winners.len(), 1, "{ra} {rb}");
    let loser = if ra["processed"] == true { &rb } else { &ra };
    assert_eq!(loser["processorId"], winners[0]["processorId"]);
    stop_all(apps).await;
}

#[tokio::test]
async fn metrics_add_up_the_events_every_server_handled() {
    let mut busy = options();
    busy.background_jobs = true;
    let mut quiet = busy.clone();
    quiet.background_jobs = false;
    quiet.instance_id = format!("{}-quiet", busy.instance_id);
    let a = TestApp::start_with(busy).await;
    let b = TestApp::start_with(quiet).await;

    for _ in 0..5 {
        a.ok("system.heartbeat", json!({"instanceId": "nobody"})).await;
    }
    // Stands in for the completions `task.complete` reports to the registry of server A.
    a.services().metrics.task_completed();
    a.services().metrics.task_completed();

    // A flushes every second; every metrics call on B counts itself once it has answered.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut calls_on_b = 0;
    let out = loop {
        let out = b.ok("system.metrics", json!({})).await;
        if out["eventsProcessed"] == 5 + calls_on_b || Instant::now() > deadline {
            break out;
        }
        calls_on_b += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(out["eventsProcessed"], 5 + calls_on_b, "{out}");
    assert_eq!(out["tasksCompleted"], 2);
    assert!(out["averageLatency"].as_f64().unwrap() > 0.0);
    shutdown(a).await;
    b.stop().await;
}

#[tokio::test]
async fn when_the_leader_stops_another_server_leads_within_one_lease_with_a_higher_term() {
    let mut base = options();
    base.background_jobs = true;
    // Lease = failure timeout clamped to 1-30 s (`leader_lease_ms`). Followers retry every
    // lease/3, so a released lease is taken within about a second; a 3 s lease leaves the loaded
    // CI machine two seconds of scheduling delay before the promise below is broken.
    base.coordination.failure_timeout_ms = 3_000;
    let lease = Duration::from_millis(3_000);
    let mut apps = cluster(3, base).await;
    let mut con = apps[0].redis();
    let leader = apps[0].domain().coord.leader.clone();

    let wait_for_leader = |not: Option<String>| {
        let leader = leader.clone();
        let mut con = con.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Some(l) = leader.current(&mut con).await.unwrap()
                    && Some(&l.id) != not.as_ref()
                {
                    return l;
                }
                assert!(Instant::now() < deadline, "no new leader");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };

    let mut current = wait_for_leader(None).await;
    let mut terms = vec![current.term];
    // Dashboards see who leads.
    let state = apps[0].ok("system.get_state", json!({})).await;
    let flagged: Vec<&str> = state["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["isLeader"] == true)
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, [current.id.as_str()]);

    for _ in 0..2 {
        let at = apps.iter().position(|t| t.services().instance_id == current.id).expect("a server leads");
        let stopped = Instant::now();
        shutdown(apps.remove(at)).await;
        let next = wait_for_leader(Some(current.id.clone())).await;
        let took = stopped.elapsed();
        assert!(took <= lease, "took {took:?} (lease {lease:?})");
        assert!(apps.iter().any(|t| t.services().instance_id == next.id));
        terms.push(next.term);
        current = next;
    }
    assert!(terms.windows(2).all(|w| w[0] < w[1]), "terms strictly increase: {terms:?}");

    let survivors: HashSet<&str> = apps.iter().map(|t| t.services().instance_id.as_str()).collect();
    assert!(survivors.contains(leader.current(&mut con).await.unwrap().unwrap().id.as_str()));
    stop_all(apps).await;
}
