//! Event bus publish throughput against the real Redis (`REDIS_URL`, default local).
//!
//! `cargo bench -p claudebench-runtime --bench bus` prints:
//! * sequential: one publish at a time, one script round trip each (latency-bound);
//! * concurrent: N tasks publishing over the one multiplexed connection, which pipelines
//!   their commands on the socket (throughput-bound).
//!
//! Events go to a throwaway key prefix that is deleted afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use claudebench_runtime::bus::EventBus;
use claudebench_runtime::keys::Keys;
use claudebench_runtime::redis::{RedisHandle, RedisOptions};
use serde_json::json;

const EVENT: &str = "bench.published";

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let redis = RedisHandle::connect(RedisOptions::new(url)).await?;
    let keys = Keys::new(&format!("cbbench-{}", std::process::id()));
    let bus = Arc::new(EventBus::new(&redis, keys.clone(), 100_000));
    let payload = json!({"id": "t-123", "text": "benchmark task", "status": "pending", "priority": 50});

    // Warm up: loads the script and the connection.
    for _ in 0..200 {
        bus.publish(EVENT, &payload).await?;
    }

    let n = 5_000;
    let started = Instant::now();
    for _ in 0..n {
        bus.publish(EVENT, &payload).await?;
    }
    report("sequential (1 in flight)", n, started.elapsed());

    for concurrency in [8usize, 64, 256] {
        let per_task = 20_000 / concurrency;
        let started = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let bus = bus.clone();
                let payload = payload.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        bus.publish(EVENT, &payload).await?;
                    }
                    Ok::<(), claudebench_generated::error::Error>(())
                })
            })
            .collect();
        for t in tasks {
            t.await??;
        }
        report(&format!("concurrent ({concurrency} in flight)"), per_task * concurrency, started.elapsed());
    }

    let mut conn = redis.conn();
    let _: () = redis::cmd("DEL").arg(keys.stream(EVENT)).query_async(&mut conn).await?;
    Ok(())
}

fn report(label: &str, n: usize, elapsed: Duration) {
    let per_s = n as f64 / elapsed.as_secs_f64();
    let us = elapsed.as_secs_f64() * 1e6 / n as f64;
    println!(
        "bus publish, {label:<26} {n:>6} events in {:>7.1} ms: {per_s:>9.0} events/s ({us:.1} µs/event)",
        elapsed.as_secs_f64() * 1e3
    );
}
