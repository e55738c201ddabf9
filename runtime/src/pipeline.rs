//! The handler pipeline: the one path every request takes, whatever its transport.
//!
//! validate → roles → rate limit → circuit breaker → cache → handler (with deadline, output
//! validated) → circuit outcome → cache fill → metrics.
//!
//! Publishing and persistence are not stages here because they are not separable from the
//! state change: the coordination scripts append the event to its stream (the outbox the
//! persister drains) in the same atomic call that changes Redis. An event whose handler checks
//! its rate limit in that same call ([`EventHandlers::checks_own_rate_limit`]) skips the
//! rate-limit stage and gets the limit to check: `task.create` is one Redis round trip.
//! Circuit state is read from a local copy kept fresh over pub/sub, and metrics are in process.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::event::EventDef;
use serde_json::Value;

use crate::backend::{Backend, BoxFuture, BusEvent, EventStream, Payload, Readiness};
use crate::context::{RequestMeta, Services};
use crate::resilience::circuit::counts_as_failure;
use crate::resilience::{Admission, CircuitBreakers, OwnLimit, RateLimiter, ResponseCache};

/// How long `GET /health` waits for Redis or SQL before reporting it down.
const READINESS_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The typed half of dispatch, implemented over the generated code by the application (the
/// runtime itself stays spec-agnostic: it only sees event definitions and JSON).
pub trait EventHandlers: Send + Sync + 'static {
    /// A validated, typed input of any event.
    type Input: Send + 'static;

    /// Validate a request body into the event's typed input (defaults filled), or a
    /// `validation` error listing every issue.
    fn parse(&self, event: &'static EventDef, payload: Payload<'_>) -> Result<Self::Input, Error>;

    /// The canonical JSON of a validated input (the cache key is derived from it).
    fn input_json(&self, input: &Self::Input) -> Value;

    /// The Claude Code hook table (generated from the spec's `claude_code` routes).
    fn hook_routes(&self) -> &'static [claudebench_contract::hook::HookRoute] {
        &[]
    }

    /// Whether `event`'s handler checks the caller's rate limit itself, atomically with its
    /// change (it is then given the limit as an [`OwnLimit`] and must refuse with
    /// `rate_limited`). Only worth it on hot paths: it saves the limiter's round trip.
    fn checks_own_rate_limit(&self, _event: &'static EventDef) -> bool {
        false
    }

    /// Run the event's handler for the caller `meta` and return its output as JSON, validated
    /// against the output schema (an invalid output is an `internal` error: the handler broke
    /// the contract). The implementation gives its handlers whatever context they need, and
    /// `own_limit` to the handlers that check their own rate limit.
    fn call(
        &self,
        event: &'static EventDef,
        meta: RequestMeta,
        input: Self::Input,
        own_limit: Option<OwnLimit>,
    ) -> BoxFuture<'_, Result<Value, Error>>;
}

/// Dispatches events through every stage; implements [`Backend`] for the transports.
pub struct Pipeline<H> {
    handlers: H,
    services: Arc<Services>,
    by_name: HashMap<&'static str, &'static EventDef>,
    limiter: RateLimiter,
    circuits: CircuitBreakers,
    cache: ResponseCache,
    /// Fallback outputs, parsed once (the spec checker proved they validate).
    fallbacks: HashMap<&'static str, Value>,
}

impl<H: EventHandlers> Pipeline<H> {
    /// A pipeline over `services`; starts the circuit-state listener.
    pub async fn new(handlers: H, services: Arc<Services>) -> Result<Self, Error> {
        let mut by_name = HashMap::new();
        let mut fallbacks = HashMap::new();
        for def in services.events {
            by_name.insert(def.name, def);
            for alias in def.aliases {
                by_name.insert(*alias, def);
            }
            if let Some(json) = def.circuit_breaker.and_then(|cb| cb.fallback) {
                let value = serde_json::from_str(json)
                    .map_err(|e| Error::internal(format!("fallback of {} is not JSON: {e}", def.name)))?;
                fallbacks.insert(def.name, value);
            }
        }
        let circuits = CircuitBreakers::start(&services.redis, services.keys.clone()).await?;
        Ok(Pipeline {
            limiter: RateLimiter::new(&services.redis, services.keys.clone()),
            cache: ResponseCache::new(&services.redis, services.keys.clone()),
            handlers,
            services,
            by_name,
            circuits,
            fallbacks,
        })
    }

