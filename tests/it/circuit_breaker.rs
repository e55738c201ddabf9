//! The resilience stages of the pipeline, end to end against the real Redis: the circuit
//! breaker (driven by `test.circuit`, whose spec sets threshold 5, open for 1 s, 3 half-open
//! probes, a fallback answer and a 1 s timeout), handler deadlines, and per-caller rate limits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use claudebench_generated::error::Error;
use claudebench_runtime::context::{RequestMeta, Transport};
use serde_json::{Value, json};

use crate::support::{TestApp, options};

const EVENT: &str = "test.circuit";
/// `open_ms` of test.circuit, plus a margin for a loaded machine.
const OPEN_WAIT: Duration = Duration::from_millis(1150);

fn fail() -> Value {
    json!({"shouldFail": true, "failureMessage": "Simulated failure"})
}

fn is_fallback(v: &Value) -> bool {
    v["success"] == false && v["message"].as_str().is_some_and(|m| m.contains("fallback"))
}

/// The circuit's state as stored in Redis (the state every instance shares).
async fn stored_state(t: &TestApp, event: &str) -> String {
    let state: Option<String> = redis::cmd("HGET")
        .arg(t.services().keys.circuit(event))
        .arg("state")
        .query_async(&mut t.redis())
        .await
        .expect("HGET");
    state.unwrap_or_else(|| "closed".to_string())
}

async fn open_the_circuit(t: &TestApp) {
    for i in 0..5 {
        let err = t.call(EVENT, fail()).await.expect_err("a failing call fails");
        assert_eq!(err.code.as_str(), "internal", "failure {i} reaches the handler");
        assert_eq!(err.message, "Simulated failure");
    }
    assert_eq!(stored_state(t, EVENT).await, "open");
}

/// Marks `event`'s circuit open in Redis, as another instance tripping it would, before this
/// process has looked at it (its first call then reads the shared state).
async fn force_open(t: &TestApp, event: &str) {
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut t.redis()).await.expect("TIME");
    let now_ms = secs * 1000 + micros / 1000;
    let _: () = redis::cmd("HSET")
        .arg(t.services().keys.circuit(event))
        .arg(&["state", "open", "failures", "5", "opened_at", &now_ms.to_string(), "version", "1"])
        .query_async(&mut t.redis())
        .await
        .expect("HSET");
}

