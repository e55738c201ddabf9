//! Handlers of the `system` domain, one file per event.
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
