//! `system.discover`: Lists every event this server handles with its description, input and output JSON Schemas, persistence, roles, rate limit, timeout, circuit breaker, cache, MCP tool name and annotations, and HTTP route, sorted by name. Filter by `domain` or by event `name` (an alias finds the event it stands for).
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemDiscover;
use claudebench_generated::types::{SystemDiscoverInput, SystemDiscoverOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemDiscover<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemDiscoverInput) -> Result<SystemDiscoverOutput, Error> {
        Err(Error::not_implemented("system.discover"))
    }
}
