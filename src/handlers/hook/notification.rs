//! `hook.notification`: Records a notification Claude Code showed the user (for example a permission request or "Claude is waiting for your input") and publishes it as `hook.notification.received`, so dashboards and other instances can react.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookNotification;
use claudebench_generated::types::{HookNotificationInput, HookNotificationOutput};

use crate::handlers::{Ctx, Handlers};

impl HookNotification<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookNotificationInput) -> Result<HookNotificationOutput, Error> {
        Err(Error::not_implemented("hook.notification"))
    }
}
