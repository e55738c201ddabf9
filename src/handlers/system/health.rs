//! `system.health`: overall health from the instances' heartbeats, the reachability of Redis,
//! SQL and MCP, and durability (recovery after a Redis loss, SQL backlog, dead letters — the
//! same rule as `GET /health`).

use std::time::Duration;

use claudebench_domain::coordination::instances::InstanceCounts;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemHealth;
use claudebench_generated::types::{HealthStatus, SystemHealthInput, SystemHealthOutput, SystemHealthOutputServices};
use claudebench_runtime::backend::HealthVerdict;

use crate::handlers::{Ctx, Handlers};

/// How long one service probe may take: the whole check must answer well inside the event's
/// 3 s deadline even when both Redis and SQL hang.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1_000);

/// The overall status from the instances, as the spec defines it.
fn cluster_status(c: InstanceCounts) -> HealthStatus {
    if c.total == 0 {
        // Nothing registered is not an outage (the server may just have started), but it is
        // not a healthy cluster either.
        HealthStatus::Degraded
    } else if c.healthy == c.total {
        HealthStatus::Healthy
    } else if (c.healthy + c.degraded) * 2 >= c.total {
        HealthStatus::Degraded
    } else {
        HealthStatus::Unhealthy
    }
}

/// The overall status once the services are taken into account: without Redis nothing works;
/// a configured SQL store that does not answer means durability is lost, which is at most
/// degraded. MCP is one transport among several and does not change the status.
fn overall(instances: HealthStatus, redis: bool, sql_configured: bool, sql: bool) -> HealthStatus {
    if !redis {
        return HealthStatus::Unhealthy;
    }
    if sql_configured && !sql && instances == HealthStatus::Healthy {
        return HealthStatus::Degraded;
    }
    instances
}

impl SystemHealth<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, _input: SystemHealthInput) -> Result<SystemHealthOutput, Error> {
        let probe = ctx.views().health(PROBE_TIMEOUT).await;
        // Registered instances that could not be counted (Redis down or not answering the read)
        // make the cluster unhealthy: report what is known rather than fail.
        let instances = probe.instances.map_or(HealthStatus::Unhealthy, cluster_status);
        let sql_up = probe.sql == Some(true);
        let status = match (overall(instances, probe.redis, probe.sql.is_some(), sql_up), probe.durability) {
            (_, HealthVerdict::Unavailable) => HealthStatus::Unhealthy,
            (HealthStatus::Healthy, HealthVerdict::Degraded) => HealthStatus::Degraded,
            (status, _) => status,
        };
        Ok(SystemHealthOutput {
            status,
            services: SystemHealthOutputServices { redis: probe.redis, postgres: sql_up, mcp: probe.mcp },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(total: u64, healthy: u64, degraded: u64) -> InstanceCounts {
        InstanceCounts { total, healthy, degraded }
    }

    #[test]
    fn the_cluster_status_follows_the_share_of_live_instances() {
        assert_eq!(cluster_status(counts(0, 0, 0)), HealthStatus::Degraded);
        assert_eq!(cluster_status(counts(3, 3, 0)), HealthStatus::Healthy);
        assert_eq!(cluster_status(counts(4, 1, 1)), HealthStatus::Degraded);
        assert_eq!(cluster_status(counts(4, 2, 0)), HealthStatus::Degraded);
        assert_eq!(cluster_status(counts(4, 1, 0)), HealthStatus::Unhealthy);
        assert_eq!(cluster_status(counts(3, 0, 1)), HealthStatus::Unhealthy);
    }

    #[test]
    fn services_cap_the_status() {
        assert_eq!(overall(HealthStatus::Healthy, false, false, false), HealthStatus::Unhealthy);
        assert_eq!(overall(HealthStatus::Healthy, true, true, false), HealthStatus::Degraded);
        assert_eq!(overall(HealthStatus::Healthy, true, true, true), HealthStatus::Healthy);
        // Without a configured store, its absence is not a fault.
        assert_eq!(overall(HealthStatus::Healthy, true, false, false), HealthStatus::Healthy);
        assert_eq!(overall(HealthStatus::Unhealthy, true, true, false), HealthStatus::Unhealthy);
    }
}
