//! The periodic work of an instance, each job on its own timer until the node stops:
//!
//! | job | who | period |
//! |---|---|---|
//! | heartbeat + gossip (re-register when declared failed) | every instance | failure timeout / 3 |
//! | failure sweep + outbox retention | the leader | failure timeout / 2 |
//! | finished tasks leave Redis (with SQL) | the leader | 1 s |
//! | lapsed file leases removed (`lease.expired`) | the leader | 1 s |
//! | epoch check (recover task state after a Redis loss) | every instance | 250 ms |
//! | task-id reservation in SQL | every instance with SQL | 1 s |
//! | counter flush + gauges | every instance | 1 s |

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{EPOCH_CHECK_PERIOD, NodeOptions, check_epoch};
use crate::coordination::gossip::HealthStatus;
use crate::coordination::leader::LeaderElector;
use crate::coordination::tasks::TASK_STREAMS;
use crate::counters;
use crate::recovery::top_up_ids;
use crate::services::Domain;
use claudebench_runtime::bus::consumer::group_backlog;
use claudebench_runtime::persist::{DeadLetters, PERSISTER_GROUP};

/// How often finished tasks past the retention are looked for, and how many per partition at a
/// time: at 1 s and 2,000 per partition the job keeps up with 2,000 finished tasks a second per
/// partition.
const RETIRE_PERIOD: Duration = Duration::from_secs(1);
const RETIRE_BATCH: usize = 2_000;
/// How often lapsed file leases are looked for.
const LEASE_SWEEP_PERIOD: Duration = Duration::from_secs(1);

