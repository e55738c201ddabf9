//! Redis memory under a steady create → claim → complete workload (issue 13's hot/cold lifecycle):
//! with SQL persistence and a short retention, finished tasks leave Redis, so `used_memory`
//! should stay flat however many cycles run.
//!
//! `cargo bench -p claudebench-domain --bench lifecycle` — starts a private `redis-server` (no
//! persistence) and a SQLite file in a temporary directory, 8 workers, the persisters, the
//! retirement job and the outbox retention (streams capped at the default 10,000 entries behind
//! the persister), and prints `used_memory` and the key count every 10,000 cycles. `CB_BENCH_CYCLES` (default 100,000),
//! `CB_BENCH_PARTITIONS` (2), `CB_BENCH_RETENTION_MS` (1,000).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use claudebench_domain::coordination::tasks::{NewTask, Outcome, Tasks, TASK_STREAMS};
use claudebench_domain::coordination::{Coordination, CoordinationConfig};
use claudebench_runtime::keys::{Keys, Partitions};
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::persist::{PERSISTER_GROUP, Persister, SqlStore};
use claudebench_runtime::redis::server::PrivateRedis;
use claudebench_runtime::redis::{RedisHandle, RedisOptions};

const WORKERS: usize = 8;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn memory(redis: &RedisHandle) -> (u64, u64) {
    let mut con = redis.conn();
    let info: String = redis::cmd("INFO").arg("memory").query_async(&mut con).await.unwrap_or_default();
    let used = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let keys: u64 = redis::cmd("DBSIZE").query_async(&mut con).await.unwrap_or(0);
    (used, keys)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cycles = env("CB_BENCH_CYCLES", 100_000);
    let partitions = env("CB_BENCH_PARTITIONS", 2) as u32;
    let retention_ms = env("CB_BENCH_RETENTION_MS", 1_000);
    let mut server = PrivateRedis::start(None).await?;
    let redis = RedisHandle::connect(RedisOptions::new(server.url())).await?;
    let dir = std::env::temp_dir().join(format!("cb-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqlStore::connect(&format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()), "cb").await?;

    let keys = Keys::new("cb");
    let config = CoordinationConfig { partitions, task_retention_ms: retention_ms, ..Default::default() };
    let tasks = Tasks::new(keys.clone(), config.clone()).with_store(store.clone());
    let coord = Coordination::with_tasks(tasks, keys.clone(), config);
    let mut con = redis.conn();
    for part in Partitions::new(&keys, partitions).all() {
        let _: () = redis::cmd("SET").arg(part.epoch()).arg("bench").query_async(&mut con).await?;
    }
    let workers: Vec<String> = (0..WORKERS).map(|i| format!("w{i}")).collect();
    for w in &workers {
        coord.instances.register(&mut con, w, &["worker".into()]).await?;
    }

    let stop = Arc::new(tokio::sync::Notify::new());
    let mut background = Vec::new();
    for part in Partitions::new(&keys, partitions).all() {
        let p = Persister::new(
            &redis,
            &keys,
            store.clone(),
            TASK_STREAMS.map(String::from).to_vec(),
            Some(TASK_STREAMS.iter().map(|e| part.stream(e)).collect()),
            "bench",
        )
        .await?;
        let stop = stop.clone();
        background.push(tokio::spawn(async move { p.run_until(async move { stop.notified().await }).await }));
    }
    // The leader's outbox retention, as the server runs it (here every second instead of every
    // failure timeout / 2): each stream is capped at the default maxlen behind the persister.
    {
        let bus = EventBus::new(&redis, keys.clone(), 10_000);
        let streams: Vec<String> = Partitions::new(&keys, partitions)
            .all()
            .iter()
            .flat_map(|p| TASK_STREAMS.iter().map(|e| p.stream(e)))
            .collect();
        let stop = stop.clone();
        background.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.notified() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {
                        let _ = bus.trim_streams(&streams, Some(PERSISTER_GROUP), Duration::from_secs(86_400)).await;
                    }
                }
            }
        }));
    }
    let retired = Arc::new(AtomicU64::new(0));
    {
        let (tasks, redis, stop, retired) = (coord.tasks.clone(), redis.clone(), stop.clone(), retired.clone());
        background.push(tokio::spawn(async move {
            let mut con = redis.conn();
            loop {
                tokio::select! {
                    _ = stop.notified() => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {
                        if let Ok(n) = tasks.retire(&mut con, 5_000).await {
                            retired.fetch_add(n, Ordering::Relaxed);
                        }
                    }
                }
            }
        }));
    }

    let done = Arc::new(AtomicU64::new(0));
    let (start_mem, start_keys) = memory(&redis).await;
    println!(
        "lifecycle: {cycles} create → claim → complete cycles, {WORKERS} workers, {partitions} partitions, \
         retention {retention_ms} ms, SQLite"
    );
    println!("{:>8} {:>8} {:>14} {:>8} {:>10}", "cycles", "secs", "used_memory", "keys", "retired");
    println!("{:>8} {:>8.1} {:>14} {:>8} {:>10}", 0, 0.0, start_mem, start_keys, 0);
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in workers {
        let (c, redis, done) = (coord.clone(), redis.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            let mut con = redis.conn();
            while done.fetch_add(1, Ordering::Relaxed) < cycles {
                c.tasks.create(&mut con, NewTask::new("cycle")).await?;
                // Another worker may take it first; then this one finishes whatever it got.
                for t in c.tasks.claim(&mut con, &w, 1).await? {
                    c.tasks.complete(&mut con, &t.id, &w, Outcome::Completed(None)).await?;
                }
            }
            Ok::<_, claudebench_domain::coordination::Error>(())
        }));
    }
    let mut next_report = 10_000;
    while handles.iter().any(|h| !h.is_finished()) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let n = done.load(Ordering::Relaxed).min(cycles);
        if n >= next_report {
            let (mem, keys) = memory(&redis).await;
            println!(
                "{:>8} {:>8.1} {:>14} {:>8} {:>10}",
                n,
                started.elapsed().as_secs_f64(),
                mem,
                keys,
                retired.load(Ordering::Relaxed)
            );
            next_report += 10_000;
        }
    }
    for h in handles {
        h.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    // Finish what is still unfinished, let SQL catch up and the retention pass.
    for w in (0..WORKERS).map(|i| format!("w{i}")) {
        loop {
            let got = coord.tasks.claim(&mut con, &w, 100).await?;
            if got.is_empty() {
                break;
            }
            for t in got {
                coord.tasks.complete(&mut con, &t.id, &w, Outcome::Completed(None)).await?;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(retention_ms + 3_000)).await;
    let (end_mem, end_keys) = memory(&redis).await;
    println!(
        "{:>8} {:>8.1} {:>14} {:>8} {:>10}   (after the retention)",
        cycles,
        started.elapsed().as_secs_f64(),
        end_mem,
        end_keys,
        retired.load(Ordering::Relaxed)
    );
    println!(
        "{:.0} cycles/s; used_memory {start_mem} → {end_mem} bytes ({:+.1} %); SQL rows {}",
        cycles as f64 / secs,
        (end_mem as f64 - start_mem as f64) * 100.0 / start_mem.max(1) as f64,
        store.row_count().await?
    );
    stop.notify_waiters();
    for b in background {
        b.abort();
    }
    server.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("lifecycle bench failed: {e}");
        std::process::exit(1);
    }
}
