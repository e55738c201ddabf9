//! `system.check_health`: Checks every registered instance's last heartbeat. An instance silent for longer than `timeout` milliseconds (or already marked offline) is declared failed: it is marked offline and its queued and in-progress tasks are handed to healthy workers, or back to the pending queue when there is none. Returns the healthy and failed instance ids and, per failed instance, how many tasks were reassigned. Publishes `instance.failed` for each newly failed instance. The server runs the same sweep periodically.

use std::collections::BTreeMap;

use claudebench_domain::coordination::now_ms;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemCheckHealth;
use claudebench_generated::types::{SystemCheckHealthInput, SystemCheckHealthOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemCheckHealth<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemCheckHealthInput) -> Result<SystemCheckHealthOutput, Error> {
        let (instances, tasks) = (ctx.instances(), ctx.tasks());
        // The schema bounds the timeout to 1..=3,600,000 ms.
        let timeout_ms = u64::try_from(input.timeout).unwrap_or(1);
        let now = now_ms();

        // Each stale instance leaves the liveness set in the same script that re-queues its
        // tasks and publishes `instance.failed`, so concurrent sweeps (other requests, other
        // processes, the leader's periodic job) handle every failure exactly once; this call
        // reports only the failures it handled itself.
        let newly_failed = instances.sweep_failed(now, timeout_ms).await?;
        let requeued: usize = newly_failed.iter().map(|f| f.requeued.len()).sum();
        if requeued > 0 {
            // Hand the re-queued work to live workers now (least-loaded first, within their
            // capacity); whatever no worker can take stays pending for the next claim. The
            // failure is already recorded, so an error here is logged, not returned.
            if let Err(e) = tasks.auto_assign(requeued).await {
                tracing::warn!(error = %e, "auto-assignment after a failure sweep failed");
            }
        }

        let cutoff = now.saturating_sub(i64::try_from(timeout_ms).unwrap_or(i64::MAX));
        // Stale entries another sweeper is still processing are neither healthy nor (yet)
        // failed: they show up as failed on the next call.
        let healthy = instances
            .registered()
            .await?
            .into_iter()
            .filter(|(_, last_seen)| *last_seen >= cutoff)
            .map(|(id, _)| id)
            .collect();
        let failed = instances.failed().await?;
        let reassigned: BTreeMap<String, i64> =
            newly_failed.into_iter().map(|f| (f.id, i64::try_from(f.tasks_reassigned).unwrap_or(i64::MAX))).collect();
        Ok(SystemCheckHealthOutput { healthy, failed, reassigned })
    }
}
