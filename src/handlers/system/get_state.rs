//! `system.get_state`: A bounded snapshot for dashboards: the 10 most recently updated tasks, the registered instances (at most 100) and the 10 most recent events on the bus. Use `task.list` to page through all tasks.
//!
//! Everything is read through indexes and capped ranges (no key scans): instances from the
//! liveness set, events from the newest entries of each event stream, and tasks from the newest
//! entries of the task streams — every task change appends to one of them in the same script
//! that makes it, so those entries name the most recently changed tasks.

use std::collections::{HashMap, HashSet};

use claudebench_domain::coordination::tasks::TaskQuery;
use claudebench_domain::coordination::{iso_millis, now_ms};
use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::handlers::SystemGetState;
use claudebench_generated::types::{EventRecord, Instance, SystemGetStateInput, SystemGetStateOutput, Task};
use claudebench_runtime::redis::redis_error;
use serde_json::Value;

use super::health_of;
use crate::handlers::{Ctx, Handlers};
use claudebench_domain::coordination::tasks::TASK_STREAMS;

const MAX_TASKS: usize = 10;
const MAX_INSTANCES: isize = 100;
const MAX_EVENTS: usize = 10;
/// Entries read from each task stream to find the most recently changed tasks: enough for ten
/// distinct tasks unless a few of them changed many times in a row (then the newest-created
/// tasks fill the gap).
const TASK_ENTRIES_PER_STREAM: usize = 32;

/// Events the coordination scripts publish on their own (beyond what event descriptions say).
const CORE_EVENTS: [&str; 14] = [
    "task.created",
    "task.updated",
    "task.claimed",
    "task.assigned",
    "task.completed",
    "task.deleted",
    "instance.registered",
    "instance.unregistered",
    "instance.failed",
    "leader.elected",
    "partition.detected",
    "partition.recovered",
    "quorum.decision.made",
    "batch.completed",
];

/// One stream entry: its id, parsed, and its fields.
struct Entry {
    id: String,
    order: (u64, u64),
    fields: HashMap<String, String>,
}

fn entry_order(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// Every event name announced in the event table's descriptions ("Publishes `x` …"), so events
/// published by handlers show up without a list to maintain here.
fn described_events(ctx: &Ctx) -> Vec<&'static str> {
    let mut names = Vec::new();
    for def in ctx.domain.runtime.events {
        let mut rest = def.description;
        while let Some(at) = rest.find("Publishes") {
            let sentence = &rest[at..];
            let end = sentence.find(". ").map_or(sentence.len(), |i| i + 1);
            for (i, part) in sentence[..end].split('`').enumerate() {
                let looks_like_event = !part.is_empty()
                    && part.contains('.')
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
                if i % 2 == 1 && looks_like_event {
                    names.push(part);
                }
            }
            rest = &sentence[end..];
        }
    }
    names
}

/// The newest entries of several streams in one round trip, newest first overall.
async fn newest_entries(ctx: &Ctx, streams: &[(&str, usize)]) -> Result<Vec<Entry>, Error> {
    let mut pipe = redis::pipe();
    for (event, count) in streams {
        pipe.cmd("XREVRANGE").arg(ctx.domain.runtime.keys.stream(event)).arg("+").arg("-").arg("COUNT").arg(*count);
    }
    let mut con = ctx.redis();
    let replies: Vec<Vec<(String, HashMap<String, String>)>> = pipe.query_async(&mut con).await.map_err(redis_error)?;
    let mut entries: Vec<Entry> =
        replies.into_iter().flatten().map(|(id, fields)| Entry { order: entry_order(&id), id, fields }).collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.order));
    Ok(entries)
}

fn event_record(e: &Entry) -> EventRecord {
    let payload = match e.fields.get("payload") {
        // Payloads are written as JSON by the publishers; anything else is shown verbatim.
        Some(raw) => serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.clone())),
        None => Value::Null,
    };
    let ms =
        e.fields.get("ts").and_then(|t| t.parse::<i64>().ok()).unwrap_or_else(|| i64::try_from(e.order.0).unwrap_or(0));
    EventRecord {
        id: e.id.clone(),
        r#type: e.fields.get("event").cloned().unwrap_or_default(),
        payload,
        timestamp: iso_millis(ms),
    }
}

