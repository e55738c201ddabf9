//! `lease.acquire`: takes the lease on a file for a session, or renews the one it holds (with
//! `token`, exactly that acquisition); another session's lease or a stale token is a `conflict`
//! naming the holder and since when.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::LeaseAcquire;
use claudebench_generated::types::{LeaseAcquireInput, LeaseAcquireOutput};

use super::positive;
use crate::handlers::{Ctx, Handlers};

impl LeaseAcquire<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: LeaseAcquireInput) -> Result<LeaseAcquireOutput, Error> {
        let ttl_ms = input.ttl_s.map(|s| positive("ttlS", s)).transpose()?.map(|s| s.saturating_mul(1_000));
        let token = input.token.map(|t| positive("token", t)).transpose()?;
        let lease = ctx.domain.leases.acquire(&input.session_id, &input.cwd, &input.path, ttl_ms, token).await?;
        Ok(lease.to_wire())
    }
}
