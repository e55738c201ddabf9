//! `system.register`: Registers (or re-registers) an instance with its roles and marks it healthy. Roles the instance no longer announces are dropped. The instance must then send `system.heartbeat` regularly; one that stops is detected as failed and its tasks are handed back to the queue. An instance with the `worker` role is offered pending tasks right away. The first instance to register while no leader exists becomes leader. Publishes `instance.registered`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemRegister;
use claudebench_generated::types::{SystemRegisterInput, SystemRegisterOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemRegister<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemRegisterInput) -> Result<SystemRegisterOutput, Error> {
        Err(Error::not_implemented("system.register"))
    }
}
