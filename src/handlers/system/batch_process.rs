//! `system.batch_process`: Processes a batch of items on exactly one instance. The first caller for a `batchId` takes that batch's lock and processes every item; a concurrent caller gets `processed: false` with the current holder in `processorId` and its progress in `itemsProcessed`. Locks are per batch (different batches run in parallel) and are released when processing ends. Publishes `batch.completed`.

use claudebench_domain::coordination::batch::LockState;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemBatchProcess;
use claudebench_generated::types::{SystemBatchProcessInput, SystemBatchProcessOutput};

use crate::handlers::{Ctx, Handlers};

/// Items processed between two progress records (each one round trip that also extends the
/// lock), so other callers see progress advance without a write per item.
const PROGRESS_EVERY: usize = 10;

/// How long the lock survives without progress. Every progress record extends it, so only a
/// processor that died (or was cancelled by its deadline) lets it lapse, after which the next
/// caller takes the batch over and resumes from the recorded progress.
const LOCK_TTL_MS: u64 = 10_000;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SystemBatchProcess<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemBatchProcessInput) -> Result<SystemBatchProcessOutput, Error> {
        let batches = ctx.batches();
        let (batch, me) = (input.batch_id.as_str(), input.instance_id.as_str());
        let total = input.items.len() as u64;

        let lock = batches.acquire(batch, me, total, LOCK_TTL_MS).await?;
        match lock.state {
            LockState::Held => {
                return Ok(SystemBatchProcessOutput {
                    processed: false,
                    processor_id: Some(lock.owner),
                    items_processed: Some(to_i64(lock.processed)),
                });
            }
            LockState::Completed => {
                // Already done (within the batch record's retention): report who did it
                // rather than processing the same batch twice.
                return Ok(SystemBatchProcessOutput {
                    processed: false,
                    processor_id: batches.completed_by(batch).await?,
                    items_processed: Some(to_i64(lock.processed)),
                });
            }
            LockState::Acquired => {}
        }

        // A batch taken over from a processor that gave up or died resumes where it stopped.
        let mut done = usize::try_from(lock.processed).unwrap_or(usize::MAX).min(input.items.len());
        let result: Result<(), Error> = async {
            while done < input.items.len() {
                // The spec leaves items opaque (any JSON value) and defines no per-item effect;
                // what this event guarantees is the coordination around the work: one
                // processor per batch, progress others can see, and release at the end.
                done = (done + PROGRESS_EVERY).min(input.items.len());
                if done < input.items.len() {
                    batches.progress(batch, me, done as u64, LOCK_TTL_MS).await?;
                    // Let other requests on this worker thread run between chunks.
                    tokio::task::yield_now().await;
                }
            }
            Ok(())
        }
        .await;

        match result {
            Ok(()) => {
                // Frees the lock and publishes `batch.completed` in one script.
                let p = batches.complete(batch, me, done as u64).await?;
                Ok(SystemBatchProcessOutput {
                    processed: true,
                    processor_id: Some(input.instance_id),
                    items_processed: Some(to_i64(p.processed)),
                })
            }
            Err(e) => {
                // Give the lock up at once (keeping the progress) so a retry need not wait for
                // it to lapse; the original error is what the caller needs to see.
                if let Err(release) = batches.release(batch, me, done as u64).await {
                    tracing::warn!(batch, error = %release, "could not release a batch lock after a failure");
                }
                Err(e)
            }
        }
    }
}
