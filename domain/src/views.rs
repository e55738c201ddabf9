//! Read-only views of the cluster for dashboards and health checks (`system.get_state`,
//! `system.health`, `system.metrics`), answered in the spec's types.
//!
//! Everything is read through indexes and capped ranges (no key scans): instances from the
//! liveness set, events from the newest entries of each event stream, and tasks from the newest
//! entries of the task streams — every task change appends to one of them in the same script
//! that makes it, so those entries name the most recently changed tasks.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_generated::types::{
    EventRecord, IdleTeammate, Instance, RunningSubagent, SystemGetStateOutputLeader as Leader, Task,
};
use claudebench_runtime::backend::{HealthVerdict, Readiness};
use claudebench_runtime::bus::consumer::parse_entry_id;
use claudebench_runtime::context::Probe;
use claudebench_runtime::redis::redis_error;
use serde_json::Value;

use crate::coordination::instances::{InstanceCounts, health};
use crate::coordination::tasks::{TASK_STREAMS, TaskQuery};
use crate::coordination::{iso_millis, now_ms};
use crate::counters::{self, Counters};
use crate::services::Domain;
use crate::sessions::parse_agents;

/// Entries read from each task stream to find the most recently changed tasks: enough for ten
/// distinct tasks unless a few of them changed many times in a row (then the newest-created
/// tasks fill the gap).
const TASK_ENTRIES_PER_STREAM: usize = 32;

/// What the node's own jobs publish, outside any event: leadership, partitions seen by gossip,
/// and instances the failure sweep declared failed. Everything an event publishes is in its
/// `publishes` list (`EventDef::publishes`, from the spec).
const NODE_EVENTS: [&str; 4] = ["leader.elected", "partition.detected", "partition.recovered", "instance.failed"];

/// The newest events on the bus and the most recently changed tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Recent {
    /// Most recently updated first.
    pub tasks: Vec<Task>,
    /// Newest first.
    pub events: Vec<EventRecord>,
}

/// What one health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthProbe {
    /// Redis answered a ping in time.
    pub redis: bool,
    /// The SQL store answered a ping in time; `None` when no store is configured.
    pub sql: Option<bool>,
    /// Registered instances by heartbeat age; `None` when Redis did not answer the read.
    pub instances: Option<InstanceCounts>,
    /// Durability (recovery after a Redis loss, SQL backlog, dead letters) by the same rule as
    /// `GET /health`.
    pub durability: HealthVerdict,
    /// This node's MCP endpoint is being served (over HTTP or a byte stream).
    pub mcp: bool,
}

/// One stream entry: its id, parsed, and its fields (see `lua/lib/publish.lua`).
struct Entry {
    id: String,
    order: (u64, u64),
    fields: HashMap<String, String>,
}

/// The views over one instance's domain (see [`Domain::views`]).
#[derive(Clone, Copy)]
pub struct Views<'a> {
    domain: &'a Domain,
}

impl<'a> Views<'a> {
    pub(crate) fn new(domain: &'a Domain) -> Self {
        Views { domain }
    }

    /// The `max_events` newest events on the bus and the `max_tasks` most recently changed tasks.
    pub async fn recent(&self, max_tasks: usize, max_events: usize) -> Result<Recent, Error> {
        // Task events are in every partition's streams; the others in the control slot's.
        let keys = &self.domain.runtime.keys;
        let mut streams: Vec<(String, usize)> = Vec::new();
        for part in self.domain.coord.tasks.partitions().all() {
            streams.extend(TASK_STREAMS.iter().map(|e| (part.stream(e), TASK_ENTRIES_PER_STREAM.max(max_events))));
        }
        let mut named: Vec<&str> = Vec::new();
        for name in
            NODE_EVENTS.into_iter().chain(self.domain.runtime.events.iter().flat_map(|e| e.publishes.iter().copied()))
        {
            if !TASK_STREAMS.contains(&name) && !named.contains(&name) {
                named.push(name);
                streams.push((keys.stream(name), max_events));
            }
        }
        let entries = self.newest_entries(&streams).await?;
        let events = entries.iter().take(max_events).map(event_record).collect();
        let task_entries: Vec<&Entry> =
            entries.iter().filter(|e| e.fields.get("entity").is_some_and(|x| x == "task")).collect();
        Ok(Recent { tasks: self.recent_tasks(&task_entries, max_tasks).await?, events })
    }

    /// The `max` newest `instance.failed` events, newest first, read from their own stream so
    /// that a failure stays visible however busy the bus was since.
    pub async fn failures(&self, max: usize) -> Result<Vec<EventRecord>, Error> {
        let stream = self.domain.runtime.keys.stream("instance.failed");
        Ok(self.newest_entries(&[(stream, max)]).await?.iter().map(event_record).collect())
    }

    /// The `max` most recently seen registered instances (past the cap, those are the ones a
    /// dashboard cares about), with their health and whether they lead.
    pub async fn instances(&self, max: usize) -> Result<Vec<Instance>, Error> {
        Ok(self.instances_and_leader(max).await?.0)
    }

