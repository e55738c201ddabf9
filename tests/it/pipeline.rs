//! The order of the pipeline's stages, observed from outside: what a refused request does not
//! consume, and what only cacheable events cache.

use claudebench_runtime::context::{RequestMeta, Transport};
use claudebench_runtime::resilience::ResponseCache;
use serde_json::json;

use crate::support::TestApp;

fn caller(id: &str) -> RequestMeta {
    let mut m = RequestMeta::new(Transport::Http);
    m.client_id = Some(id.to_string());
    m
}

#[tokio::test]
async fn invalid_input_is_refused_with_every_issue_before_any_handler_runs() {
    let t = TestApp::start().await;
    let err = t.call("task.create", json!({"text": "", "priority": 101})).await.unwrap_err();
    assert_eq!(err.code.as_str(), "validation");
    let paths: Vec<&str> = err.issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["text", "priority"]);
    let page = t.ok("task.list", json!({})).await;
    assert_eq!(page["total"], json!(0), "nothing was created");
    t.stop().await;
}

/// A server whose `test.circuit` allows a burst of 100 calls per caller, refilled at 100 an hour
/// (one every 36 s), so no call is refilled while a test runs, however slow the machine.
async fn hundred_an_hour() -> TestApp {
    let mut options = crate::support::options();
    let limit = claudebench_generated::event::RateLimit { count: 100, window_ms: 3_600_000 };
    options.event_overrides.insert(
        "test.circuit".into(),
        claudebench_runtime::config::EventOverride {
            rate_limit: Some(claudebench_runtime::config::Setting::On(limit)),
            ..Default::default()
        },
    );
    TestApp::start_with(options).await
}

#[tokio::test]
async fn invalid_requests_are_refused_before_they_count_against_the_rate_limit() {
    let t = hundred_an_hour().await;
    for _ in 0..150 {
        let err = t.call_as("test.circuit", json!({"delay": "soon"}), caller("c1")).await.unwrap_err();
        assert_eq!(err.code.as_str(), "validation");
    }
    for i in 0..100 {
        assert!(t.call_as("test.circuit", json!({}), caller("c1")).await.is_ok(), "valid call {i} was limited");
    }
    let err = t.call_as("test.circuit", json!({}), caller("c1")).await.unwrap_err();
    assert_eq!(err.code.as_str(), "rate_limited");
    t.stop().await;
}

#[tokio::test]
async fn rate_limited_requests_never_reach_the_circuit_breaker() {
    let t = hundred_an_hour().await;
    for _ in 0..100 {
        let _ = t.call_as("test.circuit", json!({}), caller("c2")).await;
    }
    // Every further call of this caller is refused by the limiter; were they failures reaching
    // the circuit, it would open for everyone.
    for _ in 0..20 {
        let err = t.call_as("test.circuit", json!({"shouldFail": true}), caller("c2")).await.unwrap_err();
        assert_eq!(err.code.as_str(), "rate_limited");
    }
    let ok = t.call_as("test.circuit", json!({}), caller("someone-else")).await.unwrap();
    assert_eq!(ok["success"], json!(true), "the circuit is still closed: {ok}");
    t.stop().await;
}

#[tokio::test]
async fn only_events_marked_cacheable_store_their_answers() {
    let t = TestApp::start().await;
    let mut con = t.redis();
    let keys = t.services().keys.clone();

    let input = json!({"domain": "task"});
    let first = t.ok("system.discover", input.clone()).await;
    let digest = ResponseCache::digest(&input);
    let cached: Option<String> =
        redis::cmd("GET").arg(keys.cache("system.discover", &digest)).query_async(&mut con).await.unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&cached.expect("cached")).unwrap(), first);
    assert_eq!(t.ok("system.discover", input).await, first);

    // A state-changing event is never cached: two identical creates make two tasks.
    let a = t.ok("task.create", json!({"text": "same"})).await;
    let b = t.ok("task.create", json!({"text": "same"})).await;
    assert_ne!(a["id"], b["id"]);
    let created = json!({"text": "same", "priority": 50});
    let none: Option<String> = redis::cmd("GET")
        .arg(keys.cache("task.create", &ResponseCache::digest(&created)))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(none, None);
    t.stop().await;
}