fn code(result: Result<Value, Error>) -> String {
    match result {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e.code.as_str().to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// test.circuit itself

#[tokio::test]
async fn test_circuit_succeeds_or_fails_with_the_requested_message() {
    let t = TestApp::start().await;
    assert_eq!(t.ok(EVENT, json!({})).await, json!({"success": true, "message": "Operation succeeded"}));
    let err = t.call(EVENT, json!({"shouldFail": true, "failureMessage": "disk on fire"})).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.message.as_str()), ("internal", "disk on fire"));
    let err = t.call(EVENT, json!({"shouldFail": true})).await.unwrap_err();
    assert_eq!(err.code.as_str(), "internal", "a failure without a message still fails");
    let started = Instant::now();
    assert_eq!(t.ok(EVENT, json!({"delay": 200})).await["success"], true);
    assert!(started.elapsed() >= Duration::from_millis(200), "the delay is waited");
    for bad in
        [json!({"delay": -1}), json!({"delay": 10001}), json!({"failureMessage": ""}), json!({"shouldFail": "yes"})]
    {
        assert_eq!(code(t.call(EVENT, bad.clone()).await), "validation", "{bad}");
    }
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Opening, half-open probes, closing

#[tokio::test]
async fn five_consecutive_failures_open_the_circuit_and_the_fallback_answers_without_running_the_handler() {
    let t = TestApp::start().await;
    open_the_circuit(&t).await;
    // A call that would take 5 s (and time out after 1 s) if the handler ran: the fallback
    // answers at once instead.
    let started = Instant::now();
    let answer = t.ok(EVENT, json!({"delay": 5000})).await;
    assert!(is_fallback(&answer), "{answer}");
    assert!(started.elapsed() < Duration::from_millis(500), "the handler ran: {:?}", started.elapsed());
    // Failing calls are not run either, so they do not extend the open period.
    assert!(is_fallback(&t.ok(EVENT, fail()).await));
    t.stop().await;
}

#[tokio::test]
async fn a_success_between_failures_resets_the_count() {
    let t = TestApp::start().await;
    for _ in 0..4 {
        t.call(EVENT, fail()).await.unwrap_err();
    }
    t.ok(EVENT, json!({})).await;
    for _ in 0..4 {
        t.call(EVENT, fail()).await.unwrap_err();
    }
    assert_eq!(stored_state(&t, EVENT).await, "closed", "only consecutive failures count");
    assert_eq!(t.ok(EVENT, json!({})).await["success"], true);
    t.stop().await;
}

#[tokio::test]
async fn after_open_ms_three_successful_probes_close_the_circuit() {
    let t = TestApp::start().await;
    open_the_circuit(&t).await;
    tokio::time::sleep(OPEN_WAIT).await;
    for probe in 0..3 {
        let answer = t.ok(EVENT, json!({})).await;
        assert_eq!(answer["success"], true, "probe {probe} runs the handler: {answer}");
    }
    assert_eq!(stored_state(&t, EVENT).await, "closed");
    // Closed again means a fresh count: four failures do not re-open it.
    for _ in 0..4 {
        assert_eq!(code(t.call(EVENT, fail()).await), "internal");
    }
    assert_eq!(t.ok(EVENT, json!({})).await["success"], true);
    t.stop().await;
}

#[tokio::test]
async fn a_failing_half_open_probe_reopens_the_circuit() {
    let t = TestApp::start().await;
    open_the_circuit(&t).await;
    tokio::time::sleep(OPEN_WAIT).await;
    assert_eq!(code(t.call(EVENT, fail()).await), "internal", "the probe ran the handler");
    assert_eq!(stored_state(&t, EVENT).await, "open");
    assert!(is_fallback(&t.ok(EVENT, json!({})).await), "re-opened: the fallback answers again");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_half_open_at_most_three_probes_run_at_once() {
    let t = Arc::new(TestApp::start().await);
    open_the_circuit(&t).await;
    tokio::time::sleep(OPEN_WAIT).await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let t = t.clone();
        // Slow enough that all six are in flight together.
        calls.spawn(async move { t.ok(EVENT, json!({"delay": 300})).await });
    }
    let answers = calls.join_all().await;
    let ran = answers.iter().filter(|a| a["success"] == true).count();
    let refused = answers.iter().filter(|a| is_fallback(a)).count();
    assert_eq!((ran, refused), (3, 3), "{answers:?}");
    assert_eq!(stored_state(&t, EVENT).await, "closed", "three successful probes closed it");
    Arc::try_unwrap(t).unwrap_or_else(|_| panic!("a call still holds the app")).stop().await;
}

#[tokio::test]
async fn the_circuit_state_is_shared_by_two_instances_on_the_same_prefix() {
    let opts = options();
    let (a, b) = (TestApp::start_with(opts.clone()).await, TestApp::start_with(opts).await);
    // B has seen the circuit closed, so only the change feed can tell it otherwise.
    assert_eq!(b.ok(EVENT, json!({})).await["success"], true);
    open_the_circuit(&a).await;
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut answer = b.ok(EVENT, json!({})).await;
    while !is_fallback(&answer) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        answer = b.ok(EVENT, json!({})).await;
    }
    assert!(is_fallback(&answer), "B still runs the handler after A opened the circuit: {answer}");

    // B's probes close the circuit for A too.
    tokio::time::sleep(OPEN_WAIT).await;
    for _ in 0..3 {
        assert_eq!(b.ok(EVENT, json!({})).await["success"], true);
    }
    assert_eq!(stored_state(&a, EVENT).await, "closed");
    assert_eq!(a.ok(EVENT, json!({})).await["success"], true);
    b.stop().await;
    a.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Events whose fallback is an error, or a safe answer

#[tokio::test]
async fn an_open_circuit_without_a_fallback_answers_circuit_open_with_a_retry_delay() {
    let t = TestApp::start().await;
    force_open(&t, "task.create").await;
    let err = t.call("task.create", json!({"text": "never stored"})).await.unwrap_err();
    assert_eq!(err.code.as_str(), "circuit_open");
    let retry = err.retry_after_ms.expect("retryAfterMs");
    assert!(retry > 0 && retry <= 30_000, "{retry}");
    // No fake task: nothing was created (task.list has its own, closed circuit).
    assert_eq!(t.ok("task.list", json!({})).await["total"], 0);
    t.stop().await;
}

#[tokio::test]
async fn an_open_task_claim_circuit_answers_nothing_claimed_and_takes_no_task() {
    let t = TestApp::start().await;
    t.domain().coord.instances.register(&mut t.redis(), "w1", &["worker".to_string()]).await.unwrap();
    let task = t.ok("task.create", json!({"text": "wait for me"})).await;
    force_open(&t, "task.claim").await;
    assert_eq!(t.ok("task.claim", json!({"workerId": "w1"})).await, json!({"claimed": false, "tasks": []}));
    assert_eq!(t.ok("task.get", json!({"id": task["id"]})).await["status"], "pending");
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Deadlines

#[tokio::test]
async fn a_call_slower_than_the_timeout_returns_timeout_at_the_deadline() {
    let t = TestApp::start().await;
    let started = Instant::now();
    let err = t.call(EVENT, json!({"delay": 3000})).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code.as_str(), "timeout");
    // Answered at the 1 s deadline, not after the 3 s the handler asked for: the handler's
    // future is dropped there (the runtime's timeout unit test shows it never resumes).
    assert!(took >= Duration::from_millis(1000) && took < Duration::from_millis(2500), "{took:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_count_against_the_circuit() {
    let t = Arc::new(TestApp::start().await);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let t = t.clone();
        calls.spawn(async move { t.call(EVENT, json!({"delay": 2000})).await });
    }
    for result in calls.join_all().await {
        assert_eq!(code(result), "timeout");
    }
    assert_eq!(stored_state(&t, EVENT).await, "open");
    assert!(is_fallback(&t.ok(EVENT, json!({})).await));
    Arc::try_unwrap(t).unwrap_or_else(|_| panic!("a call still holds the app")).stop().await;
}

// ---------------------------------------------------------------------------------------------
// Rate limits

fn caller(id: &str) -> RequestMeta {
    let mut meta = RequestMeta::new(Transport::Http);
    meta.client_id = Some(id.to_string());
    meta
}

#[tokio::test]
async fn one_caller_over_the_limit_is_refused_with_retry_after_while_another_still_passes() {
    // The operator limits task.update to 20 calls per 60 s per caller; the window is shared by
    // every instance.
    let mut opts = options();
    let limit = claudebench_generated::event::RateLimit { count: 20, window_ms: 60_000 };
    opts.event_overrides.insert(
        "task.update".into(),
        claudebench_runtime::config::EventOverride {
            rate_limit: Some(claudebench_runtime::config::Setting::On(limit)),
            ..Default::default()
        },
    );
    let (a, b) = (TestApp::start_with(opts.clone()).await, TestApp::start_with(opts).await);
    let task = a.ok("task.create", json!({"text": "rate limited"})).await;
    let id = task["id"].clone();
    for n in 0..20 {
        let app = if n % 2 == 0 { &a } else { &b };
        let update = json!({"id": id, "updates": {"priority": n}});
        app.call_as("task.update", update, caller("busy-client")).await.expect("within the limit");
    }
    let err = b
        .call_as("task.update", json!({"id": id, "updates": {"priority": 99}}), caller("busy-client"))
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "rate_limited");
    let retry = err.retry_after_ms.expect("retryAfterMs");
    assert!(retry > 0 && retry <= 60_000, "{retry}");
    assert_eq!(a.ok("task.get", json!({"id": id})).await["priority"], 19, "the refused update never ran");

    let other = a.call_as("task.update", json!({"id": id, "updates": {"priority": 7}}), caller("calm-client")).await;
    assert_eq!(other.expect("another caller has its own window")["priority"], 7);
    b.stop().await;
    a.stop().await;
}
