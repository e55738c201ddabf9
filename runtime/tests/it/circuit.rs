//! Circuit breakers shared across instances through Redis (`lua/circuit_*.lua`).

use std::time::{Duration, Instant};

use claudebench_generated::error::ErrorCode;
use claudebench_generated::event::CircuitBreakerDef;
use claudebench_runtime::resilience::{Admission, CircuitBreakers, CircuitState, Permit};
use redis::AsyncCommands;

use crate::{fixtures, support};

const DEF: CircuitBreakerDef = CircuitBreakerDef { threshold: 3, open_ms: 300, half_open_probes: 2, fallback: None };

async fn wait_for(breakers: &CircuitBreakers, event: &str, state: CircuitState) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while breakers.state(event) != state {
        assert!(Instant::now() < deadline, "local copy never became {state:?} (is {:?})", breakers.state(event));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn consecutive_failures_open_the_circuit_and_successes_reset_the_count() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let cb = CircuitBreakers::start(&redis, keys.clone()).await.unwrap();
    let e = "task.create";

    for _ in 0..2 {
        assert_eq!(cb.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Normal));
        assert_eq!(cb.record(e, &DEF, Permit::Normal, false).await.unwrap(), CircuitState::Closed);
    }
    // A success in between: failures must be consecutive.
    cb.record(e, &DEF, Permit::Normal, true).await.unwrap();
    for _ in 0..2 {
        cb.record(e, &DEF, Permit::Normal, false).await.unwrap();
    }
    assert_eq!(cb.state(e), CircuitState::Closed);
    assert_eq!(cb.record(e, &DEF, Permit::Normal, false).await.unwrap(), CircuitState::Open);

    match cb.admit(e, &DEF).await.unwrap() {
        Admission::Rejected { retry_after_ms } => {
            assert!(retry_after_ms > 0 && retry_after_ms <= 300)
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    let err = cb.admit(e, &DEF).await.unwrap().into_result(e).unwrap_err();
    assert_eq!(err.code, ErrorCode::CircuitOpen);

    let mut conn = support::redis().await;
    let state: String = conn.hget(keys.circuit(e), "state").await.unwrap();
    assert_eq!(state, "open");
}

#[tokio::test]
async fn half_open_admits_a_bounded_number_of_probes_and_closes_after_that_many_successes() {
    let redis = fixtures::handle().await;
    let cb = CircuitBreakers::start(&redis, support::unique_keys()).await.unwrap();
    let e = "probe.me";
    for _ in 0..3 {
        cb.record(e, &DEF, Permit::Normal, false).await.unwrap();
    }
    assert_eq!(cb.state(e), CircuitState::Open);
    tokio::time::sleep(Duration::from_millis(320)).await;

    assert_eq!(cb.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Probe));
    assert_eq!(cb.state(e), CircuitState::HalfOpen);
    assert_eq!(cb.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Probe));
    assert!(matches!(cb.admit(e, &DEF).await.unwrap(), Admission::Rejected { .. }), "only two probes at once");

    assert_eq!(cb.record(e, &DEF, Permit::Probe, true).await.unwrap(), CircuitState::HalfOpen);
    assert_eq!(cb.record(e, &DEF, Permit::Probe, true).await.unwrap(), CircuitState::Closed);
    assert_eq!(cb.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Normal));
}

#[tokio::test]
async fn a_failed_probe_reopens_the_circuit() {
    let redis = fixtures::handle().await;
    let cb = CircuitBreakers::start(&redis, support::unique_keys()).await.unwrap();
    let e = "flaky";
    for _ in 0..3 {
        cb.record(e, &DEF, Permit::Normal, false).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(320)).await;
    assert_eq!(cb.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Probe));
    assert_eq!(cb.record(e, &DEF, Permit::Probe, false).await.unwrap(), CircuitState::Open);
    assert!(matches!(cb.admit(e, &DEF).await.unwrap(), Admission::Rejected { .. }));
}

#[tokio::test]
async fn lost_probes_do_not_keep_the_circuit_half_open_forever() {
    let redis = fixtures::handle().await;
    let cb = CircuitBreakers::start(&redis, support::unique_keys()).await.unwrap();
    let e = "lost";
    for _ in 0..3 {
        cb.record(e, &DEF, Permit::Normal, false).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(320)).await;
    // Two probes admitted, their instance dies: no outcome ever arrives.
    cb.admit(e, &DEF).await.unwrap();
    cb.admit(e, &DEF).await.unwrap();
    assert!(matches!(cb.admit(e, &DEF).await.unwrap(), Admission::Rejected { .. }));
    tokio::time::sleep(Duration::from_millis(320)).await;
    assert_eq!(cb.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Probe));
}

#[tokio::test]
async fn other_instances_follow_state_changes_through_the_announcements() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let a = CircuitBreakers::start(&redis, keys.clone()).await.unwrap();
    let b = CircuitBreakers::start(&redis, keys.clone()).await.unwrap();
    let e = "shared";
    // b learns the (closed) state first, then only hears about changes.
    assert_eq!(b.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Normal));

    for _ in 0..3 {
        a.record(e, &DEF, Permit::Normal, false).await.unwrap();
    }
    wait_for(&b, e, CircuitState::Open).await;
    assert!(matches!(b.admit(e, &DEF).await.unwrap(), Admission::Rejected { .. }), "b rejects from local memory");

    // Probes are global: one admitted on each instance, the third refused on either.
    tokio::time::sleep(Duration::from_millis(320)).await;
    assert_eq!(a.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Probe));
    assert_eq!(b.admit(e, &DEF).await.unwrap(), Admission::Allowed(Permit::Probe));
    assert!(matches!(a.admit(e, &DEF).await.unwrap(), Admission::Rejected { .. }));
    a.record(e, &DEF, Permit::Probe, true).await.unwrap();
    b.record(e, &DEF, Permit::Probe, true).await.unwrap();
    wait_for(&a, e, CircuitState::Closed).await;
    wait_for(&b, e, CircuitState::Closed).await;

    // A fresh instance learns an open circuit on its first call.
    for _ in 0..3 {
        a.record(e, &DEF, Permit::Normal, false).await.unwrap();
    }
    let c = CircuitBreakers::start(&redis, keys.clone()).await.unwrap();
    assert!(matches!(c.admit(e, &DEF).await.unwrap(), Admission::Rejected { .. }));
}

#[tokio::test]
async fn failures_on_one_instance_are_reset_by_a_success_on_another() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let a = CircuitBreakers::start(&redis, keys.clone()).await.unwrap();
    let b = CircuitBreakers::start(&redis, keys.clone()).await.unwrap();
    let e = "mixed";
    b.admit(e, &DEF).await.unwrap();
    a.record(e, &DEF, Permit::Normal, false).await.unwrap();
    a.record(e, &DEF, Permit::Normal, false).await.unwrap();
    // Wait until b's copy knows about the failures, then succeed there.
    tokio::time::sleep(Duration::from_millis(100)).await;
    b.record(e, &DEF, Permit::Normal, true).await.unwrap();
    a.record(e, &DEF, Permit::Normal, false).await.unwrap();
    assert_eq!(a.state(e), CircuitState::Closed, "the failures were not consecutive");
}
