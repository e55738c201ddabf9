//! `hook.session_start`: registers the Claude Code session as an instance (`claude-code-<sid8>`,
//! role `claude-code`) and, after a resume or a compaction, reminds Claude of its open work.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookSessionStart;
use claudebench_generated::types::{HookSessionStartInput, HookSessionStartOutput};
use serde_json::Value;

use super::common::{SESSION_ROLE, Session, in_progress_tasks};
use super::todos::{self, StoredTodo};
use crate::handlers::{Ctx, Handlers};

/// Most todos named in the summary; the rest are counted.
const MAX_SUMMARISED_TODOS: usize = 20;

impl HookSessionStart<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookSessionStartInput) -> Result<HookSessionStartOutput, Error> {
        let session = Session::explicit(&input.session_id);
        let instance = session.instance_id();
        let mut con = ctx.redis();
        // Registering an already registered instance refreshes it (and revives a session that
        // was declared failed while idle), so a repeated SessionStart is harmless.
        ctx.coord().instances.register(&mut con, &instance, &[SESSION_ROLE.to_string()]).await?;

        let additional_context = match input.source.as_deref() {
            Some("resume") | Some("compact") => {
                let mut open: Vec<StoredTodo> = todos::load(&mut con, &ctx.domain.runtime.keys, &session)
                    .await?
                    .into_iter()
                    .filter(StoredTodo::is_open)
                    .collect();
                let (tasks, total) = in_progress_tasks(ctx, &mut con, &instance).await?;
                let mut task_ids: Vec<String> = tasks.into_iter().map(|t| t.id).collect();
                let mut more_tasks = total.saturating_sub(task_ids.len() as u64);
                // The live list wins; the snapshot taken before compaction fills in when the
                // live state is gone (e.g. it expired while the session was away).
                if (open.is_empty() || task_ids.is_empty())
                    && let Some(snap) = todos::load_snapshot(&mut con, &ctx.domain.runtime.keys, &session).await?
                {
                    if open.is_empty() {
                        open = snap.todos.into_iter().filter(StoredTodo::is_open).collect();
                    }
                    if task_ids.is_empty() {
                        task_ids = snap
                            .in_progress_tasks
                            .iter()
                            .filter_map(|t| t.get("id").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect();
                        more_tasks = 0;
                    }
                }
                summary(&open, &task_ids, more_tasks)
            }
            _ => None,
        };
        Ok(HookSessionStartOutput { instance_id: instance, registered: true, additional_context })
    }
}

/// "Open todos: A (in progress), B (pending). In-progress tasks: t-7." — `None` when nothing is
/// open.
fn summary(open: &[StoredTodo], task_ids: &[String], more_tasks: u64) -> Option<String> {
    let mut parts = Vec::new();
    if !open.is_empty() {
        let mut named: Vec<String> = open
            .iter()
            .take(MAX_SUMMARISED_TODOS)
            .map(|t| format!("{} ({})", t.content, t.status.replace('_', " ")))
            .collect();
        if open.len() > MAX_SUMMARISED_TODOS {
            named.push(format!("and {} more", open.len() - MAX_SUMMARISED_TODOS));
        }
        parts.push(format!("Open todos: {}.", named.join(", ")));
    }
    if !task_ids.is_empty() {
        let mut ids = task_ids.join(", ");
        if more_tasks > 0 {
            ids.push_str(&format!(" and {more_tasks} more"));
        }
        parts.push(format!("In-progress tasks: {ids}."));
    }
    if parts.is_empty() { None } else { Some(parts.join(" ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_open_todos_and_tasks() {
        let todo = |c: &str, s: &str| StoredTodo { content: c.into(), status: s.into(), active_form: None };
        assert_eq!(
            summary(&[todo("Implement the parser", "in_progress")], &["t-7".into()], 0).as_deref(),
            Some("Open todos: Implement the parser (in progress). In-progress tasks: t-7.")
        );
        assert_eq!(summary(&[], &[], 0), None);
        assert_eq!(summary(&[], &["t-1".into()], 2).as_deref(), Some("In-progress tasks: t-1 and 2 more."));
    }
}
