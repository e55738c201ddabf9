//! One server instance's life in the cluster: connect (Redis, SQL), wait for or run task-state
//! recovery, register, persist the outbox, run the periodic jobs ([`jobs`]) and leave cleanly.
//!
//! The app crate only chooses options and binds handlers; everything an instance does by itself,
//! without a request, starts here.

mod jobs;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claudebench_contract::error::Error;
use claudebench_contract::event::EventDef;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::coordination::leader::LeaderElector;
use crate::coordination::tasks::{TASK_STREAMS, Tasks};
use crate::coordination::{Coordination, CoordinationConfig};
use crate::leases::Leases;
use crate::policy::HookRules;
use crate::recovery::{EpochCheck, RecoveryStats, check_partition_count, ensure_epoch, rehydrate, top_up_ids};
use crate::services::Domain;
use crate::sessions::Sessions;
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::config::{EventOverride, RuntimeConfig};
use claudebench_runtime::context::Services;
use claudebench_runtime::keys::Keys;
use claudebench_runtime::metrics::Metrics;
use claudebench_runtime::persist::{Persister, SqlStore};
use claudebench_runtime::redis::server::{RedisServer, ensure_server};
use claudebench_runtime::redis::{RedisHandle, RedisOptions};
use claudebench_runtime::scripts::{self, Lua};
use claudebench_runtime::transport::serving::Serving;

/// How to run one instance.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub runtime: RuntimeConfig,
    pub coordination: CoordinationConfig,
    /// This instance's id (default `server-<host>-<pid>`).
    pub instance_id: String,
    /// Run the SQL persister (and connect the SQL store).
    pub persist: bool,
    /// Run the periodic jobs (heartbeat, leadership, sweeps, metrics flush, retention).
    pub background_jobs: bool,
    /// A YAML (`.yaml`/`.yml`) or JSON file of hook rules replacing the built-in ones
    /// (`CLAUDEBENCH_HOOK_RULES`).
    pub hook_rules: Option<PathBuf>,
    /// Per-event policy from the configuration file (rate limit, timeout, circuit, cache).
    pub event_overrides: BTreeMap<String, EventOverride>,
}

/// A running instance: its domain (what handlers use, over the runtime's shared services) and
/// its background work.
pub struct Node {
    pub domain: Arc<Domain>,
    stop: watch::Sender<bool>,
    jobs: Vec<JoinHandle<()>>,
    elector: Option<LeaderElector>,
    /// Keeps a private redis-server alive as long as the node.
    _redis_server: RedisServer,
}

/// How often every instance checks that Redis still holds task state.
const EPOCH_CHECK_PERIOD: Duration = Duration::from_millis(250);
/// How long a starting instance waits for another instance's recovery before giving up.
const STARTUP_RECOVERY_WAIT: Duration = Duration::from_secs(120);

