//! Every Redis key and channel name the runtime uses, built in one place.
//!
//! Slot design (Redis Cluster): a Lua script may only touch keys of one hash slot. All
//! coordination state that scripts change together — tasks, queues, instances, leadership,
//! gossip, quorum, batches, todos and the event streams that are appended in the same script —
//! carries the hash tag `{<prefix>}`, so every such script is Cluster-legal. Keys that are only
//! ever touched alone (rate-limit windows, circuit breakers, the response cache) have no tag and
//! spread over the cluster. Nothing on a hot path enumerates keys: sets and sorted sets index
//! what needs enumerating (`instances`, `tasks:*`).

/// Builds keys under one configurable prefix (default `cb`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
    /// `{prefix}`: the hash tag of the coordination slot.
    slot: String,
}

impl Default for Keys {
    fn default() -> Self {
        Keys::new("cb")
    }
}

impl Keys {
    /// Keys under `prefix` (e.g. `cb`, or `cb-test-1234` for an isolated test).
    pub fn new(prefix: &str) -> Self {
        Keys { prefix: prefix.to_string(), slot: format!("{{{prefix}}}") }
    }

    /// The plain prefix, e.g. `cb`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    // --- coordination slot: tasks -------------------------------------------------------------

    /// Sorted set of claimable tasks (score orders by priority, then age).
    pub fn tasks_pending(&self) -> String {
        format!("{}:tasks:pending", self.slot)
    }
    /// Sorted set of every task id by creation time (listing, paging).
    pub fn tasks_all(&self) -> String {
        format!("{}:tasks:all", self.slot)
    }
    /// Sorted set of task ids with one status, by creation time.
    pub fn tasks_by_status(&self, status: &str) -> String {
        format!("{}:tasks:status:{status}", self.slot)
    }
    /// Counter behind unique task ids.
    pub fn task_seq(&self) -> String {
        format!("{}:tasks:seq", self.slot)
    }
    /// Highest id the counter may hand out: ids up to it are reserved in SQL
    /// (`persist::recovery`). Absent without SQL persistence.
    pub fn task_seq_limit(&self) -> String {
        format!("{}:tasks:seq:limit", self.slot)
    }
    /// The epoch marker: present exactly while Redis holds complete task state (set by the first
    /// start and by recovery after a data loss; task scripts refuse to run without it).
    pub fn epoch(&self) -> String {
        format!("{}:epoch", self.slot)
    }
    /// Lock held by the one instance recovering task state after a Redis data loss.
    pub fn recovery_lock(&self) -> String {
        format!("{}:epoch:recovering", self.slot)
    }
    /// Tasks assigned to (or claimed by) one worker.
    pub fn worker_queue(&self, instance: &str) -> String {
        format!("{}:queue:instance:{instance}", self.slot)
    }
    /// Every task record, as columns of one hash (`<id>:<column>`). One hash, not a key per task,
    /// because claim, auto-assign and requeue discover their tasks inside the script and a script
    /// may only touch the keys it declares.
    pub fn task_records(&self) -> String {
        format!("{}:tasks:records", self.slot)
    }
    /// Sorted set (by creation order) of the tasks whose `assignedTo` is one instance, finished
    /// ones included: the index behind listing by assignee.
    pub fn tasks_by_assignee(&self, instance: &str) -> String {
        format!("{}:tasks:assignee:{instance}", self.slot)
    }
    // --- coordination slot: instances and cluster ---------------------------------------------

    /// Hash of one registered instance.
    pub fn instance(&self, id: &str) -> String {
        format!("{}:instance:{id}", self.slot)
    }
    /// Sorted set of registered instances, score = last heartbeat (ms).
    pub fn instances(&self) -> String {
        format!("{}:instances", self.slot)
    }
    /// Set of instance ids declared failed.
    pub fn instances_failed(&self) -> String {
        format!("{}:instances:failed", self.slot)
    }
    /// Set of instances holding a role.
    pub fn role(&self, role: &str) -> String {
        format!("{}:role:{role}", self.slot)
    }
    /// Leader lease hash {id, term, expiresAt}.
    pub fn leader(&self) -> String {
        format!("{}:leader", self.slot)
    }
    /// Gossip health hash: instance → {status, lastSeen}.
    pub fn gossip(&self) -> String {
        format!("{}:gossip:health", self.slot)
    }
    /// Partition flag hash {detected, since, healthy, total}.
    pub fn partition(&self) -> String {
        format!("{}:partition", self.slot)
    }
    /// Votes of one quorum decision.
    pub fn quorum(&self, decision: &str) -> String {
        format!("{}:quorum:{decision}", self.slot)
    }
    /// Lock and progress of one batch.
    pub fn batch(&self, batch_id: &str) -> String {
        format!("{}:batch:{batch_id}", self.slot)
    }
    /// Versioned global state hash.
    pub fn global_state(&self) -> String {
        format!("{}:state:global", self.slot)
    }
    /// Aggregated cluster metrics hash.
    pub fn global_metrics(&self) -> String {
        format!("{}:metrics:global", self.slot)
    }
    /// Ordered event partition (list) for one partition key.
    pub fn partition_events(&self, key: &str) -> String {
        format!("{}:partition:events:{key}", self.slot)
    }

