//! Dispatch overhead and end-to-end pipeline cost against the real Redis, printed as figures.
//! Run with `cargo bench --bench dispatch` (Redis must answer at REDIS_URL or 127.0.0.1:6379).
//!
//! - `test.circuit` (a no-op handler) through the whole pipeline vs the same handler called
//!   directly: the difference is what validation, rate limiting (one Redis round trip), the
//!   circuit breaker, the deadline, output validation and metrics cost per request.
//! - `task.create` through the pipeline, sequentially (latency) and with 16 callers (throughput).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use claudebench::app::{App, Dispatch};
use claudebench_domain::coordination::CoordinationConfig;
use claudebench_domain::node::NodeOptions;
use claudebench_runtime::backend::{Backend, Payload};
use claudebench_runtime::config::RuntimeConfig;
use claudebench_runtime::context::{RequestMeta, Transport};
use claudebench_runtime::pipeline::EventHandlers;
use serde_json::json;

static CALLER: AtomicU64 = AtomicU64::new(0);

/// A fresh caller per request, so per-caller rate limits measure their cost without refusing.
fn meta() -> RequestMeta {
    let mut m = RequestMeta::new(Transport::Internal);
    m.client_id = Some(format!("bench-{}", CALLER.fetch_add(1, Ordering::Relaxed)));
    m
}

fn micros(total: Duration, n: u64) -> f64 {
    total.as_secs_f64() * 1e6 / n as f64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let prefix = format!("cbbench-{}", std::process::id());
    let runtime = RuntimeConfig {
        redis_url: Some(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())),
        key_prefix: prefix.clone(),
        ..RuntimeConfig::default()
    };
    let options = NodeOptions {
        instance_id: format!("bench-{prefix}"),
        runtime,
        coordination: CoordinationConfig::default(),
        persist: false,
        background_jobs: false,
        hook_rules: None,
        event_overrides: Default::default(),
    };
    let app = match App::start(options).await {
        Ok(app) => app,
        Err(e) => return println!("cannot start the app (is Redis running?): {e}"),
    };
    let pipeline = app.pipeline.clone();
    let circuit = pipeline.resolve("test.circuit").expect("test.circuit exists");
    let create = pipeline.resolve("task.create").expect("task.create exists");
    let n: u64 = 5_000;

    for _ in 0..500 {
        let _ = pipeline.run(circuit, Payload::Value(json!({})), meta()).await;
    }
    let start = Instant::now();
    for _ in 0..n {
        let r = pipeline.run(circuit, Payload::Value(json!({})), meta()).await;
        assert!(r.is_ok(), "{r:?}");
    }
    let through_pipeline = micros(start.elapsed(), n);

    let dispatch = Dispatch::new(app.domain.clone());
    let start = Instant::now();
    for _ in 0..n {
        let input = dispatch.parse(circuit, Payload::Value(json!({}))).expect("valid");
        let r = dispatch.call(circuit, meta(), input, None).await;
        assert!(r.is_ok());
    }
    let direct = micros(start.elapsed(), n);

    let mut con = app.services.redis.conn();
    let start = Instant::now();
    for _ in 0..n {
        let _: String = redis::cmd("PING").query_async(&mut con).await.expect("PING");
    }
    let ping = micros(start.elapsed(), n);

    let start = Instant::now();
    for i in 0..n {
        let body = format!(r#"{{"text":"bench task {i}","priority":{}}}"#, i % 100);
        let r = pipeline.run(create, Payload::Bytes(body.as_bytes()), meta()).await;
        assert!(r.is_ok(), "{r:?}");
    }
    let create_seq = micros(start.elapsed(), n);

    let callers = 16;
    let per = n / callers;
    let start = Instant::now();
    let mut joins = Vec::new();
    for c in 0..callers {
        let p = Arc::clone(&pipeline);
        joins.push(tokio::spawn(async move {
            for i in 0..per {
                let body = format!(r#"{{"text":"bench {c}-{i}"}}"#);
                let _ = p.run(create, Payload::Bytes(body.as_bytes()), meta()).await;
            }
        }));
    }
    for j in joins {
        let _ = j.await;
    }
    let throughput = (per * callers) as f64 / start.elapsed().as_secs_f64();

    println!("dispatch (µs per request, real Redis on loopback, {n} requests each)");
    println!("  test.circuit through the pipeline   {through_pipeline:>8.1}");
    println!("  test.circuit handler called directly {direct:>7.1}");
    println!("  pipeline overhead                   {:>8.1}", through_pipeline - direct);
    println!("  one Redis round trip (PING)         {ping:>8.1}");
    println!("  overhead beyond its one round trip  {:>8.1}", through_pipeline - direct - ping);
    println!("  task.create through the pipeline    {create_seq:>8.1}");
    println!("task.create throughput with {callers} callers: {throughput:.0} tasks/s");

    let services = app.services.clone();
    app.shutdown().await;
    let mut con = services.redis.conn();
    for pattern in [format!("{{{prefix}}}*"), format!("{prefix}:*")] {
        let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query_async(&mut con).await.unwrap_or_default();
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query_async(&mut con).await;
        }
    }
}
