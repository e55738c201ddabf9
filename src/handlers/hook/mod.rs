//! Handlers of the `hook` domain, one file per event. Each reads its input, finds the Claude
//! Code session it belongs to, calls the domain's [`claudebench_domain::sessions::Sessions`]
//! (or the guard) and maps the answer to its output.
mod common;

mod decisions;
mod notification;
mod post_tool;
mod pre_compact;
mod pre_tool;
mod record;
mod session_end;
mod session_start;
mod stop;
mod subagent_start;
mod task_completed;
mod task_created;
mod teammate_idle;
mod todo_write;
mod user_prompt;
