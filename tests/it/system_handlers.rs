//! The `system` events through the whole pipeline, one app against the real Redis.

use std::time::Duration;

use claudebench_generated::error::ErrorCode;
use serde_json::{Value, json};

use crate::support::{TestApp, options};

// --- task helpers ---------------------------------------------------------------------------
//
// The cluster scenarios need tasks; they go through the task events like any client.

pub async fn create_task(t: &TestApp, text: &str, priority: u8) -> String {
    let v = t.ok("task.create", json!({"text": text, "priority": priority})).await;
    v["id"].as_str().expect("task id").to_string()
}

/// Claims up to `max` tasks for `worker`; returns their ids.
pub async fn claim(t: &TestApp, worker: &str, max: usize) -> Vec<String> {
    let v = t.ok("task.claim", json!({"workerId": worker, "maxTasks": max})).await;
    v["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
}

pub async fn assign(t: &TestApp, task: &str, instance: &str) {
    t.ok("task.assign", json!({"taskId": task, "instanceId": instance})).await;
}

pub async fn complete(t: &TestApp, task: &str, worker: &str) {
    let v = t.ok("task.complete", json!({"id": task, "workerId": worker, "result": {"ok": true}})).await;
    assert_eq!(v["status"], "completed");
}

/// The task as stored (status, assignee), read from the coordination core.
pub async fn task(t: &TestApp, id: &str) -> Value {
    let mut con = t.redis();
    serde_json::to_value(t.domain().coord.tasks.get(&mut con, id).await.unwrap()).unwrap()
}

/// Every entry of one event stream, oldest first: the payloads.
pub async fn stream(t: &TestApp, event: &str) -> Vec<Value> {
    t.stream(event).await.into_iter().map(|(_, payload)| payload).collect()
}

fn with_failure_timeout(ms: u64) -> claudebench_domain::node::NodeOptions {
    let mut o = options();
    o.coordination.failure_timeout_ms = ms;
    o
}

// --- register / heartbeat / unregister ----------------------------------------------------------

#[tokio::test]
async fn register_answers_registered_with_its_beat_interval_and_records_roles_liveness_and_an_event() {
    // 9 s failure timeout: the instance is told to beat every 3 s, so two lost beats are survived.
    let t = TestApp::start_with(with_failure_timeout(9_000)).await;
    let out = t.ok("system.register", json!({"id": "worker-1", "roles": ["worker", "supervisor"]})).await;
    assert_eq!(out, json!({"registered": true, "heartbeatIntervalMs": 3_000}));

    let mut con = t.redis();
    let rec = t.domain().coord.instances.get(&mut con, "worker-1").await.unwrap().expect("record");
    assert_eq!(rec.roles, ["worker", "supervisor"]);
    assert_eq!(rec.status, "ACTIVE");
    assert_eq!(t.domain().coord.instances.with_role(&mut con, "worker").await.unwrap(), ["worker-1"]);
    // The record outlives the failure timeout, so a dead instance is detected before it vanishes.
    let pttl: i64 = redis::cmd("PTTL").arg(t.services().keys.instance("worker-1")).query_async(&mut con).await.unwrap();
    let config = t.domain().coord.instances.config().clone();
    assert!(pttl > config.failure_timeout_ms as i64 && pttl <= config.effective_record_ttl_ms() as i64, "{pttl}");

    let events = stream(&t, "instance.registered").await;
    let last = events.last().unwrap();
    assert_eq!((last["id"].as_str(), last["roles"].clone()), (Some("worker-1"), json!(["worker", "supervisor"])));
    t.stop().await;
}

#[tokio::test]
async fn re_registering_replaces_the_roles_and_is_never_answered_from_a_cache() {
    let t = TestApp::start().await;
    t.ok("system.register", json!({"id": "w", "roles": ["worker"]})).await;
    t.ok("system.register", json!({"id": "w", "roles": ["supervisor"]})).await;
    let mut con = t.redis();
    let i = &t.domain().coord.instances;
    assert_eq!(i.get(&mut con, "w").await.unwrap().unwrap().roles, ["supervisor"]);
    assert!(i.with_role(&mut con, "worker").await.unwrap().is_empty(), "the dropped role no longer lists it");
    // Roles default to none.
    t.ok("system.register", json!({"id": "w"})).await;
    assert!(i.get(&mut con, "w").await.unwrap().unwrap().roles.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn register_rejects_malformed_ids_and_roles() {
    let t = TestApp::start().await;
    for bad in [
        json!({"id": ""}),
        json!({"id": 123}),
        json!({"id": "w", "roles": "worker"}),
        json!({"id": "w", "roles": [123]}),
        json!({"id": "w", "roles": [""]}),
    ] {
        let e = t.call("system.register", bad.clone()).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation, "{bad}");
    }
    t.stop().await;
}

#[tokio::test]
async fn heartbeat_refreshes_last_seen_every_time_and_refuses_unknown_instances() {
    let t = TestApp::start().await;
    assert_eq!(t.ok("system.heartbeat", json!({"instanceId": "nobody"})).await, json!({"alive": false}));
    t.ok("system.register", json!({"id": "w", "roles": []})).await;
    let mut con = t.redis();
    let mut last = 0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(15)).await;
        assert_eq!(t.ok("system.heartbeat", json!({"instanceId": "w"})).await, json!({"alive": true}));
        let seen = t.domain().coord.instances.get(&mut con, "w").await.unwrap().unwrap().last_seen;
        assert!(seen > last, "every beat moves lastSeen (never a cached answer)");
        last = seen;
    }
    let pttl: i64 = redis::cmd("PTTL").arg(t.services().keys.instance("w")).query_async(&mut con).await.unwrap();
    assert!(pttl > t.domain().coord.instances.config().failure_timeout_ms as i64);
    t.stop().await;
}