impl Node {
    /// Connect everything, recover task state if Redis lost it, register this instance and
    /// start the background work. `all_events` is the generated event table; the node serves
    /// the part the configuration selects.
    pub async fn start(options: &NodeOptions, all_events: &[EventDef]) -> Result<Node, Error> {
        let server = ensure_server(&options.runtime).await?;
        let mut redis_options = RedisOptions::from_config(&options.runtime);
        redis_options.url = server.url();
        let redis = RedisHandle::connect(redis_options).await?;
        let keys = Keys::new(&options.runtime.key_prefix);
        let store = if options.persist { Some(SqlStore::from_config(&options.runtime).await?) } else { None };
        let hook_rules = match &options.hook_rules {
            // YAML or JSON, by the file's extension.
            Some(path) => HookRules::from_file(path)?,
            None => HookRules::builtin()?,
        }
        .compile()?;
        let mut tasks = Tasks::new(keys.clone(), options.coordination.clone());
        if let Some(store) = &store {
            tasks = tasks.with_store(store.clone());
        }
        let coord = Coordination::with_tasks(tasks, keys.clone(), options.coordination.clone());
        let runtime = Arc::new(Services {
            instance_id: options.instance_id.clone(),
            bus: EventBus::new(&redis, keys.clone(), options.runtime.stream_maxlen),
            metrics: Arc::new(Metrics::new()),
            store: store.clone(),
            // The table lives as long as the process: leaked once per started node.
            events: Vec::leak(options.runtime.served_events(all_events, &options.event_overrides)),
            started: Instant::now(),
            serving: Serving::default(),
            config: options.runtime.clone(),
            keys,
            redis,
        });
        let sessions = Sessions::new(&runtime.bus, &coord, &runtime.instance_id, runtime.config.stream_maxlen);
        let leases = Leases::new(&runtime.bus, options.coordination.leases);
        let domain = Arc::new(Domain { runtime, coord, guard: hook_rules, sessions, leases });

        // Every script in Redis' cache before the first request, so none pays for NOSCRIPT.
        let scripts: Vec<&Lua> = scripts::ALL
            .iter()
            .copied()
            .chain(crate::coordination::scripts())
            .chain(crate::recovery::SCRIPTS.iter().copied())
            .chain(crate::leases::SCRIPTS.iter().copied())
            .chain(crate::sessions::agents::SCRIPTS.iter().copied())
            .collect();
        scripts::preload(&mut domain.runtime.redis.conn(), &scripts).await?;
        let mut con = domain.runtime.redis.conn();
        check_partition_count(&mut con, &domain.runtime.keys, &domain.coord.tasks, store.as_ref()).await?;

        // A Redis without the epoch marker never held this deployment's task state, or lost it:
        // recover what SQL kept (or wait while another instance does) before serving.
        let deadline = Instant::now() + STARTUP_RECOVERY_WAIT;
        while check_epoch(&domain).await? == EpochCheck::RecoveringElsewhere {
            if Instant::now() > deadline {
                return Err(Error::unavailable("another instance has been recovering task state for too long"));
            }
            tokio::time::sleep(EPOCH_CHECK_PERIOD).await;
        }
        if let Some(store) = &store {
            top_up_ids(&domain.runtime.redis, &domain.coord.tasks, store).await?;
        }
        let mut con = domain.runtime.redis.conn();
        domain.coord.instances.register(&mut con, &domain.runtime.instance_id, &["server".to_string()]).await?;

        let (stop, stop_rx) = watch::channel(false);
        let mut node = Node { domain, stop, jobs: Vec::new(), elector: None, _redis_server: server };
        if let Some(store) = store {
            // One persister per task partition: a read may not cross hash slots.
            for part in node.domain.coord.tasks.partitions().all() {
                let persister = Persister::new(
                    &node.domain.runtime.redis,
                    &node.domain.runtime.keys,
                    store.clone(),
                    TASK_STREAMS.map(String::from).to_vec(),
                    Some(TASK_STREAMS.iter().map(|e| part.stream(e)).collect()),
                    &node.domain.runtime.instance_id,
                )
                .await?
                .with_metrics(node.domain.runtime.metrics.clone());
                let mut rx = stop_rx.clone();
                node.jobs.push(tokio::spawn(
                    persister.run_until(async move { while rx.changed().await.is_ok() && !*rx.borrow() {} }),
                ));
            }
        }
        if options.background_jobs {
            let (jobs, elector) = jobs::start(&node.domain, options, stop_rx);
            node.jobs.extend(jobs);
            node.elector = Some(elector);
        }
        tracing::info!(instance = %node.domain.runtime.instance_id, "instance started");
        Ok(node)
    }

    /// Stop the jobs, unregister this instance (its tasks go back to the queue), give up
    /// leadership and flush the counters. Call once, at shutdown.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for job in self.jobs.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), job).await;
        }
        if let Some(elector) = self.elector.take() {
            elector.shutdown().await;
        }
        crate::counters::flush(&self.domain).await;
        let mut con = self.domain.runtime.redis.conn();
        if let Err(e) = self.domain.coord.instances.unregister(&mut con, &self.domain.runtime.instance_id).await {
            tracing::warn!(error = %e, "could not unregister this instance");
        }
        tracing::info!(instance = %self.domain.runtime.instance_id, "instance stopped");
    }
}

/// One epoch check (see [`crate::recovery`]), recovering task state from SQL when it was lost.
async fn check_epoch(s: &Domain) -> Result<EpochCheck, Error> {
    let check = ensure_epoch(
        &s.runtime.redis,
        &s.runtime.keys,
        &s.coord.tasks,
        s.runtime.store.as_ref(),
        &s.runtime.instance_id,
        &s.runtime.metrics,
    )
    .await?;
    if let EpochCheck::Recovered(stats) = check {
        tracing::info!(?stats, "task state recovered");
    }
    Ok(check)
}

/// Write every task SQL has and Redis lacks back into Redis, ids raised first (an operator's
/// repair; instances recover by themselves after a Redis data loss).
pub async fn rehydrate_tasks(domain: &Domain, store: &SqlStore) -> Result<RecoveryStats, Error> {
    rehydrate(&domain.runtime.redis, &domain.coord.tasks, store).await
}