    // --- coordination slot: todos (per Claude Code session) ------------------------------------

    /// The last todo list seen for one session.
    pub fn todos(&self, session: &str) -> String {
        format!("{}:todos:{session}", self.slot)
    }
    /// Todo content → task id for one session.
    pub fn todo_tasks(&self, session: &str) -> String {
        format!("{}:todos:{session}:tasks", self.slot)
    }

    /// Status-change history of one session's todos (capped list).
    pub fn todo_history(&self, session: &str) -> String {
        format!("{}:todos:{session}:history", self.slot)
    }
    /// Snapshot of one session's todos and in-progress tasks taken before a compaction.
    pub fn todo_snapshot(&self, session: &str) -> String {
        format!("{}:todos:{session}:snapshot", self.slot)
    }

    // --- coordination slot: Claude Code hooks ------------------------------------------------
    // In the coordination slot so that one hook's writes can go in one MULTI (Cluster-legal).

    /// Execution counters of one tool, across sessions.
    pub fn hook_tool_stats(&self, tool: &str) -> String {
        format!("{}:hook:tool:{tool}", self.slot)
    }
    /// Sliding window (sorted set by time) of one tool's recent errors in one session.
    pub fn hook_tool_errors(&self, tool: &str, session: &str) -> String {
        format!("{}:hook:errors:{tool}:{session}", self.slot)
    }
    /// Execution log of one session (capped list, expiring).
    pub fn hook_tool_log(&self, session: &str) -> String {
        format!("{}:hook:log:{session}", self.slot)
    }
    /// Prompt history of one session (capped list, expiring).
    pub fn hook_prompts(&self, session: &str) -> String {
        format!("{}:hook:prompts:{session}", self.slot)
    }
    /// Lifecycle record of one session (stops, notifications, last activity).
    pub fn hook_session(&self, session: &str) -> String {
        format!("{}:hook:session:{session}", self.slot)
    }

    // --- coordination slot: events ------------------------------------------------------------

    /// Durable stream of one event type: `{cb}:stream:task.created`.
    pub fn stream(&self, event: &str) -> String {
        format!("{}:stream:{event}", self.slot)
    }
    /// Processed-id window of one consumer group (exactly-once).
    pub fn dedup(&self, group: &str) -> String {
        format!("{}:dedup:{group}", self.slot)
    }
    /// Outbox entries the persister could not write to SQL, with the reason (a stream).
    pub fn dead_letters(&self) -> String {
        format!("{}:deadletter", self.slot)
    }
    /// Audit stream.
    pub fn audit(&self) -> String {
        format!("{}:audit", self.slot)
    }
    /// Cluster-wide counters every instance adds its own to once a second (`system.metrics`).
    /// Touched alone, so outside the hash tag.
    pub fn counters(&self) -> String {
        format!("{}:metrics:counters", self.prefix)
    }

    /// Pub/sub channel of one event type: `cb:events:task.created` (pattern `cb:events:task.*`).
    pub fn channel(&self, event: &str) -> String {
        format!("{}:events:{event}", self.prefix)
    }
    /// Pattern matching every event channel.
    pub fn channel_pattern(&self) -> String {
        format!("{}:events:*", self.prefix)
    }

    // --- own slots: touched alone -------------------------------------------------------------

    /// Sliding-window log of one event and caller.
    pub fn rate_limit(&self, event: &str, caller: &str) -> String {
        format!("{}:ratelimit:{event}:{caller}", self.prefix)
    }
    /// Circuit breaker hash of one event, shared by every instance.
    pub fn circuit(&self, event: &str) -> String {
        format!("{}:circuit:{event}", self.prefix)
    }
    /// Channel on which circuit transitions are announced (local copies stay fresh).
    pub fn circuit_channel(&self) -> String {
        format!("{}:circuit:changes", self.prefix)
    }
    /// Cached answer of one cacheable event for one input digest.
    pub fn cache(&self, event: &str, digest: &str) -> String {
        format!("{}:cache:{event}:{digest}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordination_keys_share_one_hash_tag() {
        let k = Keys::new("cb");
        for key in
            [k.task_records(), k.tasks_pending(), k.worker_queue("w1"), k.instance("w1"), k.stream("task.created")]
        {
            assert!(key.starts_with("{cb}:"), "{key}");
        }
        assert_eq!(k.rate_limit("task.create", "c1"), "cb:ratelimit:task.create:c1");
        assert_eq!(k.channel("task.created"), "cb:events:task.created");
    }
}
