//! Handlers of the `system` domain, one file per event. They see the domain through typed
//! services only (`ctx.instances()`, `ctx.leader()`, `ctx.views()`…): no Redis, keys or stored
//! field names.

mod batch_process;
mod check_health;
mod discover;
mod get_state;
mod health;
mod heartbeat;
mod metrics;
mod quorum_vote;
mod register;
mod unregister;
