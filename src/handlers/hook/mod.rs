//! Handlers of the `hook` domain, one file per event.
mod notification;
mod post_tool;
mod pre_compact;
mod pre_tool;
mod session_end;
mod session_start;
mod stop;
mod todo_write;
mod user_prompt;
