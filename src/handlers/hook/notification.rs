//! `hook.notification`: records a notification Claude Code showed the user and publishes it as
//! `hook.notification.received` (see [`claudebench_domain::sessions::Sessions::record_notification`]).

use claudebench_domain::sessions::Notification;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookNotification;
use claudebench_generated::types::{Acknowledgement, HookNotificationInput};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookNotification<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookNotificationInput) -> Result<Acknowledgement, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        let notification =
            Notification { message: input.message, title: input.title, notification_type: input.notification_type };
        ctx.domain.sessions.record_notification(&session, &notification).await?;
        Ok(Acknowledgement { acknowledged: true })
    }
}
