//! Wiring of one server process: options from the environment, the runtime's node (services and
//! background work) and the pipeline over the generated handlers.

use std::sync::Arc;

use claudebench_domain::coordination::CoordinationConfig;
use claudebench_domain::leases::{ConflictAnswer, LeaseConfig, MAX_TTL_MS};
use claudebench_domain::node::{Node, NodeOptions};
use claudebench_domain::{Ctx, Domain};
use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::event::EventDef;
use claudebench_generated::events::{self, EventId, Input, Output};
use claudebench_runtime::backend::{BoxFuture, Payload};
use claudebench_runtime::config::{ConfigFile, RuntimeConfig};
use claudebench_runtime::context::{RequestMeta, Services};
use claudebench_runtime::keys::MAX_PARTITIONS;
use claudebench_runtime::pipeline::{EventHandlers, Pipeline};
use claudebench_runtime::resilience::OwnLimit;
use serde_json::Value;

use crate::handlers::Handlers;

/// The pipeline's typed half: the generated dispatch over [`Handlers`], each call given the
/// instance's domain.
pub struct Dispatch {
    domain: Arc<Domain>,
}

impl Dispatch {
    pub fn new(domain: Arc<Domain>) -> Self {
        Dispatch { domain }
    }
}

impl EventHandlers for Dispatch {
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

    fn hook_routes(&self) -> &'static [claudebench_runtime::claude_code::HookRoute] {
        events::HOOK_ROUTES
    }

    /// `task.create` checks the caller's limit inside its create script (one Redis round trip
    /// on the hottest write path, issue 13).
    fn checks_own_rate_limit(&self, event: &'static EventDef) -> bool {
        EventId::from_name(event.name) == Some(EventId::TaskCreate)
    }

    fn call(
        &self,
        event: &'static EventDef,
        meta: RequestMeta,
        input: Input,
        own_limit: Option<OwnLimit>,
    ) -> BoxFuture<'_, Result<Value, Error>> {
        Box::pin(async move {
            let ctx = Ctx { meta, event, domain: self.domain.clone(), own_limit };
            let output = claudebench_generated::handlers::call(&Handlers, &ctx, input).await?;
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

/// Options from the environment (and the configuration file it names), with every job on.
pub fn options_from_env() -> Result<NodeOptions, Error> {
    let runtime = RuntimeConfig::from_env()?;
    // An unknown tool set stops the start rather than serving fewer tools than asked.
    runtime.mcp_toolsets.check(&events::EVENTS)?;
    let mut coordination = CoordinationConfig { stream_maxlen: runtime.stream_maxlen, ..CoordinationConfig::default() };
    if let Some(ms) = env_u64("CLAUDEBENCH_FAILURE_TIMEOUT_MS")? {
        coordination.failure_timeout_ms = ms.max(100);
    }
    if let Some(n) = env_u64("CLAUDEBENCH_PARTITIONS")? {
        if !(1..=u64::from(MAX_PARTITIONS)).contains(&n) {
            return Err(Error::internal(format!("CLAUDEBENCH_PARTITIONS={n} must be 1..={MAX_PARTITIONS}")));
        }
        coordination.partitions = n as u32;
    }
    if let Some(s) = env_u64("CLAUDEBENCH_TASK_RETENTION_S")? {
        coordination.task_retention_ms = s.saturating_mul(1_000);
    }
    if let Some(n) = env_u64("CLAUDEBENCH_WORKER_CAPACITY")? {
        coordination.worker_capacity = n.clamp(1, u32::MAX as u64) as u32;
    }
    coordination.leases = lease_config(|name| std::env::var(name).ok())?;
    Ok(NodeOptions {
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

/// The configuration file named by `CLAUDEBENCH_CONFIG` (set by `--config`), checked against the
/// event table; `None` without one.
pub fn config_file() -> Result<Option<ConfigFile>, Error> {
    match std::env::var_os("CLAUDEBENCH_CONFIG").filter(|v| !v.is_empty()) {
        Some(path) => ConfigFile::load(std::path::Path::new(&path), &events::EVENTS).map(Some),
        None => Ok(None),
    }
}

/// `CLAUDEBENCH_LEASE_TTL_S` (1..=86400, default 300) and `CLAUDEBENCH_LEASE_CONFLICT`
/// (`deny` | `ask`, default `deny`), read through `lookup`; a bad value stops the start.
pub fn lease_config(lookup: impl Fn(&str) -> Option<String>) -> Result<LeaseConfig, Error> {
    let mut config = LeaseConfig::default();
    let set = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if let Some(v) = set("CLAUDEBENCH_LEASE_TTL_S") {
        let max = MAX_TTL_MS / 1_000;
        match v.parse::<u64>() {
            Ok(s) if (1..=max).contains(&s) => config.ttl_ms = s * 1_000,
            _ => {
                return Err(Error::new(
                    ErrorCode::Validation,
                    format!("CLAUDEBENCH_LEASE_TTL_S must be a whole number of seconds from 1 to {max}, got `{v}`"),
                ));
            }
        }
    }
    if let Some(v) = set("CLAUDEBENCH_LEASE_CONFLICT") {
        config.conflict = ConflictAnswer::parse(&v).ok_or_else(|| {
            Error::new(ErrorCode::Validation, format!("CLAUDEBENCH_LEASE_CONFLICT must be `deny` or `ask`, got `{v}`"))
        })?;
    }
    Ok(config)
}

fn env_u64(name: &str) -> Result<Option<u64>, Error> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Error::new(ErrorCode::Validation, format!("{name} must be a whole number, got `{v}`"))),
        _ => Ok(None),
    }
}

fn default_instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let host = if host.is_empty() { "local".to_string() } else { host };
    format!("server-{host}-{}", std::process::id())
}

/// One running server process (without its transports): the node and the pipeline over this
/// crate's handlers.
pub struct App {
    pub pipeline: Arc<Pipeline<Dispatch>>,
    pub services: Arc<Services>,
    pub domain: Arc<Domain>,
    node: Node,
}

impl App {
    /// Start the node (connect, recover, register, background work) and build the pipeline.
    pub async fn start(options: NodeOptions) -> Result<App, Error> {
        let node = Node::start(&options, &events::EVENTS).await?;
        let domain = node.domain.clone();
        let services = domain.runtime.clone();
        let pipeline = match Pipeline::new(Dispatch::new(domain.clone()), services.clone()).await {
            Ok(pipeline) => Arc::new(pipeline),
            Err(e) => {
                node.shutdown().await;
                return Err(e);
            }
        };
        Ok(App { pipeline, services, domain, node })
    }

    /// Stop the node: its jobs, its registration (its tasks go back to the queue), leadership.
    pub async fn shutdown(self) {
        self.node.shutdown().await;
    }
}