/// Start every job (and the leader election the leader-only ones follow).
pub(super) fn start(
    services: &Arc<Domain>,
    options: &NodeOptions,
    stop: watch::Receiver<bool>,
) -> (Vec<JoinHandle<()>>, LeaderElector) {
    let failure_timeout = Duration::from_millis(options.coordination.failure_timeout_ms);
    let lease_ms = options.coordination.leader_lease_ms();
    let elector = LeaderElector::spawn(
        services.coord.leader.clone(),
        services.runtime.redis.conn(),
        services.runtime.instance_id.clone(),
        lease_ms,
    );
    let term = elector.watch();
    let mut jobs = Vec::new();

    // Heartbeat and gossip: every instance, at the interval it tells registering instances.
    let s = services.clone();
    let heartbeat = Duration::from_millis(options.coordination.heartbeat_interval_ms());
    jobs.push(every(heartbeat, stop.clone(), move || {
        let s = s.clone();
        async move {
            let mut con = s.runtime.redis.conn();
            match s.coord.instances.heartbeat(&mut con, &s.runtime.instance_id).await {
                Ok(true) => {}
                // Declared failed (e.g. a long pause) or expired: come back as a new member.
                Ok(false) => {
                    tracing::warn!(instance = %s.runtime.instance_id, "this instance was no longer registered; registering again");
                    if let Err(e) = s.coord.instances.register(&mut con, &s.runtime.instance_id, &["server".to_string()]).await {
                        tracing::warn!(error = %e, "re-registration failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            }
            let _ = s.coord.gossip.report(&mut con, &s.runtime.instance_id, HealthStatus::Healthy).await;
        }
    }));

    // Failure sweep and retention: only the current leader (the sweep is safe anywhere, but one
    // sweeper per cluster is enough and keeps the log readable).
    let s = services.clone();
    let retention = options.runtime.stream_retention;
    jobs.push(every(failure_timeout / 2, stop.clone(), move || {
        let (s, term) = (s.clone(), term.clone());
        async move {
            if term.borrow().is_none() {
                return;
            }
            let mut con = s.runtime.redis.conn();
            match s.coord.instances.sweep(&mut con).await {
                Ok(failed) => {
                    for f in failed {
                        tracing::warn!(instance = %f.id, requeued = f.tasks_reassigned, "instance failed; its tasks were re-queued");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "failure sweep failed"),
            }
            // Outbox streams keep every entry the persister has not acknowledged.
            let group = s.runtime.store.as_ref().map(|_| PERSISTER_GROUP);
            let streams: Vec<String> = s
                .coord
                .tasks
                .partitions()
                .all()
                .iter()
                .flat_map(|p| TASK_STREAMS.iter().map(|e| p.stream(e)))
                .collect();
            if let Err(e) = s.runtime.bus.trim_streams(&streams, group, retention).await {
                tracing::warn!(error = %e, "stream retention failed; retrying next period");
            }
        }
    }));

    // Redis data loss: every instance looks for the epoch marker a few times a second and
    // recovers (one at a time) when it is gone. Task scripts refuse to run meanwhile.
    let s = services.clone();
    jobs.push(every(EPOCH_CHECK_PERIOD, stop.clone(), move || {
        let s = s.clone();
        async move {
            if let Err(e) = check_epoch(&s).await {
                tracing::warn!(error = %e, "epoch check failed; retrying");
            }
        }
    }));

    // Task ids: keep a reservation in SQL well ahead of the Redis counter.
    if services.runtime.store.is_some() {
        let s = services.clone();
        jobs.push(every(Duration::from_secs(1), stop.clone(), move || {
            let s = s.clone();
            async move {
                if let Some(store) = &s.runtime.store
                    && let Err(e) = top_up_ids(&s.runtime.redis, &s.coord.tasks, store).await
                {
                    tracing::warn!(error = %e, "task id reservation failed; creates continue until the reserved ids run out");
                }
            }
        }));
    }

    // Hot/cold: finished tasks whose final state SQL holds leave Redis after the retention.
    // Every instance may run it (the scripts re-check each task), but one is enough: the leader.
    if services.runtime.store.is_some() {
        let (s, term) = (services.clone(), elector.watch());
        jobs.push(every(RETIRE_PERIOD, stop.clone(), move || {
            let (s, term) = (s.clone(), term.clone());
            async move {
                if term.borrow().is_none() {
                    return;
                }
                let mut con = s.runtime.redis.conn();
                match s.coord.tasks.retire(&mut con, RETIRE_BATCH).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(tasks = n, "finished tasks left Redis (SQL answers for them)"),
                    Err(e) => tracing::warn!(error = %e, "retiring finished tasks failed; retrying next period"),
                }
            }
        }));
    }

    // File leases: lapsed ones are free already (every script judges by expiry); removing them
    // announces `lease.expired` about when it happens. The scripts make a second sweeper
    // harmless, so a leadership hand-over needs no care.
    let (s, term) = (services.clone(), elector.watch());
    jobs.push(every(LEASE_SWEEP_PERIOD, stop.clone(), move || {
        let (s, term) = (s.clone(), term.clone());
        async move {
            if term.borrow().is_none() {
                return;
            }
            match s.leases.sweep().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(leases = n, "lapsed file leases removed"),
                Err(e) => tracing::warn!(error = %e, "lease sweep failed; retrying next period"),
            }
        }
    }));

    // Cluster-wide counters: add what this process counted to the shared hash; refresh the
    // queue-depth and outbox-lag gauges of `/metrics`.
    let s = services.clone();
    jobs.push(every(Duration::from_secs(1), stop, move || {
        let s = s.clone();
        async move {
            counters::flush(&s).await;
            refresh_gauges(&s).await;
        }
    }));
    (jobs, elector)
}

async fn refresh_gauges(s: &Domain) {
    let mut con = s.runtime.redis.conn();
    let parts = s.coord.tasks.partitions().all();
    let mut depth = 0;
    for part in parts {
        match redis::cmd("ZCARD").arg(part.pending()).query_async::<i64>(&mut con).await {
            Ok(n) => depth += n,
            Err(_) => return,
        }
    }
    s.runtime.metrics.set_queue_depth("pending", depth);
    if s.runtime.store.is_some() {
        let (mut lag, mut oldest) = (0i64, None::<u64>);
        for event in TASK_STREAMS {
            let mut event_lag = 0;
            for part in parts {
                let Ok(backlog) = group_backlog(&mut con, &part.stream(event), PERSISTER_GROUP).await else { return };
                event_lag += backlog.entries as i64;
                oldest = match (oldest, backlog.oldest_ms) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            s.runtime.metrics.set_stream_lag(event, PERSISTER_GROUP, event_lag);
            lag += event_lag;
        }
        let age = oldest.map(|ms| (crate::coordination::now_ms() - ms as i64).max(0)).unwrap_or(0);
        s.runtime.metrics.set_outbox(lag, age);
        if let Ok(n) = DeadLetters::new(&s.runtime.redis, &s.runtime.keys).count().await {
            s.runtime.metrics.set_dead_letters(n as i64);
        }
    }
}

/// The scheduler: run `job` every `period` (a late tick waits, never bursts) until `stop` turns
/// true.
fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, job: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => job().await,
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    })
}
