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

use claudebench_domain::coordination::tasks::{NewTask, Outcome, TASK_STREAMS, Tasks};
use claudebench_domain::coordination::{Coordination, CoordinationConfig};
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::keys::{Keys, Partitions};
use claudebench_runtime::persist::{PERSISTER_GROUP, Persister, SqlStore};
use claudebench_runtime::redis::server::PrivateRedis;
use claudebench_runtime::redis::{RedisHandle, RedisOptions};

const WORKERS: usize = 8;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One server's figures: used_memory, keys, commands processed, error replies by kind.
#[derive(Debug, Default, Clone)]
struct NodeStats {
    used_memory: u64,
    keys: u64,
    commands: u64,
    errors: Vec<(String, u64)>,
}

async fn node_stats(client: &redis::Client) -> NodeStats {
    let Ok(mut con) = client.get_multiplexed_async_connection().await else { return NodeStats::default() };
    let info: String = redis::cmd("INFO").arg("all").query_async(&mut con).await.unwrap_or_default();
    let field = |name: &str| -> u64 {
        info.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    };
    let errors = info
        .lines()
        .filter_map(|l| l.strip_prefix("errorstat_"))
        .filter_map(|l| {
            let (kind, rest) = l.split_once(':')?;
            Some((kind.to_string(), rest.strip_prefix("count=")?.trim().parse().ok()?))
        })
        .collect();
    let keys: u64 = redis::cmd("DBSIZE").query_async(&mut con).await.unwrap_or(0);
    NodeStats { used_memory: field("used_memory:"), keys, commands: field("total_commands_processed:"), errors }
}

/// Every master (one server when not on a cluster).
struct Nodes(Vec<(String, redis::Client)>);

impl Nodes {
    async fn stats(&self) -> Vec<NodeStats> {
        let mut out = Vec::new();
        for (_, client) in &self.0 {
            out.push(node_stats(client).await);
        }
        out
    }

    async fn memory(&self) -> (u64, u64) {
        let all = self.stats().await;
        (all.iter().map(|s| s.used_memory).sum(), all.iter().map(|s| s.keys).sum())
    }
}

/// The masters of the cluster `seed` belongs to, from `CLUSTER NODES`.
async fn masters(seed: &str) -> Result<Vec<(String, redis::Client)>, Box<dyn std::error::Error>> {
    let client = redis::Client::open(format!("redis://{seed}"))?;
    let mut con = client.get_multiplexed_async_connection().await?;
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(&mut con).await?;
    let mut out = Vec::new();
    for line in nodes.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        if parts.len() > 2 && parts[2].contains("master") {
            let addr = parts[1].split('@').next().unwrap_or_default().to_string();
            out.push((addr.clone(), redis::Client::open(format!("redis://{addr}"))?));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cycles = env("CB_BENCH_CYCLES", 100_000);
    let partitions = env("CB_BENCH_PARTITIONS", 2) as u32;
    let retention_ms = env("CB_BENCH_RETENTION_MS", 1_000);
    let cluster: Vec<String> = std::env::var("REDIS_CLUSTER_NODES")
        .ok()
        .map(|v| v.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect())
        .unwrap_or_default();
    let (mut server, redis, nodes) = if cluster.is_empty() {
        let server = PrivateRedis::start(None).await?;
        let redis = RedisHandle::connect(RedisOptions::new(server.url())).await?;
        let nodes = Nodes(vec![(server.url(), redis::Client::open(server.url())?)]);
        (Some(server), redis, nodes)
    } else {
        let nodes = Nodes(masters(&cluster[0]).await?);
        (None, RedisHandle::connect(RedisOptions::cluster(cluster.clone())).await?, nodes)
    };
    let before = nodes.stats().await;
    let dir = std::env::temp_dir().join(format!("cb-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqlStore::connect(&format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()), "cb").await?;

    // A prefix of its own, so a shared cluster's other keys stay apart (the counts are whole-node).
    let keys = Keys::new(&format!("cbbench{}", std::process::id()));
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
    // The workers' heartbeats (a claim needs a live worker).
    {
        let (c, redis, stop, workers) = (coord.clone(), redis.clone(), stop.clone(), workers.clone());
        background.push(tokio::spawn(async move {
            let mut con = redis.conn();
            loop {
                tokio::select! {
                    _ = stop.notified() => return,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {
                        for w in &workers {
                            let _ = c.instances.heartbeat(&mut con, w).await;
                        }
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
    let (start_mem, start_keys) = nodes.memory().await;
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
            let stats = nodes.stats().await;
            let (mem, keys): (u64, u64) =
                (stats.iter().map(|s| s.used_memory).sum(), stats.iter().map(|s| s.keys).sum());
            let per_master = if cluster.is_empty() {
                String::new()
            } else {
                let shares: Vec<String> = stats.iter().map(|s| s.keys.to_string()).collect();
                format!("   keys per master {}", shares.join(" / "))
            };
            println!(
                "{:>8} {:>8.1} {:>14} {:>8} {:>10}{per_master}",
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
    let (end_mem, end_keys) = nodes.memory().await;
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
    if !cluster.is_empty() {
        let after = nodes.stats().await;
        let keys_total: u64 = after.iter().map(|s| s.keys).sum::<u64>().max(1);
        let commands: Vec<u64> =
            after.iter().zip(&before).map(|(a, b)| a.commands.saturating_sub(b.commands)).collect();
        let commands_total: u64 = commands.iter().sum::<u64>().max(1);
        println!("per master (its own INFO): keys now, commands during the run, error replies during the run");
        for (((addr, _), a), (b, n)) in nodes.0.iter().zip(&after).zip(before.iter().zip(&commands)) {
            let errors: Vec<String> = a
                .errors
                .iter()
                .map(|(kind, count)| {
                    let was = b.errors.iter().find(|(k, _)| k == kind).map_or(0, |(_, c)| *c);
                    format!("{kind} {}", count - was)
                })
                .filter(|e| !e.ends_with(" 0"))
                .collect();
            println!(
                "  {addr}: keys {} ({:.1} %), commands {n} ({:.1} %), errors: {}",
                a.keys,
                a.keys as f64 * 100.0 / keys_total as f64,
                *n as f64 * 100.0 / commands_total as f64,
                if errors.is_empty() { "none".to_string() } else { errors.join(", ") }
            );
        }
        let mut con = redis.conn();
        for part in Partitions::new(&keys, partitions).all() {
            let slot = claudebench_runtime::keys::slot(&part.pending());
            let tasks: u64 =
                redis::cmd("ZCARD").arg(part.by_status("completed")).query_async(&mut con).await.unwrap_or(0);
            println!("  partition {} {}: slot {slot}, completed tasks still hot {tasks}", part.index(), part.tag());
        }
    }
    stop.notify_waiters();
    for b in background {
        b.abort();
    }
    if let Some(server) = server.as_mut() {
        server.stop().await?;
    }
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