/// The operator's configuration file replaces the spec's per-event policy, and
/// `CLAUDEBENCH_RATE_LIMITS=off` lifts every limit: the pipeline enforces what is configured.
#[tokio::test]
async fn the_configuration_file_and_the_rate_limit_switch_set_the_limits_the_pipeline_enforces() {
    let dir = crate::support::scratch_dir("config", &crate::support::unique_prefix());
    let path = dir.join("claudebench.toml");
    std::fs::write(
        &path,
        "[events.\"task.create\"]\nrate_limit = { count = 3, window_ms = 60000 }\n\n\
         [events.\"task.complete\"]\nrate_limit = \"off\"\n",
    )
    .unwrap();
    let file = claudebench_runtime::config::ConfigFile::load(&path, &claudebench_generated::events::EVENTS).unwrap();
    let mut options = crate::support::options();
    options.event_overrides = file.events;
    let t = TestApp::start_with(options).await;
    for i in 0..3 {
        t.call_as("task.create", json!({"text": format!("t{i}")}), caller("bulk")).await.expect("within 3");
    }
    let err = t.call_as("task.create", json!({"text": "one too many"}), caller("bulk")).await.unwrap_err();
    assert_eq!(err.code.as_str(), "rate_limited");
    // No limit at all on task.complete: one worker completes far more than the spec's default.
    t.ok("system.register", json!({"id": "w1", "roles": ["worker"]})).await;
    for i in 0..60 {
        t.call_as("task.create", json!({"text": format!("c{i}")}), caller(&format!("c{i}"))).await.unwrap();
    }
    let mut completed = 0;
    loop {
        let claimed = t.ok("task.claim", json!({"workerId": "w1", "maxTasks": 10})).await;
        let tasks = claimed["tasks"].as_array().unwrap().clone();
        if tasks.is_empty() {
            break;
        }
        for task in tasks {
            let input = json!({"id": task["id"], "workerId": "w1"});
            t.call_as("task.complete", input, caller("one-worker")).await.expect("no limit on completions");
            completed += 1;
        }
    }
    assert_eq!(completed, 63, "past the spec's 20 a minute");
    t.stop().await;

    let mut options = crate::support::options();
    options.runtime.rate_limits = false;
    let t = TestApp::start_with(options).await;
    for i in 0..150 {
        t.call_as("task.create", json!({"text": format!("t{i}")}), caller("bulk")).await.expect("limits are off");
    }
    t.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `task.create` checks its rate limit inside its create script rather than in the pipeline's
/// stage: seen from outside nothing changes. Two servers racing one caller admit exactly the
/// limit, every refusal is `rate_limited` with a wait, nothing is created for it, the refusals
/// are counted in the metrics, and the circuit breaker never sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_create_limit_checked_in_its_script_holds_across_two_servers() {
    let mut options = crate::support::options();
    let limit = claudebench_generated::event::RateLimit { count: 10, window_ms: 3_600_000 };
    options.event_overrides.insert(
        "task.create".into(),
        claudebench_runtime::config::EventOverride {
            rate_limit: Some(claudebench_runtime::config::Setting::On(limit)),
            ..Default::default()
        },
    );
    let a = std::sync::Arc::new(TestApp::start_with(options.clone()).await);
    let b = std::sync::Arc::new(TestApp::start_with(options).await);
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..30 {
        let app = if i % 2 == 0 { a.clone() } else { b.clone() };
        calls.spawn(async move {
            app.call_as("task.create", json!({"text": format!("burst {i}")}), caller("one-agent")).await
        });
    }
    let answers = calls.join_all().await;
    let created = answers.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<_> = answers.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!((created, refused.len()), (10, 20));
    for e in &refused {
        assert_eq!(e.code.as_str(), "rate_limited", "{e:?}");
        assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
    }
    assert_eq!(a.ok("task.list", json!({})).await["total"], json!(10));
    let counted = |t: &TestApp| {
        let text = claudebench_runtime::backend::Backend::metrics_text(t.pipeline().as_ref());
        text.lines()
            .find_map(|l| l.strip_prefix("claudebench_rate_limited_total{event=\"task.create\"} "))
            .map_or(0, |n| n.parse::<u64>().unwrap())
    };
    assert_eq!(counted(&a) + counted(&b), 20);
    // The breaker (5 failures open it) saw no failure: another caller still creates.
    a.call_as("task.create", json!({"text": "someone else"}), caller("other-agent")).await.expect("circuit closed");
    for app in [b, a] {
        std::sync::Arc::into_inner(app).expect("no call left").stop().await;
    }
}