#[tokio::test]
async fn an_instance_declared_failed_must_register_again() {
    let t = TestApp::start().await;
    t.ok("system.register", json!({"id": "w", "roles": ["worker"]})).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    let out = t.ok("system.check_health", json!({"timeout": 30})).await;
    assert!(out["failed"].as_array().unwrap().contains(&json!("w")));
    assert_eq!(t.ok("system.heartbeat", json!({"instanceId": "w"})).await, json!({"alive": false}));
    t.ok("system.register", json!({"id": "w", "roles": ["worker"]})).await;
    assert_eq!(t.ok("system.heartbeat", json!({"instanceId": "w"})).await, json!({"alive": true}));
    t.stop().await;
}

#[tokio::test]
async fn the_first_instance_to_register_without_a_leader_leads_until_it_unregisters() {
    // No background jobs: the server itself is not campaigning.
    let t = TestApp::start().await;
    let mut con = t.redis();
    let leader = &t.domain().coord.leader;
    assert!(leader.current(&mut con).await.unwrap().is_none());
    t.ok("system.register", json!({"id": "first", "roles": []})).await;
    t.ok("system.register", json!({"id": "second", "roles": []})).await;
    let l = leader.current(&mut con).await.unwrap().expect("a leader");
    assert_eq!(l.id, "first");

    // The leader's heartbeat renews its lease (same term, later expiry).
    tokio::time::sleep(Duration::from_millis(20)).await;
    t.ok("system.heartbeat", json!({"instanceId": "first"})).await;
    let renewed = leader.current(&mut con).await.unwrap().unwrap();
    assert_eq!((renewed.id.as_str(), renewed.term), ("first", l.term));
    assert!(renewed.expires_at_ms > l.expires_at_ms);
    // get_state shows who leads.
    let state = t.ok("system.get_state", json!({})).await;
    let leaders: Vec<&str> = state["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["isLeader"] == true)
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(leaders, ["first"]);
    // ... and the leader's lease itself, as `LeaderLease::current` has it.
    let now = leader.current(&mut con).await.unwrap().unwrap();
    assert_eq!(
        (state["leader"]["id"].as_str(), state["leader"]["term"].as_u64()),
        (Some(now.id.as_str()), Some(now.term))
    );
    assert!(state["leader"]["expiresAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{state}");

    // A follower unregistering leaves the lease alone; the leader unregistering frees it.
    t.ok("system.unregister", json!({"id": "second"})).await;
    assert_eq!(leader.current(&mut con).await.unwrap().unwrap().id, "first");
    t.ok("system.unregister", json!({"id": "first"})).await;
    assert!(leader.current(&mut con).await.unwrap().is_none());
    assert_eq!(t.ok("system.get_state", json!({})).await["leader"], Value::Null);
    t.stop().await;
}

#[tokio::test]
async fn unregister_releases_queued_and_in_progress_tasks_and_reports_unknown_instances() {
    let t = TestApp::start().await;
    assert_eq!(
        t.ok("system.unregister", json!({"id": "ghost"})).await,
        json!({"unregistered": false, "tasksReleased": 0})
    );

    t.ok("system.register", json!({"id": "w", "roles": []})).await;
    let a = create_task(&t, "claimed one", 50).await;
    let b = create_task(&t, "reserved one", 50).await;
    assert_eq!(claim(&t, "w", 1).await, std::slice::from_ref(&a));
    assert_eq!(task(&t, &a).await["status"], "in_progress");
    assign(&t, &b, "w").await;

    let out = t.ok("system.unregister", json!({"id": "w"})).await;
    assert_eq!(out, json!({"unregistered": true, "tasksReleased": 2}));
    for id in [&a, &b] {
        let task = task(&t, id).await;
        assert_eq!((task["status"].as_str(), &task["assignedTo"]), (Some("pending"), &Value::Null), "{id}");
    }
    assert_eq!(stream(&t, "instance.unregistered").await.len(), 1);
    assert_eq!(t.ok("system.heartbeat", json!({"instanceId": "w"})).await, json!({"alive": false}));
    t.stop().await;
}

#[tokio::test]
async fn a_worker_registering_is_offered_pending_tasks_at_once() {
    let t = TestApp::start().await;
    let ids = [create_task(&t, "one", 10).await, create_task(&t, "two", 90).await];
    t.ok("system.register", json!({"id": "not-a-worker", "roles": ["supervisor"]})).await;
    assert!(task(&t, &ids[0]).await["assignedTo"].is_null(), "only workers receive tasks");
    t.ok("system.register", json!({"id": "w", "roles": ["worker"]})).await;
    for id in &ids {
        let task = task(&t, id).await;
        assert_eq!((task["assignedTo"].as_str(), task["status"].as_str()), (Some("w"), Some("pending")), "{id}");
    }
    // Reserved for it: the worker's claim takes them, best priority first.
    assert_eq!(claim(&t, "w", 2).await, [ids[1].clone(), ids[0].clone()]);
    t.stop().await;
}

// --- health -------------------------------------------------------------------------------------

#[tokio::test]
async fn health_is_healthy_when_every_instance_beats_and_probes_redis_for_real() {
    let t = TestApp::start().await;
    // The server registered itself at start and has just been seen.
    let out = t.ok("system.health", json!({})).await;
    // `mcp` is a process-wide flag another test raises concurrently; it has its own test.
    assert_eq!(
        (out["status"].as_str(), &out["services"]["redis"], &out["services"]["postgres"]),
        (Some("healthy"), &json!(true), &json!(false)),
        "{out}"
    );
    t.stop().await;
}

#[tokio::test]
async fn health_probes_the_configured_sql_store_and_degrades_when_it_stops_answering() {
    let mut o = options();
    o.persist = true;
    let dir = std::env::temp_dir().join(format!("cb-health-{}", o.runtime.key_prefix));
    o.runtime.data_dir = dir.clone();
    let t = TestApp::start_with(o).await;
    let out = t.ok("system.health", json!({})).await;
    assert_eq!((out["status"].as_str(), out["services"]["postgres"].as_bool()), (Some("healthy"), Some(true)));

    t.services().store.as_ref().unwrap().close().await;
    // Past the 5 s answer cache of system.health.
    let mut con = t.redis();
    let _: () = redis::cmd("DEL").arg(cache_keys(&t, "system.health").await).query_async(&mut con).await.unwrap();
    let out = t.ok("system.health", json!({})).await;
    assert_eq!((&out["services"]["redis"], &out["services"]["postgres"]), (&json!(true), &json!(false)));
    assert_eq!(out["status"], "degraded");
    t.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The cached answers of one event (test-only KEYS on a private prefix).
async fn cache_keys(t: &TestApp, event: &str) -> Vec<String> {
    let mut con = t.redis();
    let pattern = t.services().keys.cache(event, "*");
    redis::cmd("KEYS").arg(pattern).query_async(&mut con).await.unwrap()
}

#[tokio::test]
async fn health_reports_the_mcp_endpoint_while_it_serves() {
    // Served over HTTP: up while the router that mounts `/mcp` is served.
    let server = crate::server::TestServer::start().await;
    let (status, out) = crate::server::post(&format!("{}/system/health", server.url), "{}").await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["services"]["mcp"], true);
    server.stop().await;

    // A node nobody serves over MCP says so, whatever other servers of this process do.
    let t = TestApp::start().await;
    assert_eq!(t.ok("system.health", json!({})).await["services"]["mcp"], false);
    t.stop().await;

    // Served over a byte stream, as over stdio. (Health answers are cached for 5 s, so each
    // node is asked once; that the flag drops with the last guard is the runtime's unit test.)
    let t = TestApp::start().await;
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let (read, write) = tokio::io::split(server_io);
    let serving = tokio::spawn(claudebench_runtime::transport::serve_mcp_io(t.pipeline(), read, write));
    let client = rmcp::ServiceExt::serve((), tokio::io::split(client_io)).await.expect("MCP handshake");
    assert_eq!(t.ok("system.health", json!({})).await["services"]["mcp"], true);
    client.cancel().await.expect("the client leaves");
    tokio::time::timeout(std::time::Duration::from_secs(5), serving).await.expect("the server stops").ok();
    t.stop().await;
}

#[tokio::test]
async fn health_is_degraded_with_no_instance_and_when_half_the_instances_are_late() {
    let t = TestApp::start().await;
    let own = t.services().instance_id.clone();
    t.ok("system.unregister", json!({"id": own})).await;
    assert_eq!(t.ok("system.health", json!({})).await["status"], "degraded", "no instance registered");
    t.stop().await;

    // Heartbeat timeout 1 s: after 1.3 s, instances that did not beat are degraded (< 2 s).
    let t = TestApp::start_with(with_failure_timeout(1_000)).await;
    for w in ["w1", "w2", "w3"] {
        t.ok("system.register", json!({"id": w})).await;
    }
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    for w in ["w1", "w2"] {
        t.ok("system.heartbeat", json!({"instanceId": w})).await;
    }
    let out = t.ok("system.health", json!({})).await;
    assert_eq!(out["status"], "degraded", "2 healthy + 2 degraded of 4: {out}");
    let state = t.ok("system.get_state", json!({})).await;
    let health =
        |id: &str| state["instances"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()["health"].clone();
    assert_eq!((health("w1"), health("w3")), (json!("healthy"), json!("degraded")));
    t.stop().await;
}

#[tokio::test]
async fn health_is_unhealthy_when_most_instances_went_silent() {
    let t = TestApp::start_with(with_failure_timeout(200)).await;
    for w in ["w1", "w2", "w3"] {
        t.ok("system.register", json!({"id": w})).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    t.ok("system.heartbeat", json!({"instanceId": "w1"})).await;
    // 1 healthy of 4 (the server's own registration went silent too: no background jobs).
    assert_eq!(t.ok("system.health", json!({})).await["status"], "unhealthy");
    t.stop().await;
}

// --- check_health -------------------------------------------------------------------------------

#[tokio::test]
async fn check_health_fails_silent_instances_once_and_hands_their_tasks_to_live_workers() {
    let t = TestApp::start().await;
    let own = t.services().instance_id.clone();
    let ids = [create_task(&t, "a", 50).await, create_task(&t, "b", 50).await, create_task(&t, "c", 50).await];
    t.ok("system.register", json!({"id": "dead", "roles": ["worker"]})).await;
    // The dead worker got all three at registration; it claims two, the third stays reserved.
    assert_eq!(claim(&t, "dead", 2).await.len(), 2);
    t.ok("system.register", json!({"id": "live", "roles": ["worker"]})).await;
    // Margins of a second on both sides: a stall of the loaded CI machine between the
    // heartbeats and the sweeps must not make the live instances look silent.
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    for id in ["live", own.as_str()] {
        t.ok("system.heartbeat", json!({"instanceId": id})).await;
    }

    let out = t.ok("system.check_health", json!({"timeout": 1_000})).await;
    assert_eq!(out["failed"], json!(["dead"]));
    assert_eq!(out["reassigned"], json!({"dead": 3}));
    let mut healthy: Vec<String> = serde_json::from_value(out["healthy"].clone()).unwrap();
    healthy.sort();
    let mut expected = vec!["live".to_string(), own.clone()];
    expected.sort();
    assert_eq!(healthy, expected);
    for id in &ids {
        let task = task(&t, id).await;
        assert_eq!((task["assignedTo"].as_str(), task["status"].as_str()), (Some("live"), Some("pending")), "{id}");
    }
    let failed = stream(&t, "instance.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0]["id"].as_str(), failed[0]["tasksReassigned"].as_u64()), (Some("dead"), Some(3)));

    // get_state keeps showing the failure and what it re-queued after the bus moved on.
    for i in 0..12 {
        create_task(&t, &format!("later {i}"), 10).await;
    }
    let state = t.ok("system.get_state", json!({})).await;
    assert!(state["recentEvents"].as_array().unwrap().iter().all(|e| e["type"] != "instance.failed"), "{state}");
    let failures = state["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{state}");
    assert_eq!(
        (failures[0]["type"].as_str(), failures[0]["payload"]["id"].as_str()),
        (Some("instance.failed"), Some("dead"))
    );
    let mut requeued: Vec<String> = serde_json::from_value(failures[0]["payload"]["requeued"].clone()).unwrap();
    requeued.sort();
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(requeued, expected);

    // Repeating the sweep finds nothing new; the failure stays listed.
    let again = t.ok("system.check_health", json!({"timeout": 1_000})).await;
    assert_eq!((again["failed"].clone(), again["reassigned"].clone()), (json!(["dead"]), json!({})));
    assert_eq!(stream(&t, "instance.failed").await.len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn check_health_rejects_a_timeout_out_of_range() {
    let t = TestApp::start().await;
    for bad in [json!({"timeout": 0}), json!({"timeout": 3_600_001}), json!({"timeout": 1.5})] {
        assert_eq!(t.call("system.check_health", bad.clone()).await.unwrap_err().code, ErrorCode::Validation, "{bad}");
    }
    // The default (10 s) leaves a fresh instance alone.
    assert_eq!(t.ok("system.check_health", json!({})).await["failed"], json!([]));
    t.stop().await;
}

// --- get_state ----------------------------------------------------------------------------------

#[tokio::test]
async fn get_state_always_has_its_lists() {
    let t = TestApp::start().await;
    let own = t.services().instance_id.clone();
    let out = t.ok("system.get_state", json!({})).await;
    assert_eq!((out["tasks"].clone(), out["failures"].clone()), (json!([]), json!([])));
    // No instance campaigns here (no background jobs, nobody registered): no leader, and the
    // key is there all the same.
    assert_eq!(out.get("leader"), Some(&Value::Null));
    let instances = out["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!((instances[0]["id"].as_str(), instances[0]["roles"].clone()), (Some(own.as_str()), json!(["server"])));
    assert_eq!(instances[0]["health"], "healthy");
    // The server's own registration is the one event so far.
    let events = out["recentEvents"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0]["type"].as_str(), events[0]["payload"]["id"].as_str()),
        (Some("instance.registered"), Some(own.as_str()))
    );
    t.stop().await;
}

/// Every notification an event's spec `publishes` shows among the recent events, so a new
/// notification needs no list in the handler (hook notifications were missed while the list
/// came from scraping descriptions for "Publishes").
#[tokio::test]
async fn get_state_shows_what_every_event_publishes() {
    let t = TestApp::start().await;
    t.ok("hook.notification", json!({"sessionId": "get-state-session", "message": "waiting"})).await;
    t.ok("hook.user_prompt", json!({"sessionId": "get-state-session", "prompt": "hello", "context": {}})).await;
    t.ok("system.register", json!({"id": "w"})).await;
    let out = t.ok("system.get_state", json!({})).await;
    let seen: Vec<&str> = out["recentEvents"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    for expected in ["hook.notification.received", "hook.user_prompt.executed", "instance.registered"] {
        assert!(seen.contains(&expected), "{expected} missing from {seen:?}");
    }
    t.stop().await;
}

#[tokio::test]
async fn get_state_shows_the_ten_most_recently_changed_tasks_and_the_newest_events() {
    let t = TestApp::start().await;
    t.ok("system.register", json!({"id": "w"})).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(create_task(&t, &format!("task {i}"), 50).await);
        // Distinct updatedAt milliseconds, so "most recent" is unambiguous.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // The oldest task changes last: it must come first.
    assign(&t, &ids[0], "w").await;

    let out = t.ok("system.get_state", json!({})).await;
    let shown: Vec<&str> = out["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    let mut expected = vec![ids[0].as_str()];
    expected.extend(ids[3..].iter().rev().map(String::as_str));
    assert_eq!(shown, expected);
    assert_eq!(out["tasks"][0]["assignedTo"], "w");

    let events = out["recentEvents"].as_array().unwrap();
    assert_eq!(events.len(), 10);
    assert_eq!(events[0]["type"], "task.assigned");
    assert_eq!(
        (events[1]["type"].as_str(), events[1]["payload"]["id"].as_str()),
        (Some("task.created"), Some(ids[11].as_str()))
    );
    assert_eq!(events[1]["timestamp"].as_str().unwrap().len(), "2025-09-15T10:00:00.000Z".len());
    let order: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|id| {
        let (ms, seq) = id.split_once('-').unwrap();
        std::cmp::Reverse((ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap()))
    });
    assert_eq!(order, sorted, "newest first");
    t.stop().await;
}

#[tokio::test]
async fn get_state_forgets_deleted_tasks() {
    let t = TestApp::start().await;
    let keep = create_task(&t, "keep", 50).await;
    let gone = create_task(&t, "gone", 50).await;
    let mut con = t.redis();
    t.domain().coord.tasks.delete(&mut con, &gone).await.unwrap();
    let out = t.ok("system.get_state", json!({})).await;
    let shown: Vec<&str> = out["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(shown, [keep.as_str()]);
    t.stop().await;
}

// --- metrics ------------------------------------------------------------------------------------

#[tokio::test]
async fn metrics_count_the_events_served_and_their_mean_latency() {
    let t = TestApp::start().await;
    let first = t.ok("system.metrics", json!({})).await;
    assert_eq!((first["eventsProcessed"].as_i64(), first["tasksCompleted"].as_i64()), (Some(0), Some(0)));
    assert_eq!(first["averageLatency"], 0.0);
    let mem = first["memoryUsage"].as_f64().expect("measured on Linux");
    assert!(mem > 0.0 && mem < 10_000.0, "{mem}");

    for _ in 0..5 {
        t.ok("system.heartbeat", json!({"instanceId": "nobody"})).await;
    }
    let out = t.ok("system.metrics", json!({})).await;
    // Five heartbeats and the first metrics call, all counted without waiting for a flush.
    assert_eq!(out["eventsProcessed"], 6);
    assert!(out["averageLatency"].as_f64().unwrap() > 0.0);

    // The shared counters are what is reported: another process's counts show up too.
    let mut con = t.redis();
    let key = t.services().keys.counters();
    let _: () = redis::pipe()
        .hincr(&key, "eventsProcessed", 4)
        .hincr(&key, "latencyMicros", 0)
        .hincr(&key, "tasksCompleted", 3)
        .query_async(&mut con)
        .await
        .unwrap();
    let out = t.ok("system.metrics", json!({})).await;
    assert_eq!((out["eventsProcessed"].as_i64(), out["tasksCompleted"].as_i64()), (Some(11), Some(3)));
    t.stop().await;
}

// --- quorum -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_quorum_counts_one_vote_per_instance_and_fixes_the_decision() {
    let t = TestApp::start().await;
    let vote = |who: &str, value: &str| json!({"instanceId": who, "decision": "deploy-1.4.2", "value": value, "totalInstances": 3});
    assert_eq!(
        t.ok("system.quorum_vote", vote("w1", "approve")).await,
        json!({"voted": true, "quorumReached": false, "voteCount": 1})
    );
    // The same instance again, then changing its mind: still one vote.
    assert_eq!(t.ok("system.quorum_vote", vote("w1", "approve")).await["voteCount"], 1);
    assert_eq!(t.ok("system.quorum_vote", vote("w1", "reject")).await["voteCount"], 1);
    let decided = t.ok("system.quorum_vote", vote("w2", "reject")).await;
    assert_eq!(decided, json!({"voted": true, "quorumReached": true, "finalDecision": "reject", "voteCount": 2}));
    // Final: later votes are not recorded and change nothing.
    let late = t.ok("system.quorum_vote", vote("w3", "approve")).await;
    assert_eq!(late, json!({"voted": false, "quorumReached": true, "finalDecision": "reject", "voteCount": 2}));
    let made = stream(&t, "quorum.decision.made").await;
    assert_eq!(made.len(), 1);
    assert_eq!((made[0]["decision"].as_str(), made[0]["value"].as_str()), (Some("deploy-1.4.2"), Some("reject")));

    // Another decision is tallied separately.
    let other = t
        .ok(
            "system.quorum_vote",
            json!({"instanceId": "w1", "decision": "rollback", "value": "yes", "totalInstances": 3}),
        )
        .await;
    assert_eq!(other, json!({"voted": true, "quorumReached": false, "voteCount": 1}));
    t.stop().await;
}

#[tokio::test]
async fn without_a_total_the_quorum_is_a_majority_of_the_registered_instances() {
    let t = TestApp::start().await;
    // The server plus four: five registered, quorum three.
    for w in ["w1", "w2", "w3", "w4"] {
        t.ok("system.register", json!({"id": w})).await;
    }
    let vote = |who: &str| json!({"instanceId": who, "decision": "d", "value": "v"});
    assert_eq!(t.ok("system.quorum_vote", vote("w1")).await["quorumReached"], false);
    assert_eq!(t.ok("system.quorum_vote", vote("w2")).await["quorumReached"], false);
    assert_eq!(t.ok("system.quorum_vote", vote("w3")).await["quorumReached"], true);
    t.stop().await;
}

// --- batch --------------------------------------------------------------------------------------

#[tokio::test]
async fn a_batch_is_processed_once_and_its_lock_released() {
    let t = TestApp::start().await;
    let items: Vec<Value> = (0..25).map(|i| json!({"n": i})).collect();
    let out = t.ok("system.batch_process", json!({"batchId": "b-1", "instanceId": "w1", "items": items})).await;
    assert_eq!(out, json!({"processed": true, "processorId": "w1", "itemsProcessed": 25}));
    let mut con = t.redis();
    let (status, progress) = t.domain().coord.batches.status(&mut con, "b-1").await.unwrap().unwrap();
    assert_eq!((status.as_str(), progress.processed, progress.total), ("completed", 25, 25));
    let owner: String =
        redis::cmd("HGET").arg(t.services().keys.batch("b-1")).arg("owner").query_async(&mut con).await.unwrap();
    assert_eq!(owner, "", "the lock is released");
    let done = stream(&t, "batch.completed").await;
    assert_eq!((done.len(), done[0]["itemsProcessed"].as_u64()), (1, Some(25)));

    // Asking again does not process it twice; the answer names who did.
    let again = t.ok("system.batch_process", json!({"batchId": "b-1", "instanceId": "w2", "items": [1]})).await;
    assert_eq!(again, json!({"processed": false, "processorId": "w1", "itemsProcessed": 25}));
    // Another batch is independent; an empty one completes at once.
    let other = t.ok("system.batch_process", json!({"batchId": "b-2", "instanceId": "w2", "items": []})).await;
    assert_eq!(other, json!({"processed": true, "processorId": "w2", "itemsProcessed": 0}));
    t.stop().await;
}

#[tokio::test]
async fn a_batch_held_by_another_processor_is_refused_with_its_holder_and_progress_then_resumed() {
    let t = TestApp::start().await;
    let batches = &t.domain().coord.batches;
    let mut con = t.redis();
    // Another processor is mid-way through.
    batches.acquire(&mut con, "b", "other", 20, 10_000).await.unwrap();
    batches.progress(&mut con, "b", "other", 7, 10_000).await.unwrap();
    let items: Vec<Value> = (0..20).map(Value::from).collect();
    let refused = t.ok("system.batch_process", json!({"batchId": "b", "instanceId": "me", "items": items})).await;
    assert_eq!(refused, json!({"processed": false, "processorId": "other", "itemsProcessed": 7}));

    // It gives up; the next caller takes over and finishes the batch.
    batches.release(&mut con, "b", "other", 7).await.unwrap();
    let out = t.ok("system.batch_process", json!({"batchId": "b", "instanceId": "me", "items": items})).await;
    assert_eq!(out, json!({"processed": true, "processorId": "me", "itemsProcessed": 20}));
    t.stop().await;
}

#[tokio::test]
async fn concurrent_callers_of_one_batch_get_exactly_one_processor() {
    let t = TestApp::start().await;
    let items: Vec<Value> = (0..1000).map(Value::from).collect();
    let call = |i: usize| {
        t.ok("system.batch_process", json!({"batchId": "race", "instanceId": format!("w{i}"), "items": items}))
    };
    let (a, b, c, d) = tokio::join!(call(0), call(1), call(2), call(3));
    let outs = [a, b, c, d];
    let winners: Vec<&Value> = outs.iter().filter(|o| o["processed"] == true).collect();
    assert_eq!(winners.len(), 1, "{outs:?}");
    let winner = winners[0]["processorId"].clone();
    for o in outs.iter().filter(|o| o["processed"] == false) {
        assert_eq!(o["processorId"], winner, "the loser names the holder: {o}");
        assert!(o["itemsProcessed"].as_u64().unwrap() <= 1000);
    }
    t.stop().await;
}

// --- discover -----------------------------------------------------------------------------------

#[tokio::test]
async fn discover_lists_every_event_sorted_with_parsed_schemas() {
    let t = TestApp::start().await;
    let out = t.ok("system.discover", json!({})).await;
    let events = out["events"].as_array().unwrap();
    assert_eq!(events.len(), t.services().events.len());
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for e in events {
        assert_eq!(e["inputSchema"]["type"], "object", "{}", e["name"]);
        assert_eq!(e["outputSchema"]["type"], "object", "{}", e["name"]);
    }
    t.stop().await;
}

#[tokio::test]
async fn discover_filters_by_domain_and_by_name_or_alias() {
    let t = TestApp::start().await;
    let system = t.ok("system.discover", json!({"domain": "system"})).await;
    let names: Vec<&str> = system["events"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 10);
    assert!(names.iter().all(|n| n.starts_with("system.")));

    let by_alias = t.ok("system.discover", json!({"name": "system.batch.process"})).await;
    assert_eq!(by_alias["events"][0]["name"], "system.batch_process");
    assert_eq!(by_alias["events"][0]["aliases"], json!(["system.batch.process"]));

    let get = t.ok("system.discover", json!({"name": "task.get"})).await;
    let d = &get["events"][0];
    assert_eq!(get["events"].as_array().unwrap().len(), 1);
    assert_eq!(d["inputSchema"]["required"], json!(["id"]));
    assert_eq!((d["httpPath"].as_str(), d["mcpTool"].as_str()), (Some("/task/get"), Some("task__get")));
    assert_eq!(d["rateLimit"], json!({"count": 6000, "windowMs": 60000}));
    assert_eq!(d["mcpAnnotations"]["readOnly"], true);
    assert_eq!(
        (d["persist"].as_bool(), d["mutates"].as_bool(), d["deprecated"].as_bool()),
        (Some(false), Some(false), Some(false))
    );

    let none = t.ok("system.discover", json!({"domain": "task", "name": "system.health"})).await;
    assert_eq!(none["events"], json!([]));
    t.stop().await;
}
