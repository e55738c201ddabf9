//! `hook.notification`: records a notification Claude Code showed the user and publishes it as
//! `hook.notification.received` (its durable stream entry is the record dashboards read).

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookNotification;
use claudebench_generated::types::{Acknowledgement, HookNotificationInput};
use serde_json::json;

use super::common::{SESSION_STATE_TTL_SECS, Session, now, redis_error, touch_session};
use crate::handlers::{Ctx, Handlers};

impl HookNotification<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookNotificationInput) -> Result<Acknowledgement, Error> {
        let session = Session::resolve(input.session_id.as_deref(), ctx);
        let (_, iso) = now();
        let key = ctx.domain.runtime.keys.hook_session(&session.key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("HINCRBY").arg(&key).arg("notifications").arg(1).ignore();
        pipe.cmd("HSET").arg(&key).arg("lastNotificationAt").arg(&iso).ignore();
        pipe.cmd("EXPIRE").arg(&key).arg(SESSION_STATE_TTL_SECS).ignore();
        let mut con = ctx.redis();
        pipe.query_async::<()>(&mut con).await.map_err(redis_error)?;

        let payload = json!({
            "sessionId": session.id,
            "message": input.message,
            "title": input.title,
            "notificationType": input.notification_type,
            "timestamp": iso,
        });
        ctx.domain.runtime.bus.publish("hook.notification.received", &payload).await?;
        touch_session(ctx, &session).await;
        Ok(Acknowledgement { acknowledged: true })
    }
}
