//! Wiring of one server process: services, the pipeline over the generated handlers, and the
//! background jobs (heartbeat, leadership, failure sweeps, persistence, metrics, retention).

use std::sync::Arc;
use std::time::Duration;

use claudebench_generated::error::Error;
use claudebench_generated::event::EventDef;
use claudebench_generated::events::{self, EventId, Input, Output};
use claudebench_runtime::backend::{BoxFuture, Payload};
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::bus::consumer::group_backlog;
use claudebench_runtime::config::{ConfigFile, RuntimeConfig};
use claudebench_runtime::context::{Ctx, Services};
use claudebench_runtime::coordination::guard::HookRules;
use claudebench_runtime::coordination::leader::LeaderElector;
use claudebench_runtime::coordination::{Coordination, CoordinationConfig};
use claudebench_runtime::keys::Keys;
use claudebench_runtime::metrics::Metrics;
use claudebench_runtime::persist::{
    DeadLetters, EpochCheck, PERSISTER_GROUP, Persister, RecoveryStats, SqlStore, ensure_epoch, rehydrate, top_up_ids,
};
use claudebench_runtime::pipeline::{EventHandlers, Pipeline};
use claudebench_runtime::redis::server::{RedisServer, ensure_server};
use claudebench_runtime::redis::{RedisHandle, RedisOptions};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::handlers::Handlers;

/// Streams whose entries carry task snapshots for the SQL outbox.
pub use claudebench_runtime::coordination::tasks::TASK_STREAMS as PERSISTED_STREAMS;

impl EventHandlers for Handlers {
    type Input = Input;

    fn parse(&self, event: &'static EventDef, payload: Payload<'_>) -> Result<Input, Error> {
        let id = EventId::from_name(event.name)
            .ok_or_else(|| Error::internal(format!("event `{}` is not in the generated table", event.name)))?;
        let parsed = match payload {
            Payload::Bytes(bytes) => Input::parse(id, bytes),
            Payload::Value(value) => Input::from_value(id, &value),
        };
        parsed.map_err(Error::from)
    }

    fn input_json(&self, input: &Input) -> Value {
        input.to_value()
    }

    fn call<'a>(&'a self, ctx: &'a Ctx, input: Input) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(async move {
            let output = claudebench_generated::handlers::call(self, ctx, input).await?;
            let value = output.to_value();
            // The output is published to clients as the event's schema says; a handler that
            // breaks it is a bug, reported as such rather than sent on.
            Output::from_value(output.event(), &value).map_err(|e| {
                Error::internal(format!("{} produced an output that breaks its schema: {e}", ctx.event.name))
            })?;
            Ok(value)
        })
    }
}

/// How to start an [`App`].
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub runtime: RuntimeConfig,
    pub coordination: CoordinationConfig,
    /// This process's instance id (default `server-<host>-<pid>`).
    pub instance_id: String,
    /// Run the SQL persister (and connect the SQL store).
    pub persist: bool,
    /// Run the periodic jobs (heartbeat, leadership, sweeps, metrics flush, retention).
    pub background_jobs: bool,
    /// A YAML (`.yaml`/`.yml`) or JSON file of hook rules replacing the built-in ones
    /// (`CLAUDEBENCH_HOOK_RULES`).
    pub hook_rules: Option<std::path::PathBuf>,
    /// Per-event policy from the configuration file (rate limit, timeout, circuit, cache).
    pub event_overrides: std::collections::BTreeMap<String, claudebench_runtime::config::EventOverride>,
}

