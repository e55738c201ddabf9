//! The cluster-wide counters behind `system.metrics`: requests handled, their summed latency and
//! tasks completed. Each instance counts locally ([`claudebench_runtime::metrics::Metrics`]) and
//! adds its counts to one shared hash once a second ([`flush`], a node job), so a read sees the
//! whole cluster without a write per request.

use claudebench_contract::error::Error;
use claudebench_runtime::metrics::Totals;
use claudebench_runtime::redis::redis_error;
use std::collections::HashMap;

use crate::services::Domain;

const EVENTS: &str = "eventsProcessed";
const LATENCY_US: &str = "latencyMicros";
const TASKS_COMPLETED: &str = "tasksCompleted";

/// The cluster-wide totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Requests that reached a handler, on every instance.
    pub events_processed: u64,
    /// Their summed latency, in microseconds.
    pub latency_us: u64,
    /// Tasks that reached `completed` through `task.complete`.
    pub tasks_completed: u64,
}

/// Queue the addition of `totals` to the shared hash on `pipe` (replies ignored).
fn add(pipe: &mut redis::Pipeline, key: &str, totals: &Totals) {
    pipe.hincr(key, EVENTS, totals.events)
        .ignore()
        .hincr(key, LATENCY_US, totals.latency_us)
        .ignore()
        .hincr(key, TASKS_COMPLETED, totals.tasks_completed)
        .ignore();
}

/// Add what this process counted since the last flush to the shared hash; on failure the totals
/// are kept for the next flush.
pub async fn flush(domain: &Domain) {
    let services = &domain.runtime;
    let totals = services.metrics.take_totals();
    if totals == Totals::default() {
        return;
    }
    let mut pipe = redis::pipe();
    add(pipe.atomic(), &services.keys.counters(), &totals);
    let result: Result<(), redis::RedisError> = pipe.query_async(&mut services.redis.conn()).await;
    if result.is_err() {
        services.metrics.restore_totals(totals);
    }
}

/// The cluster-wide totals, this process's unflushed counts included. Adding them in the same
/// transaction as the read makes the answer include everything this process has served so far
/// (no one-second lag for a caller's own requests) without ever counting anything twice: the
/// counts are taken out of the local registry and given back if the transaction fails.
pub async fn read(domain: &Domain) -> Result<Counters, Error> {
    let services = &domain.runtime;
    let key = services.keys.counters();
    let pending = services.metrics.take_totals();
    let mut pipe = redis::pipe();
    pipe.atomic();
    if pending != Totals::default() {
        add(&mut pipe, &key, &pending);
    }
    pipe.hgetall(&key);
    let (hash,): (HashMap<String, i64>,) = match pipe.query_async(&mut services.redis.conn()).await {
        Ok(v) => v,
        Err(e) => {
            services.metrics.restore_totals(pending);
            return Err(redis_error(e));
        }
    };
    let counter = |name: &str| hash.get(name).copied().and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    Ok(Counters {
        events_processed: counter(EVENTS),
        latency_us: counter(LATENCY_US),
        tasks_completed: counter(TASKS_COMPLETED),
    })
}
