//! `system.discover`: Lists every event this server handles with its description, input and output JSON Schemas, persistence, roles, rate limit, timeout, circuit breaker, cache, MCP tool name and annotations, and HTTP route, sorted by name. Filter by `domain` or by event `name` (an alias finds the event it stands for).

use claudebench_generated::error::Error;
use claudebench_generated::event::EventDef;
use claudebench_generated::handlers::SystemDiscover;
use claudebench_generated::types::{
    CircuitBreakerInfo, EventDescriptor, McpAnnotations, RateLimitInfo, SystemDiscoverInput, SystemDiscoverOutput,
};
use serde_json::Value;

use crate::handlers::{Ctx, Handlers};

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A schema string of the generated table, parsed. The table is produced by the code generator
/// from valid JSON, so a failure is a build defect, reported as such.
fn schema(event: &EventDef, which: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text)
        .map_err(|e| Error::internal(format!("the generated {which} schema of {} is not JSON: {e}", event.name)))
}

fn describe(e: &EventDef) -> Result<EventDescriptor, Error> {
    Ok(EventDescriptor {
        name: e.name.to_string(),
        title: e.title.to_string(),
        description: e.description.to_string(),
        aliases: e.aliases.iter().map(|a| a.to_string()).collect(),
        input_schema: schema(e, "input", e.input_schema)?,
        output_schema: schema(e, "output", e.output_schema)?,
        persist: e.persist,
        mutates: e.mutates,
        roles: e.roles.iter().map(|r| r.to_string()).collect(),
        rate_limit: e.rate_limit.map(|r| RateLimitInfo { count: to_i64(r.count), window_ms: to_i64(r.window_ms) }),
        timeout_ms: to_i64(e.timeout_ms),
        circuit_breaker: e.circuit_breaker.map(|c| CircuitBreakerInfo {
            threshold: i64::from(c.threshold),
            open_ms: to_i64(c.open_ms),
            half_open_probes: i64::from(c.half_open_probes),
            has_fallback: c.fallback.is_some(),
        }),
        cache_ttl_s: e.cache_ttl_s.map(to_i64),
        http_path: e.http_path.to_string(),
        mcp_tool: e.mcp.map(|m| m.tool_name.to_string()),
        mcp_annotations: e.mcp.map(|m| McpAnnotations {
            read_only: m.read_only,
            destructive: m.destructive,
            idempotent: m.idempotent,
            open_world: m.open_world,
        }),
        deprecated: e.deprecated,
        replaced_by: e.replaced_by.map(str::to_string),
    })
}

/// Whether `e` passes the filters: the domain exactly, the name or any alias exactly.
fn selected(e: &EventDef, domain: Option<&str>, name: Option<&str>) -> bool {
    domain.is_none_or(|d| e.domain == d) && name.is_none_or(|n| e.name == n || e.aliases.contains(&n))
}

impl SystemDiscover<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemDiscoverInput) -> Result<SystemDiscoverOutput, Error> {
        let mut defs: Vec<&EventDef> = ctx
            .domain
            .events()
            .iter()
            .filter(|e| selected(e, input.domain.as_deref(), input.name.as_deref()))
            .collect();
        defs.sort_by_key(|e| e.name);
        let events = defs.into_iter().map(describe).collect::<Result<_, _>>()?;
        Ok(SystemDiscoverOutput { events })
    }
}
