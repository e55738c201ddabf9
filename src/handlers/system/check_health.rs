//! `system.check_health`: Checks every registered instance's last heartbeat. An instance silent for longer than `timeout` milliseconds (or already marked offline) is declared failed: it is marked offline and its queued and in-progress tasks are handed to healthy workers, or back to the pending queue when there is none. Returns the healthy and failed instance ids and, per failed instance, how many tasks were reassigned. Publishes `instance.failed` for each newly failed instance. The server runs the same sweep periodically.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemCheckHealth;
use claudebench_generated::types::{SystemCheckHealthInput, SystemCheckHealthOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemCheckHealth<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemCheckHealthInput) -> Result<SystemCheckHealthOutput, Error> {
        Err(Error::not_implemented("system.check_health"))
    }
}