    /// The shared services (for background jobs and tests).
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Run `event` through every stage.
    pub async fn run(&self, event: &'static EventDef, payload: Payload<'_>, meta: RequestMeta) -> Result<Value, Error> {
        let started = Instant::now();
        let result = self.stages(event, payload, meta).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code.as_str(),
        };
        self.services.metrics.observe_request(event.name, outcome, started.elapsed());
        if let Err(e) = &result {
            if e.code == ErrorCode::Internal {
                tracing::error!(event = event.name, error = %e.message, "handler failed");
            } else {
                tracing::debug!(event = event.name, code = e.code.as_str(), error = %e.message, "request refused");
            }
        }
        result
    }

    async fn stages(&self, event: &'static EventDef, payload: Payload<'_>, meta: RequestMeta) -> Result<Value, Error> {
        let input = self.handlers.parse(event, payload)?;

        if !event.roles.is_empty() && !meta.roles.iter().any(|r| event.roles.contains(&r.as_str())) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                format!("{} requires one of the roles {}", event.name, event.roles.join(", ")),
            ));
        }

        let own_limit = match &event.rate_limit {
            Some(limit) if self.handlers.checks_own_rate_limit(event) => {
                Some(OwnLimit { event: event.name, caller: meta.caller_key(), limit: *limit })
            }
            Some(limit) => {
                if let Err(e) = self.limiter.enforce(event.name, &meta.caller_key(), limit).await {
                    if e.code == ErrorCode::RateLimited {
                        self.services.metrics.rate_limited(event.name);
                    }
                    return Err(e);
                }
                None
            }
            None => None,
        };

        let permit = match &event.circuit_breaker {
            Some(cb) => match self.circuits.admit(event.name, cb).await? {
                Admission::Allowed(permit) => Some(permit),
                rejected @ Admission::Rejected { .. } => {
                    // A fallback answers instead of the handler; it is never cached.
                    return match self.fallbacks.get(event.name) {
                        Some(v) => Ok(v.clone()),
                        None => rejected.into_result(event.name).map(|_| Value::Null),
                    };
                }
            },
            None => None,
        };

        let cache_key = match event.cache_ttl_s {
            Some(_) => {
                let digest = ResponseCache::digest(&self.handlers.input_json(&input));
                // A cache that cannot be read is skipped, not fatal: the handler can still answer.
                if let Ok(Some(hit)) = self.cache.get(event.name, &digest).await
                    && let Ok(v) = serde_json::from_str::<Value>(&hit)
                {
                    return Ok(v);
                }
                Some(digest)
            }
            None => None,
        };

        let result = crate::resilience::with_timeout(
            event.name,
            event.timeout_ms,
            self.handlers.call(event, meta, input, own_limit),
        )
        .await;
        if matches!(&result, Err(e) if e.code == ErrorCode::RateLimited) {
            self.services.metrics.rate_limited(event.name);
        }

        if let (Some(cb), Some(permit)) = (&event.circuit_breaker, permit) {
            let failed = matches!(&result, Err(e) if counts_as_failure(e.code));
            match self.circuits.record(event.name, cb, permit, !failed).await {
                Ok(state) => self.services.metrics.set_circuit_state(event.name, state),
                Err(e) => {
                    tracing::warn!(event = event.name, error = %e, "could not record the circuit outcome")
                }
            }
        }

        if let (Ok(output), Some(digest), Some(ttl)) = (&result, &cache_key, event.cache_ttl_s)
            && let Err(e) = self.cache.put(event.name, digest, &output.to_string(), ttl).await
        {
            tracing::debug!(event = event.name, error = %e, "could not fill the response cache");
        }
        result
    }
}

impl<H: EventHandlers> Backend for Pipeline<H> {
    fn events(&self) -> &'static [EventDef] {
        self.services.events
    }

    fn mcp_toolsets(&self) -> crate::config::McpToolsets {
        self.services.config.mcp_toolsets.clone()
    }

    fn resolve(&self, name: &str) -> Option<&'static EventDef> {
        self.by_name.get(name).copied()
    }

    fn dispatch<'a>(
        &'a self,
        event: &'static EventDef,
        input: Payload<'a>,
        meta: RequestMeta,
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(self.run(event, input, meta))
    }

    fn subscribe<'a>(&'a self, patterns: &'a [String]) -> BoxFuture<'a, Result<EventStream, Error>> {
        Box::pin(async move {
            let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
            let mut sub = self.services.bus.subscribe(&patterns, 1024).await?;
            let (tx, rx) = tokio::sync::mpsc::channel(256);
            let metrics = self.services.metrics.clone();
            tokio::spawn(async move {
                while let Some(m) = sub.recv().await {
                    let event = BusEvent { id: m.id, event: m.event, ts: m.ts, payload: m.payload };
                    if tx.try_send(event).is_err() {
                        // Full or closed: a consumer that cannot keep up is disconnected.
                        metrics.bus_dropped(1);
                        break;
                    }
                }
            });
            Ok(rx)
        })
    }

    fn readiness(&self) -> BoxFuture<'_, Readiness> {
        Box::pin(async move {
            let probe = self.services.probe(READINESS_PROBE_TIMEOUT).await;
            let durability = self.services.metrics.durability();
            Readiness::assess(
                probe.redis,
                // Without a configured store, its absence is not a fault.
                probe.sql.unwrap_or(true),
                durability,
                self.services.config.outbox_degraded_after.as_millis() as u64,
            )
        })
    }

    fn metrics_text(&self) -> String {
        self.services.metrics.render()
    }

    fn serving(&self) -> Option<&crate::transport::serving::Serving> {
        Some(&self.services.serving)
    }

    fn hook_routes(&self) -> &'static [claudebench_contract::hook::HookRoute] {
        self.handlers.hook_routes()
    }
}