    /// [`Views::instances`] and the current leader, read once for both (so `isLeader` and the
    /// leader agree).
    pub async fn instances_and_leader(&self, max: usize) -> Result<(Vec<Instance>, Option<Leader>), Error> {
        let coord = &self.domain.coord;
        let mut con = self.domain.runtime.redis.conn();
        let current = coord.leader.current(&mut con).await?;
        let seen = coord.instances.recently_seen(&mut con, max).await?;
        let leader = current.as_ref().map(|l| l.id.clone());
        let current = current.map(|l| Leader {
            id: l.id,
            term: i64::try_from(l.term).unwrap_or(i64::MAX),
            expires_at: iso_millis(l.expires_at_ms),
        });
        if seen.is_empty() {
            return Ok((Vec::new(), current));
        }
        let timeout = coord.instances.config().failure_timeout_ms;
        let now = now_ms();
        let instances = seen
            .into_iter()
            .map(|s| {
                let (subagents, teammates) = parse_agents(s.subagents.as_deref(), s.teammates.as_deref());
                Instance {
                    health: health(s.last_seen, now, timeout),
                    last_seen: iso_millis(s.last_seen),
                    is_leader: leader.as_deref() == Some(s.id.as_str()),
                    roles: s.roles,
                    id: s.id,
                    subagents: (!subagents.is_empty()).then(|| {
                        subagents
                            .into_iter()
                            .map(|a| RunningSubagent {
                                agent_id: a.agent_id,
                                agent_type: a.agent_type,
                                started_at: a.started_at,
                            })
                            .collect()
                    }),
                    teammates: (!teammates.is_empty()).then(|| {
                        teammates
                            .into_iter()
                            .map(|t| IdleTeammate { name: t.name, team: t.team, idle_since: t.idle_since })
                            .collect()
                    }),
                }
            })
            .collect();
        Ok((instances, current))
    }

    /// Probe Redis and SQL (each within `probe_timeout`, concurrently, so a hanging service
    /// cannot hold the answer up), count the instances by heartbeat age, assess durability and
    /// see whether MCP is served. Never fails: what does not answer is reported as down.
    pub async fn health(&self, probe_timeout: Duration) -> HealthProbe {
        let services = &self.domain.runtime;
        let Probe { redis, sql } = services.probe(probe_timeout).await;

        let instances = if redis {
            let mut con = services.redis.conn();
            let count = self.domain.coord.instances.count_by_health(&mut con, now_ms());
            match tokio::time::timeout(probe_timeout, count).await {
                Ok(Ok(counts)) => Some(counts),
                // Redis answered a ping but not the read: report what is known rather than fail.
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "health: cannot read the instance registry");
                    None
                }
                Err(_) => None,
            }
        } else {
            None
        };

        let durability = Readiness::assess(
            redis,
            // Without a configured store, its absence is not a fault.
            sql.unwrap_or(true),
            services.metrics.durability(),
            services.config.outbox_degraded_after.as_millis() as u64,
        );
        HealthProbe { redis, sql, instances, durability: durability.status, mcp: services.serving.mcp_up() }
    }

    /// The cluster-wide counters, this process's unflushed counts included.
    pub async fn counters(&self) -> Result<Counters, Error> {
        counters::read(self.domain).await
    }

    /// The newest entries of several streams (by key), newest first overall. The reads go out
    /// together (one connection pipelines them) but each alone: the streams may be in different
    /// hash slots.
    async fn newest_entries(&self, streams: &[(String, usize)]) -> Result<Vec<Entry>, Error> {
        let con = self.domain.runtime.redis.conn();
        let reads = streams.iter().map(|(key, count)| {
            let mut con = con.clone();
            async move {
                redis::cmd("XREVRANGE")
                    .arg(key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(*count)
                    .query_async::<Vec<(String, HashMap<String, String>)>>(&mut con)
                    .await
                    .map_err(redis_error)
            }
        });
        let replies: Vec<Vec<(String, HashMap<String, String>)>> = futures_util::future::try_join_all(reads).await?;
        let mut entries: Vec<Entry> = replies
            .into_iter()
            .flatten()
            .map(|(id, fields)| Entry { order: parse_entry_id(&id), id, fields })
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.order));
        Ok(entries)
    }

    /// The tasks the newest task-stream entries name (deleted ones skipped), completed by the
    /// newest-created tasks when the streams name fewer than `max`.
    async fn recent_tasks(&self, task_entries: &[&Entry], max: usize) -> Result<Vec<Task>, Error> {
        let tasks = &self.domain.coord.tasks;
        let mut con = self.domain.runtime.redis.conn();
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
            if found.len() == max {
                break;
            }
        }
        if found.len() < max {
            // Streams are capped and trimmed by age; the newest-created tasks complete the list.
            let page = tasks.list(&mut con, &TaskQuery { limit: max, ..TaskQuery::default() }).await?;
            for t in page.tasks {
                if found.len() == max {
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
