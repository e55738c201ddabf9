//! `system.batch_process`: Processes a batch of items on exactly one instance. The first caller for a `batchId` takes that batch's lock and processes every item; a concurrent caller gets `processed: false` with the current holder in `processorId` and its progress in `itemsProcessed`. Locks are per batch (different batches run in parallel) and are released when processing ends. Publishes `batch.completed`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemBatchProcess;
use claudebench_generated::types::{SystemBatchProcessInput, SystemBatchProcessOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemBatchProcess<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemBatchProcessInput) -> Result<SystemBatchProcessOutput, Error> {
        Err(Error::not_implemented("system.batch_process"))
    }
}
