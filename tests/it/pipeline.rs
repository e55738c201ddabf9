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

#[tokio::test]
async fn invalid_requests_are_refused_before_they_count_against_the_rate_limit() {
    let t = TestApp::start().await;
    // test.circuit allows 100 calls per minute per caller.
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
    let t = TestApp::start().await;
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
