//! Rebuilding Redis' task state from SQL after Redis lost its data (a restart without
//! persistence, a private server, a failover to an empty replica).

use std::future::Future;

use claudebench_generated::error::Error;

use super::store::{SqlStore, StoredTask};

/// What [`rehydrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RehydrateStats {
    /// Tasks written back into Redis.
    pub restored: u64,
    /// Tasks Redis still had (left untouched: Redis is the newer copy).
    pub present: u64,
}

/// Offers every stored task (deleted ones excluded) to `restore`, which writes it back into
/// Redis unless Redis still has it, and says which it did. The layout of a task in Redis belongs
/// to the coordination core (`Tasks::restore`), so it is passed in rather than known here.
/// Nothing is published: the streams already carried these changes once.
pub async fn rehydrate<F, Fut>(store: &SqlStore, mut restore: F) -> Result<RehydrateStats, Error>
where
    F: FnMut(StoredTask) -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    let mut stats = RehydrateStats::default();
    for task in store.tasks().await? {
        if restore(task).await? {
            stats.restored += 1;
        } else {
            stats.present += 1;
        }
    }
    Ok(stats)
}