/// The task a task-stream entry is about, and whether the entry deleted it.
fn task_of(e: &Entry) -> Option<(String, bool)> {
    if let Some(id) = e.fields.get("deleted") {
        return Some((id.clone(), true));
    }
    let state: Value = serde_json::from_str(e.fields.get("state")?).ok()?;
    Some((state.get("id")?.as_str()?.to_string(), false))
}

async fn recent_tasks(ctx: &Ctx, task_entries: &[&Entry]) -> Result<Vec<Task>, Error> {
    let tasks = &ctx.coord().tasks;
    let mut con = ctx.redis();
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for e in task_entries {
        let Some((id, deleted)) = task_of(e) else {
            continue;
        };
        // The newest entry of a task decides: once deleted, its older entries are skipped.
        if !seen.insert(id.clone()) || deleted {
            continue;
        }
        match tasks.get(&mut con, &id).await {
            Ok(t) => found.push(t),
            // Deleted by a change whose entry was already trimmed away.
            Err(err) if err.code == ErrorCode::NotFound => {}
            Err(err) => return Err(err),
        }
        if found.len() == MAX_TASKS {
            break;
        }
    }
    if found.len() < MAX_TASKS {
        // Streams are capped and trimmed by age; the newest-created tasks complete the list.
        let page = tasks.list(&mut con, &TaskQuery { limit: MAX_TASKS, ..TaskQuery::default() }).await?;
        for t in page.tasks {
            if found.len() == MAX_TASKS {
                break;
            }
            if seen.insert(t.id.clone()) {
                found.push(t);
            }
        }
    }
    // RFC 3339 UTC with fixed-width milliseconds sorts as text.
    found.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    Ok(found)
}

async fn instances(ctx: &Ctx) -> Result<Vec<Instance>, Error> {
    let coord = ctx.coord();
    let mut con = ctx.redis();
    // The most recently seen first: past the cap, those are the ones a dashboard cares about.
    let live: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
        .arg(ctx.domain.runtime.keys.instances())
        .arg(0)
        .arg(MAX_INSTANCES - 1)
        .arg("WITHSCORES")
        .query_async(&mut con)
        .await
        .map_err(redis_error)?;
    if live.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for (id, _) in &live {
        pipe.hget(ctx.domain.runtime.keys.instance(id), "roles");
    }
    let roles: Vec<Option<String>> = pipe.query_async(&mut con).await.map_err(redis_error)?;
    let leader = coord.leader.current(&mut con).await?.map(|l| l.id);
    let timeout = coord.instances.config().failure_timeout_ms;
    let now = now_ms();
    Ok(live
        .into_iter()
        .zip(roles)
        .map(|((id, score), roles)| {
            let last_seen = score as i64;
            Instance {
                // A record that expired before the sweep got to it has no roles left to show.
                roles: roles.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default(),
                health: health_of(last_seen, now, timeout),
                last_seen: iso_millis(last_seen),
                is_leader: leader.as_deref() == Some(id.as_str()),
                id,
            }
        })
        .collect())
}

impl SystemGetState<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, _input: SystemGetStateInput) -> Result<SystemGetStateOutput, Error> {
        let mut streams: Vec<(&str, usize)> = TASK_STREAMS.iter().map(|s| (*s, TASK_ENTRIES_PER_STREAM)).collect();
        for name in CORE_EVENTS.into_iter().chain(described_events(ctx)) {
            if !streams.iter().any(|(s, _)| *s == name) {
                streams.push((name, MAX_EVENTS));
            }
        }
        let entries = newest_entries(ctx, &streams).await?;
        let recent_events = entries.iter().take(MAX_EVENTS).map(event_record).collect();
        let task_entries: Vec<&Entry> =
            entries.iter().filter(|e| e.fields.get("entity").is_some_and(|x| x == "task")).collect();

        Ok(SystemGetStateOutput {
            tasks: recent_tasks(ctx, &task_entries).await?,
            instances: instances(ctx).await?,
            recent_events,
        })
    }
}
