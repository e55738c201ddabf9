//! `system.metrics`: Counters for the whole cluster: events processed, tasks completed, the average handler latency, and this server process's memory use.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemMetrics;
use claudebench_generated::types::{SystemMetricsInput, SystemMetricsOutput};

use crate::handlers::{Ctx, Handlers};

/// Mean latency in milliseconds from the summed microseconds, rounded to 3 decimals (a
/// microsecond); 0 before any event.
fn average_latency_ms(latency_us: u64, events: u64) -> f64 {
    if events == 0 {
        return 0.0;
    }
    let ms = latency_us as f64 / events as f64 / 1000.0;
    (ms * 1000.0).round() / 1000.0
}

/// Resident memory of this process in MiB (2 decimals), from `VmRSS` in /proc/self/status
/// (kB); `None` where /proc is not available.
fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some((kb / 1024.0 * 100.0).round() / 100.0)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SystemMetrics<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, _input: SystemMetricsInput) -> Result<SystemMetricsOutput, Error> {
        // Cluster-wide, and including everything this process has served so far.
        let counters = ctx.views().counters().await?;
        Ok(SystemMetricsOutput {
            events_processed: to_i64(counters.events_processed),
            tasks_completed: to_i64(counters.tasks_completed),
            average_latency: average_latency_ms(counters.latency_us, counters.events_processed),
            memory_usage: resident_mib(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_latency_is_the_mean_in_milliseconds() {
        assert_eq!(average_latency_ms(0, 0), 0.0);
        assert_eq!(average_latency_ms(47_000, 2), 23.5);
        assert_eq!(average_latency_ms(1, 3), 0.0);
        assert_eq!(average_latency_ms(10, 3), 0.003);
    }

    #[test]
    fn resident_memory_is_measured_on_linux() {
        if std::path::Path::new("/proc/self/status").exists() {
            let mib = resident_mib().expect("VmRSS is readable");
            assert!(mib > 0.0 && mib < 100_000.0, "{mib}");
        }
    }
}
