//! `system.metrics`: Counters for the whole cluster: events processed, tasks completed, the average handler latency, and this server process's memory use.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemMetrics;
use claudebench_generated::types::{SystemMetricsInput, SystemMetricsOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemMetrics<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemMetricsInput) -> Result<SystemMetricsOutput, Error> {
        Err(Error::not_implemented("system.metrics"))
    }
}
