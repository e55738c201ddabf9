//! `system.health`: overall health from the instances' heartbeats, the reachability of Redis,
//! SQL and MCP, and durability (recovery after a Redis loss, SQL backlog, dead letters — the
//! same rule as `GET /health`).

use std::time::Duration;

use claudebench_domain::coordination::now_ms;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemHealth;
use claudebench_generated::types::{HealthStatus, SystemHealthInput, SystemHealthOutput, SystemHealthOutputServices};
use claudebench_runtime::backend::{HealthVerdict, Readiness};
use claudebench_runtime::redis::redis_error;

use crate::handlers::{Ctx, Handlers};

/// How long one service probe may take: the whole check must answer well inside the event's
/// 3 s deadline even when both Redis and SQL hang.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1_000);

/// Registered instances by health (from the age of their last heartbeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct InstanceCounts {
    total: u64,
    healthy: u64,
    degraded: u64,
}

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

/// Counts registered instances per heartbeat age with three O(log n) range counts on the
/// liveness set (score = last heartbeat), so the check stays cheap however many instances exist.
async fn count_instances(ctx: &Ctx) -> Result<InstanceCounts, Error> {
    let timeout = i64::try_from(ctx.coord().instances.config().failure_timeout_ms).unwrap_or(i64::MAX);
    let now = now_ms();
    let key = ctx.domain.runtime.keys.instances();
    let healthy_from = now.saturating_sub(timeout);
    let degraded_from = now.saturating_sub(timeout.saturating_mul(2));
    let mut con = ctx.redis();
    let (total, healthy, degraded): (u64, u64, u64) = redis::pipe()
        .cmd("ZCARD")
        .arg(&key)
        .cmd("ZCOUNT")
        .arg(&key)
        .arg(healthy_from)
        .arg("+inf")
        .cmd("ZCOUNT")
        .arg(&key)
        .arg(degraded_from)
        .arg(format!("({healthy_from}"))
        .query_async(&mut con)
        .await
        .map_err(redis_error)?;
    Ok(InstanceCounts { total, healthy, degraded })
}

impl SystemHealth<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, _input: SystemHealthInput) -> Result<SystemHealthOutput, Error> {
        let services = &ctx.domain.runtime;
        let redis_probe =
            async { matches!(tokio::time::timeout(PROBE_TIMEOUT, services.redis.ping()).await, Ok(Ok(()))) };
        let sql_probe = async {
            match &services.store {
                Some(store) => matches!(tokio::time::timeout(PROBE_TIMEOUT, store.ping()).await, Ok(Ok(()))),
                None => false,
            }
        };
        let (redis_up, sql_up) = tokio::join!(redis_probe, sql_probe);

        let instances = if redis_up {
            match tokio::time::timeout(PROBE_TIMEOUT, count_instances(ctx)).await {
                Ok(Ok(counts)) => cluster_status(counts),
                // Redis answered a ping but not the read: report what we know rather than fail.
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "health: cannot read the instance registry");
                    HealthStatus::Unhealthy
                }
                Err(_) => HealthStatus::Unhealthy,
            }
        } else {
            HealthStatus::Unhealthy
        };

        // Durability (recovery after a Redis loss, SQL backlog, dead letters) by the same rule as
        // `GET /health`.
        let durability = Readiness::assess(
            redis_up,
            sql_up || services.store.is_none(),
            services.metrics.durability(),
            services.config.outbox_degraded_after.as_millis() as u64,
        );
        let status = match (overall(instances, redis_up, services.store.is_some(), sql_up), durability.status) {
            (_, HealthVerdict::Unavailable) => HealthStatus::Unhealthy,
            (HealthStatus::Healthy, HealthVerdict::Degraded) => HealthStatus::Degraded,
            (status, _) => status,
        };
        Ok(SystemHealthOutput {
            status,
            services: SystemHealthOutputServices { redis: redis_up, postgres: sql_up, mcp: services.serving.mcp_up() },
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
