//! Coordination benchmarks against the real Redis (`REDIS_URL`, default 127.0.0.1:6379):
//! - task claim + complete throughput with 8 concurrent workers (tasks/s);
//! - failure detection to requeue: from a worker's last heartbeat until its tasks are back on
//!   the pending queue, with a periodic sweeper.
//!
//! `cargo bench -p claudebench-runtime --bench coordination`; `CB_BENCH_TASKS` sets the task count.

use std::time::{Duration, Instant};

use claudebench_domain::coordination::tasks::{NewTask, Outcome};
use claudebench_domain::coordination::{Coordination, CoordinationConfig};
use claudebench_runtime::keys::Keys;

const WORKERS: usize = 8;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

async fn connect() -> Result<redis::aio::MultiplexedConnection, redis::RedisError> {
    redis::Client::open(redis_url())?.get_multiplexed_async_connection().await
}

fn prefix(name: &str) -> Keys {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    Keys::new(&format!("cbbench-{name}-{}-{}", std::process::id(), nanos % 1_000_000_000))
}

/// Opens the task partition for use, as the first start of a deployment without SQL does.
async fn open(con: &mut redis::aio::MultiplexedConnection, keys: &Keys) -> Result<(), redis::RedisError> {
    for part in claudebench_runtime::keys::Partitions::new(keys, 1).all() {
        let _: () = redis::cmd("SET").arg(part.epoch()).arg("bench").query_async(con).await?;
    }
    Ok(())
}

/// Remove what a run created: every key under its unique prefix (control slot and task
/// partitions; one task is one key, so they are found with SCAN).
async fn cleanup(con: &mut redis::aio::MultiplexedConnection, keys: &Keys) {
    for pattern in [format!("{{{}}}*", keys.prefix()), format!("{{{}:*", keys.prefix())] {
        let mut cursor = 0u64;
        loop {
            let Ok((next, found)): Result<(u64, Vec<String>), _> =
                redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(1000).query_async(con).await
            else {
                return;
            };
            if !found.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(found).query_async(con).await;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
}

async fn throughput(tasks: usize) -> Result<(), Box<dyn std::error::Error>> {
    let keys = prefix("throughput");
    let c = Coordination::new(keys.clone(), CoordinationConfig::default());
    let mut con = connect().await?;
    open(&mut con, &keys).await?;
    let workers: Vec<String> = (0..WORKERS).map(|i| format!("bench-w{i}")).collect();
    for w in &workers {
        c.instances.register(&mut con, w, &["worker".into()]).await?;
    }

    let started = Instant::now();
    let mut creators = Vec::new();
    for n in 0..WORKERS {
        let c = c.clone();
        let share = tasks / WORKERS + usize::from(n < tasks % WORKERS);
        creators.push(tokio::spawn(async move {
            let mut con = connect().await?;
            for i in 0..share {
                c.tasks.create(&mut con, NewTask::new(format!("bench task {n}-{i}")).priority((i % 101) as u8)).await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    for h in creators {
        h.await?.map_err(|e| e.to_string())?;
    }
    let create_s = started.elapsed().as_secs_f64();
    println!("task.create   {tasks} tasks from {WORKERS} clients: {:>9.0} tasks/s", tasks as f64 / create_s);

    for batch in [1usize, 10] {
        if batch == 10 {
            // Refill for the second round.
            for i in 0..tasks {
                c.tasks.create(&mut con, NewTask::new(format!("bench refill {i}"))).await?;
            }
        }
        let started = Instant::now();
        let mut handles = Vec::new();
        for w in workers.clone() {
            let c = c.clone();
            handles.push(tokio::spawn(async move {
                let mut con = connect().await?;
                let mut done = 0usize;
                loop {
                    let got = c.tasks.claim(&mut con, &w, batch).await?;
                    if got.is_empty() {
                        return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(done);
                    }
                    for t in got {
                        c.tasks.complete(&mut con, &t.id, &w, Outcome::Completed(None)).await?;
                        done += 1;
                    }
                }
            }));
        }
        let mut total = 0;
        for h in handles {
            total += h.await?.map_err(|e| e.to_string())?;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "claim+complete {total} tasks, {WORKERS} workers, claim {batch:>2} at a time: {:>9.0} tasks/s ({:.3} s)",
            total as f64 / secs,
            secs
        );
    }
    cleanup(&mut con, &keys).await;
    Ok(())
}

async fn failure_detection() -> Result<(), Box<dyn std::error::Error>> {
    let keys = prefix("failover");
    let timeout_ms = 500;
    let sweep_every = Duration::from_millis(100);
    let c =
        Coordination::new(keys.clone(), CoordinationConfig { failure_timeout_ms: timeout_ms, ..Default::default() });
    let mut con = connect().await?;
    open(&mut con, &keys).await?;
    let workers = vec!["victim".to_string(), "survivor".to_string()];
    for w in &workers {
        c.instances.register(&mut con, w, &["worker".into()]).await?;
    }
    let held = 100;
    for i in 0..held {
        c.tasks.create(&mut con, NewTask::new(format!("held {i}"))).await?;
    }
    c.tasks.claim(&mut con, "victim", held).await?;
    // The victim's last sign of life.
    c.instances.heartbeat(&mut con, "victim").await?;
    let last_heartbeat = Instant::now();

    let (requeued, sweep_time) = loop {
        tokio::time::sleep(sweep_every).await;
        c.instances.heartbeat(&mut con, "survivor").await?;
        let t = Instant::now();
        let failed = c.instances.sweep(&mut con).await?;
        if let Some(f) = failed.into_iter().find(|f| f.id == "victim") {
            break (f.requeued.len(), t.elapsed());
        }
        if last_heartbeat.elapsed() > Duration::from_secs(10) {
            return Err("the victim was never declared failed".into());
        }
    };
    let detected = last_heartbeat.elapsed();
    let reclaimed = c.tasks.claim(&mut con, "survivor", 100).await?.len();
    println!(
        "failure detection → requeue: {:.0} ms after the last heartbeat (timeout {timeout_ms} ms, sweep every {} ms); \
         the sweep re-queued {requeued} tasks in {:.2} ms; survivor re-claimed {reclaimed}",
        detected.as_secs_f64() * 1000.0,
        sweep_every.as_millis(),
        sweep_time.as_secs_f64() * 1000.0
    );
    cleanup(&mut con, &keys).await;
    Ok(())
}

fn main() {
    let tasks = std::env::var("CB_BENCH_TASKS").ok().and_then(|v| v.parse().ok()).unwrap_or(4_000usize);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async {
        throughput(tasks).await?;
        failure_detection().await
    });
    if let Err(e) = result {
        eprintln!("benchmark failed (is Redis running at {}?): {e}", redis_url());
        std::process::exit(1);
    }
}