impl AppOptions {
    /// Options from the environment, with every job on.
    pub fn from_env() -> Result<Self, Error> {
        let runtime = RuntimeConfig::from_env()?;
        let mut coordination =
            CoordinationConfig { stream_maxlen: runtime.stream_maxlen, ..CoordinationConfig::default() };
        if let Some(ms) = env_u64("CLAUDEBENCH_FAILURE_TIMEOUT_MS")? {
            coordination.failure_timeout_ms = ms.max(100);
        }
        if let Some(n) = env_u64("CLAUDEBENCH_WORKER_CAPACITY")? {
            coordination.worker_capacity = n.clamp(1, u32::MAX as u64) as u32;
        }
        Ok(AppOptions {
            runtime,
            coordination,
            instance_id: std::env::var("INSTANCE_ID")
                .ok()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(default_instance_id),
            persist: true,
            background_jobs: true,
            hook_rules: std::env::var_os("CLAUDEBENCH_HOOK_RULES").map(Into::into),
            event_overrides: config_file()?.map(|f| f.events).unwrap_or_default(),
        })
    }
}

/// The configuration file named by `CLAUDEBENCH_CONFIG` (set by `--config`), checked against the
/// event table; `None` without one.
pub fn config_file() -> Result<Option<ConfigFile>, Error> {
    match std::env::var_os("CLAUDEBENCH_CONFIG").filter(|v| !v.is_empty()) {
        Some(path) => ConfigFile::load(std::path::Path::new(&path), &events::EVENTS).map(Some),
        None => Ok(None),
    }
}

fn env_u64(name: &str) -> Result<Option<u64>, Error> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map(Some).map_err(|_| {
            Error::new(
                claudebench_generated::error::ErrorCode::Validation,
                format!("{name} must be a whole number, got `{v}`"),
            )
        }),
        _ => Ok(None),
    }
}

fn default_instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let host = if host.is_empty() { "local".to_string() } else { host };
    format!("server-{host}-{}", std::process::id())
}

/// One running server process (without its transports).
pub struct App {
    pub pipeline: Arc<Pipeline<Handlers>>,
    pub services: Arc<Services>,
    stop: watch::Sender<bool>,
    jobs: Vec<JoinHandle<()>>,
    elector: Option<LeaderElector>,
    /// Keeps a private redis-server alive as long as the app.
    _redis_server: RedisServer,
}

impl App {
    /// Connect everything, register this instance and start the background jobs.
    pub async fn start(options: AppOptions) -> Result<App, Error> {
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
        let services = Arc::new(Services {
            instance_id: options.instance_id.clone(),
            bus: EventBus::new(&redis, keys.clone(), options.runtime.stream_maxlen),
            coord: Coordination::new(keys.clone(), options.coordination.clone()),
            metrics: Arc::new(Metrics::new()),
            hook_rules,
            store: store.clone(),
            // The table lives as long as the process: leaked once per started app.
            events: Vec::leak(options.runtime.served_events(&events::EVENTS, &options.event_overrides)),
            started: std::time::Instant::now(),
            config: options.runtime.clone(),
            keys,
            redis,
        });
        let pipeline = Arc::new(Pipeline::new(Handlers, services.clone()).await?);

        // A Redis without the epoch marker never held this deployment's task state, or lost it:
        // recover what SQL kept (or wait while another instance does) before serving.
        let deadline = std::time::Instant::now() + STARTUP_RECOVERY_WAIT;
        while check_epoch(&services).await? == EpochCheck::RecoveringElsewhere {
            if std::time::Instant::now() > deadline {
                return Err(Error::unavailable("another instance has been recovering task state for too long"));
            }
            tokio::time::sleep(EPOCH_CHECK_PERIOD).await;
        }
        if let Some(store) = &store {
            top_up_ids(&services.redis, &services.keys, store).await?;
        }
        let mut con = services.redis.conn();
        services.coord.instances.register(&mut con, &services.instance_id, &["server".to_string()]).await?;

        let (stop, stop_rx) = watch::channel(false);
        let mut app = App { pipeline, services, stop, jobs: Vec::new(), elector: None, _redis_server: server };
        if let Some(store) = store {
            let persister = Persister::new(
                &app.services.redis,
                &app.services.keys,
                store,
                PERSISTED_STREAMS.map(String::from).to_vec(),
                &app.services.instance_id,
            )
            .await?
            .with_metrics(app.services.metrics.clone());
            let mut rx = stop_rx.clone();
            app.jobs.push(tokio::spawn(
                persister.run_until(async move { while rx.changed().await.is_ok() && !*rx.borrow() {} }),
            ));
        }
        if options.background_jobs {
            app.start_jobs(&options, stop_rx);
        }
        tracing::info!(instance = %app.services.instance_id, "runtime started");
        Ok(app)
    }

