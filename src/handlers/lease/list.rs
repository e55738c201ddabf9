//! `lease.list`: the live leases of a repository (`cwd`), of a session (`sessionId`), or of one
//! session in one repository (both), soonest to lapse first.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::LeaseList;
use claudebench_generated::types::{LeaseListInput, LeaseListOutput};

use crate::handlers::{Ctx, Handlers};

impl LeaseList<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: LeaseListInput) -> Result<LeaseListOutput, Error> {
        let list = ctx.domain.leases.list(input.cwd.as_deref(), input.session_id.as_deref()).await?;
        Ok(LeaseListOutput { leases: list.leases.iter().map(|l| l.to_wire()).collect(), truncated: list.truncated })
    }
}
