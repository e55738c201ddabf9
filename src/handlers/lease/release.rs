//! `lease.release`: the holder gives up its lease on a file (with `token`, only that
//! acquisition); nothing to release is `released: false`, another session's lease or a stale
//! token a `conflict`.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::LeaseRelease;
use claudebench_generated::types::{LeaseReleaseInput, LeaseReleaseOutput};

use super::positive;
use crate::handlers::{Ctx, Handlers};

impl LeaseRelease<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: LeaseReleaseInput) -> Result<LeaseReleaseOutput, Error> {
        let token = input.token.map(|t| positive("token", t)).transpose()?;
        let done = ctx.domain.leases.release(&input.session_id, &input.cwd, &input.path, token).await?;
        Ok(LeaseReleaseOutput {
            path: done.located.path,
            root: done.located.root,
            released: done.lease.is_some(),
            token: done.lease.map(|l| l.to_wire().token),
        })
    }
}