    fn start_jobs(&mut self, options: &AppOptions, stop: watch::Receiver<bool>) {
        let failure_timeout = Duration::from_millis(options.coordination.failure_timeout_ms);
        let lease_ms = options.coordination.failure_timeout_ms.clamp(1_000, 30_000);
        let elector = LeaderElector::spawn(
            self.services.coord.leader.clone(),
            self.services.redis.conn(),
            self.services.instance_id.clone(),
            lease_ms,
        );
        let term = elector.watch();
        self.elector = Some(elector);

        // Heartbeat and gossip: every instance, three times per failure timeout.
        let s = self.services.clone();
        self.jobs.push(every(failure_timeout / 3, stop.clone(), move || {
            let s = s.clone();
            async move {
                let mut con = s.redis.conn();
                match s.coord.instances.heartbeat(&mut con, &s.instance_id).await {
                    Ok(true) => {}
                    // Declared failed (e.g. a long pause) or expired: come back as a new member.
                    Ok(false) => {
                        tracing::warn!(instance = %s.instance_id, "this instance was no longer registered; registering again");
                        if let Err(e) = s.coord.instances.register(&mut con, &s.instance_id, &["server".to_string()]).await {
                            tracing::warn!(error = %e, "re-registration failed");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
                }
                let _ = s.coord.gossip.report(&mut con, &s.instance_id, claudebench_runtime::coordination::gossip::HealthStatus::Healthy).await;
            }
        }));

        // Failure sweep and retention: only the current leader (the sweep is safe anywhere,
        // but one sweeper per cluster is enough and keeps the log readable).
        let s = self.services.clone();
        let t = term.clone();
        let retention = options.runtime.stream_retention;
        self.jobs.push(every(failure_timeout / 2, stop.clone(), move || {
            let (s, t) = (s.clone(), t.clone());
            async move {
                if t.borrow().is_none() {
                    return;
                }
                let mut con = s.redis.conn();
                match s.coord.instances.sweep(&mut con).await {
                    Ok(failed) => {
                        for f in failed {
                            tracing::warn!(instance = %f.id, requeued = f.tasks_reassigned, "instance failed; its tasks were re-queued");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "failure sweep failed"),
                }
                // Outbox streams keep every entry the persister has not acknowledged.
                let group = s.store.as_ref().map(|_| PERSISTER_GROUP);
                if let Err(e) = s.bus.trim(&PERSISTED_STREAMS, group, retention).await {
                    tracing::warn!(error = %e, "stream retention failed; retrying next period");
                }
            }
        }));

        // Redis data loss: every instance looks for the epoch marker a few times a second and
        // recovers (one at a time) when it is gone. Task scripts refuse to run meanwhile.
        let s = self.services.clone();
        self.jobs.push(every(EPOCH_CHECK_PERIOD, stop.clone(), move || {
            let s = s.clone();
            async move {
                if let Err(e) = check_epoch(&s).await {
                    tracing::warn!(error = %e, "epoch check failed; retrying");
                }
            }
        }));

        // Task ids: keep a reservation in SQL well ahead of the Redis counter.
        if self.services.store.is_some() {
            let s = self.services.clone();
            self.jobs.push(every(Duration::from_secs(1), stop.clone(), move || {
                let s = s.clone();
                async move {
                    if let Some(store) = &s.store
                        && let Err(e) = top_up_ids(&s.redis, &s.keys, store).await
                    {
                        tracing::warn!(error = %e, "task id reservation failed; creates continue until the reserved ids run out");
                    }
                }
            }));
        }

        // Cluster-wide counters: add what this process counted to the shared hash; refresh the
        // queue-depth and outbox-lag gauges of `/metrics`.
        let s = self.services.clone();
        self.jobs.push(every(Duration::from_secs(1), stop, move || {
            let s = s.clone();
            async move {
                flush_counters(&s).await;
                refresh_gauges(&s).await;
            }
        }));
    }

    /// Stop the jobs, unregister this instance (its tasks go back to the queue), give up
    /// leadership and flush the counters. Idempotent enough to call once at shutdown.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for job in self.jobs.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), job).await;
        }
        if let Some(elector) = self.elector.take() {
            elector.shutdown().await;
        }
        flush_counters(&self.services).await;
        let mut con = self.services.redis.conn();
        if let Err(e) = self.services.coord.instances.unregister(&mut con, &self.services.instance_id).await {
            tracing::warn!(error = %e, "could not unregister this instance");
        }
        tracing::info!(instance = %self.services.instance_id, "runtime stopped");
    }
}

/// How often every instance checks that Redis still holds task state.
const EPOCH_CHECK_PERIOD: Duration = Duration::from_millis(250);
/// How long a starting server waits for another instance's recovery before giving up.
const STARTUP_RECOVERY_WAIT: Duration = Duration::from_secs(120);

/// One epoch check (see `persist::recovery`), recovering task state from SQL when it was lost.
async fn check_epoch(s: &Services) -> Result<EpochCheck, Error> {
    let check = ensure_epoch(&s.redis, &s.keys, &s.coord.tasks, s.store.as_ref(), &s.instance_id, &s.metrics).await?;
    if let EpochCheck::Recovered(stats) = check {
        tracing::info!(?stats, "task state recovered");
    }
    Ok(check)
}

/// Write every task SQL has and Redis lacks back into Redis, ids raised first (an operator's
/// repair; the server recovers by itself after a Redis data loss).
pub async fn rehydrate_tasks(services: &Services, store: &SqlStore) -> Result<RecoveryStats, Error> {
    rehydrate(&services.redis, &services.keys, &services.coord.tasks, store).await
}

/// The Redis hash holding the cluster-wide counters (see `system.metrics`).
pub fn counters_key(keys: &Keys) -> String {
    format!("{}:metrics:counters", keys.prefix())
}

async fn flush_counters(s: &Services) {
    let totals = s.metrics.take_totals();
    if totals == Default::default() {
        return;
    }
    let mut con = s.redis.conn();
    let result: Result<(), redis::RedisError> = redis::pipe()
        .atomic()
        .hincr(counters_key(&s.keys), "eventsProcessed", totals.events)
        .hincr(counters_key(&s.keys), "latencyMicros", totals.latency_us)
        .hincr(counters_key(&s.keys), "tasksCompleted", totals.tasks_completed)
        .query_async(&mut con)
        .await;
    if result.is_err() {
        s.metrics.restore_totals(totals);
    }
}

async fn refresh_gauges(s: &Services) {
    let mut con = s.redis.conn();
    if let Ok(depth) = redis::cmd("ZCARD").arg(s.keys.tasks_pending()).query_async::<i64>(&mut con).await {
        s.metrics.set_queue_depth("pending", depth);
    }
    if s.store.is_some() {
        let (mut lag, mut oldest) = (0i64, None::<u64>);
        for event in PERSISTED_STREAMS {
            let key = s.keys.stream(event);
            let Ok(backlog) = group_backlog(&mut con, &key, PERSISTER_GROUP).await else { return };
            s.metrics.set_stream_lag(event, PERSISTER_GROUP, backlog.entries as i64);
            lag += backlog.entries as i64;
            oldest = match (oldest, backlog.oldest_ms) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let age = oldest.map(|ms| (claudebench_runtime::coordination::now_ms() - ms as i64).max(0)).unwrap_or(0);
        s.metrics.set_outbox(lag, age);
        if let Ok(n) = DeadLetters::new(&s.redis, &s.keys).count().await {
            s.metrics.set_dead_letters(n as i64);
        }
    }
}

/// Run `job` every `period` until `stop` turns true.
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
