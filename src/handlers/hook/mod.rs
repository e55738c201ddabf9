//! Handlers of the `hook` domain, one file per event, plus what they share: how a hook finds
//! its Claude Code session, the session's instance, and the per-session todo state.
mod common;
mod todos;

mod notification;
mod post_tool;
mod pre_compact;
mod pre_tool;
mod session_end;
mod session_start;
mod stop;
mod todo_write;
mod user_prompt;
