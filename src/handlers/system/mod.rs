//! Handlers of the `system` domain, one file per event, and the few rules they share.
mod batch_process;
mod check_health;
mod discover;
mod get_state;
mod health;
mod heartbeat;
mod metrics;
mod quorum_vote;
mod register;
mod unregister;

use claudebench_generated::types::HealthStatus;

use crate::handlers::Ctx;

/// Lease length of a leader elected through `system.register`, renewed by `system.heartbeat`.
/// The same rule as the server's own elector (`app.rs`): one failure timeout, within 1 s..30 s,
/// so a silent leader is replaced about when it would be declared failed.
fn leader_lease_ms(ctx: &Ctx) -> u64 {
    ctx.coord().instances.config().failure_timeout_ms.clamp(1_000, 30_000)
}

/// Health of an instance from the age of its last heartbeat, as `HealthStatus` defines it:
/// healthy within the heartbeat (failure) timeout, degraded within twice that, else unhealthy.
fn health_of(last_seen_ms: i64, now_ms: i64, timeout_ms: u64) -> HealthStatus {
    let timeout = i64::try_from(timeout_ms).unwrap_or(i64::MAX);
    let age = now_ms.saturating_sub(last_seen_ms);
    if age <= timeout {
        HealthStatus::Healthy
    } else if age <= timeout.saturating_mul(2) {
        HealthStatus::Degraded
    } else {
        HealthStatus::Unhealthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_health_follows_the_age_of_its_last_heartbeat() {
        assert_eq!(health_of(1_000, 1_000, 100), HealthStatus::Healthy);
        assert_eq!(health_of(1_000, 1_100, 100), HealthStatus::Healthy);
        assert_eq!(health_of(1_000, 1_101, 100), HealthStatus::Degraded);
        assert_eq!(health_of(1_000, 1_200, 100), HealthStatus::Degraded);
        assert_eq!(health_of(1_000, 1_201, 100), HealthStatus::Unhealthy);
        // A heartbeat stamped slightly in the future (clock skew) is simply recent.
        assert_eq!(health_of(2_000, 1_000, 100), HealthStatus::Healthy);
    }
}
