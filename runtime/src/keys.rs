//! Every Redis key and channel name the runtime uses, built in one place.
//!
//! Slot design (Redis Cluster): a Lua script may only touch keys of one hash slot.
//! * **Task partitions** (`{<prefix>:<p>:<salt>}`, see [`Partitions`]): each task lives in one
//!   partition; its record (`task:<id>`, one hash per task), the partition's pending queue,
//!   status indexes, worker queues, id counter, epoch marker and the task event streams its scripts
//!   append to share the partition's tag, so every task script is single-slot.
//! * **Control** (`{<prefix>}`): instances, leadership, gossip, quorum, batches, todos, hooks and
//!   the streams of their events — what scripts change together outside the tasks.
//! * **Lease repositories** (`{<prefix>:lease:<digest>}`, see [`LeaseRepoKeys`]): the file
//!   leases of one repository (its root directory, digested), their index, the session sets and
//!   the fencing-token counter share one tag, so every lease script is single-slot and unrelated
//!   repositories spread over the cluster. The registry of repositories holding leases and each
//!   session's list of repositories are in the control slot.
//! * **Own slots** (no tag): keys only ever touched alone (rate limits, circuit breakers, the
//!   response cache, counters) spread over the cluster.
//!
//! Nothing on a hot path enumerates keys: sets and sorted sets index what needs enumerating.

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

    // --- coordination slot: task partitions (see [`Partitions`]) ---------------------------------

    /// The partition count the deployment's Redis was first started with: a server started with
    /// another count refuses to run (task ids route to partitions by it).
    pub fn partition_count(&self) -> String {
        format!("{}:tasks:partitions", self.slot)
    }
    /// Lock held by the one instance recovering task state after a Redis data loss.
    pub fn recovery_lock(&self) -> String {
        format!("{}:epoch:recovering", self.slot)
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
    /// Counter behind instance incarnations: every registration of an instance that was not
    /// alive takes a new one, so work fenced off from an earlier incarnation (declared failed,
    /// unregistered) stays fenced without blocking the new one.
    pub fn incarnations(&self) -> String {
        format!("{}:instances:incarnation", self.slot)
    }
    /// Hash instance id → its current incarnation. Unlike the instance record it does not
    /// expire, so a worker found dead only after its record expired is still fenced by the
    /// incarnation its tasks were claimed under.
    pub fn instance_incarnations(&self) -> String {
        format!("{}:instances:incarnations", self.slot)
    }
    /// Hash of instances whose tasks are still being taken back from the partitions after a
    /// failure or an unregistration: id → JSON {reason, incarnation, lastSeen}. An entry stays
    /// until every partition is done, so a crash mid-way is finished by the next sweep.
    pub fn instances_cleanup(&self) -> String {
        format!("{}:instances:cleanup", self.slot)
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
    /// Claude Code task id → the server task mirroring it, for one session (TaskCreated,
    /// TaskCompleted).
    pub fn hook_tasks(&self, session: &str) -> String {
        format!("{}:hook:tasks:{session}", self.slot)
    }

    // --- coordination slot: file leases (the leases themselves: [`LeaseRepoKeys`]) ---------------

    /// Repositories that hold (or lately held) leases: digest → a version every new acquisition
    /// bumps, so the sweep forgets a repository only if nothing was acquired there since it
    /// looked.
    pub fn lease_repos(&self) -> String {
        format!("{}:leases:repos", self.slot)
    }
    /// The repositories (digests) one session took leases in, so its leases can be released
    /// everywhere when it stops or ends.
    pub fn lease_session_repos(&self, session: &str) -> String {
        format!("{}:leases:session:{session}", self.slot)
    }
    /// The keys of one repository's leases, under its own hash tag (`digest` names the root).
    pub fn lease_repo(&self, digest: &str) -> LeaseRepoKeys {
        LeaseRepoKeys { tag: format!("{{{}:lease:{digest}}}", self.prefix) }
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

    /// GCRA state of one event and caller (`lua/lib/gcra.lua`).
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

/// Redis Cluster's slot count.
pub const SLOTS: u16 = 16_384;
/// Most task partitions a deployment may have (`CLAUDEBENCH_PARTITIONS`).
pub const MAX_PARTITIONS: u32 = 1_024;

/// The hash slot Redis Cluster assigns a key: CRC16 (XMODEM) of the key, or of its hash tag
/// (the text between the first `{` and the next `}`, when not empty), modulo 16384.
pub fn slot(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tagged = bytes.iter().position(|b| *b == b'{').and_then(|open| {
        let close = bytes[open + 1..].iter().position(|b| *b == b'}')?;
        (close > 0).then(|| &bytes[open + 1..open + 1 + close])
    });
    crc16(tagged.unwrap_or(bytes)) % SLOTS
}

fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for b in bytes {
        crc ^= u16::from(*b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// The task partitions of a deployment: `count` hash tags, partition `p`'s chosen so that its
/// slot lies in the `p`-th `count`-th of the slot space. A cluster whose masters split the
/// slots evenly (as `redis-cli --cluster create` does) then carries `count / masters`
/// partitions per master when `count` is a multiple of the masters; any `count >= masters`
/// gives every master work. Naive tags (`{cb:0}`, `{cb:1}`…) land wherever CRC16 puts them
/// (6 of them put 4 on one of 3 masters in a test), hence the salt.
///
/// Task `t-<n>` lives in partition `n mod count`, so any instance routes an id without a
/// lookup; the count is therefore fixed for the life of a deployment's Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitions {
    parts: Vec<PartitionKeys>,
}

impl Partitions {
    /// `count` partitions (clamped to 1..=[`MAX_PARTITIONS`]) under `keys`' prefix.
    pub fn new(keys: &Keys, count: u32) -> Self {
        let count = count.clamp(1, MAX_PARTITIONS);
        let width = u32::from(SLOTS) / count;
        let parts = (0..count)
            .map(|p| {
                let (low, high) = (p * width, if p + 1 == count { u32::from(SLOTS) } else { (p + 1) * width });
                // CRC16 spreads evenly, so a salt that lands in a 1/count range is found after
                // about `count` tries; the bound only guards against an impossible range.
                let salt = (0..u32::MAX)
                    .find(|salt| {
                        let s = u32::from(slot(&format!("{}:{p}:{salt}", keys.prefix)));
                        (low..high).contains(&s)
                    })
                    .unwrap_or(0);
                PartitionKeys { index: p, count, tag: format!("{{{}:{p}:{salt}}}", keys.prefix) }
            })
            .collect();
        Partitions { parts }
    }

    /// How many partitions there are.
    pub fn count(&self) -> u32 {
        self.parts.len() as u32
    }

    /// Every partition, in index order.
    pub fn all(&self) -> &[PartitionKeys] {
        &self.parts
    }

    /// Partition `index` (modulo the count).
    pub fn get(&self, index: u32) -> &PartitionKeys {
        &self.parts[(index % self.count()) as usize]
    }

    /// The partition of task `t-<n>`; `None` for an id no task script ever hands out.
    pub fn of_task(&self, id: &str) -> Option<&PartitionKeys> {
        let n: u64 = id.strip_prefix("t-")?.parse().ok()?;
        Some(&self.parts[(n % u64::from(self.count())) as usize])
    }
}

/// The keys of one task partition, all under its hash tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionKeys {
    index: u32,
    count: u32,
    tag: String,
}

impl PartitionKeys {
    /// This partition's index, 0-based.
    pub fn index(&self) -> u32 {
        self.index
    }
    /// How many partitions the deployment has.
    pub fn count(&self) -> u32 {
        self.count
    }
    /// The hash tag, braces included: `{cb:0:3}`.
    pub fn tag(&self) -> &str {
        &self.tag
    }
    /// One task's record (a hash). Scripts that discover tasks (claim, requeue, listing) build
    /// this name from the tag of their declared keys: same slot, so Cluster-legal.
    pub fn task(&self, id: &str) -> String {
        format!("{}:task:{id}", self.tag)
    }
    /// Claimable tasks (score orders by priority, then id).
    pub fn pending(&self) -> String {
        format!("{}:tasks:pending", self.tag)
    }
    /// Tasks Redis holds with one status, by id number (listing, paging; the four together list
    /// every task of the partition).
    pub fn by_status(&self, status: &str) -> String {
        format!("{}:tasks:status:{status}", self.tag)
    }
    /// Tasks Redis holds whose `assignedTo` is one instance (finished ones included), by id
    /// number.
    pub fn by_assignee(&self, instance: &str) -> String {
        format!("{}:tasks:assignee:{instance}", self.tag)
    }
    /// Unfinished tasks owned by one worker in this partition (same score as `pending`).
    pub fn worker_queue(&self, instance: &str) -> String {
        format!("{}:queue:instance:{instance}", self.tag)
    }
    /// A caller's rate limit for an event whose script checks it in this partition's slot (with
    /// one partition: `task.create`); the GCRA state, like [`Keys::rate_limit`].
    pub fn rate_limit(&self, event: &str, caller: &str) -> String {
        format!("{}:ratelimit:{event}:{caller}", self.tag)
    }
    /// Finished tasks waiting to leave Redis (score = when they finished, ms).
    pub fn finished(&self) -> String {
        format!("{}:tasks:finished", self.tag)
    }
    /// Tasks deleted lately (member = id, score = when, ms): SQL may still hold a retired copy
    /// until the deletion reaches it, and that copy must neither answer nor come back.
    pub fn deleted(&self) -> String {
        format!("{}:tasks:deleted", self.tag)
    }
    /// Instance incarnations fenced off this partition (member = instance id, score = the last
    /// incarnation fenced): a claim or assignment by a fenced incarnation is refused.
    pub fn fenced(&self) -> String {
        format!("{}:instances:fenced", self.tag)
    }
    /// The last task id number handed out here (ids of this partition are `≡ index mod count`).
    pub fn seq(&self) -> String {
        format!("{}:tasks:seq", self.tag)
    }
    /// Highest id number the counter may hand out: ids up to it are reserved in SQL. Absent
    /// without SQL persistence.
    pub fn seq_limit(&self) -> String {
        format!("{}:tasks:seq:limit", self.tag)
    }
    /// The epoch marker: present exactly while Redis holds this partition's complete task
    /// state (set by the first start and by recovery after a data loss; task scripts refuse to
    /// run without it).
    pub fn epoch(&self) -> String {
        format!("{}:epoch", self.tag)
    }
    /// The stream of one task event in this partition: `{cb:0:3}:stream:task.created`.
    pub fn stream(&self, event: &str) -> String {
        format!("{}:stream:{event}", self.tag)
    }
}

/// The keys of one repository's file leases, all under its hash tag. `lua/lib/lease_keys.lua`
/// builds the per-path and per-session names from the tag the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRepoKeys {
    tag: String,
}

impl LeaseRepoKeys {
    /// The hash tag, braces included: `{cb:lease:3a9c…}`.
    pub fn tag(&self) -> &str {
        &self.tag
    }
    /// Every lease of the repository: path → when it lapses (ms), a sorted set.
    pub fn index(&self) -> String {
        format!("{}:leases", self.tag)
    }
    /// The fencing-token counter: every new acquisition takes the next number. Never expires,
    /// so a token is never handed out twice while Redis keeps its data.
    pub fn seq(&self) -> String {
        format!("{}:leases:seq", self.tag)
    }
    /// One lease (a hash: holder, token, since, expiresAt, …), by canonical path.
    pub fn lease(&self, path: &str) -> String {
        format!("{}:lease:{path}", self.tag)
    }
    /// The paths one session holds here (`session` made safe as a key part).
    pub fn session(&self, session: &str) -> String {
        format!("{}:leases:session:{session}", self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_keys_share_one_hash_tag() {
        let k = Keys::new("cb");
        for key in [k.instance("w1"), k.instances(), k.leader(), k.stream("instance.failed"), k.incarnations()] {
            assert!(key.starts_with("{cb}:"), "{key}");
        }
        assert_eq!(k.rate_limit("task.create", "c1"), "cb:ratelimit:task.create:c1");
        assert_eq!(k.channel("task.created"), "cb:events:task.created");
    }

    /// The slot function is Redis Cluster's (values from the cluster specification and
    /// `CLUSTER KEYSLOT`).
    #[test]
    fn slots_are_redis_clusters() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("bar"), 5061);
        assert_eq!(slot("{user1000}.following"), slot("{user1000}.followers"));
        assert_eq!(slot("foo{}{bar}"), slot("foo{}{bar}"));
        assert_eq!(slot("foo{}{bar}"), crc16(b"foo{}{bar}") % SLOTS);
        assert_eq!(slot("foo{{bar}}zap"), slot("{bar"));
    }

    #[test]
    fn a_repositorys_lease_keys_share_its_own_tag() {
        let k = Keys::new("cb");
        let repo = k.lease_repo("0123456789abcdef");
        assert_eq!(repo.tag(), "{cb:lease:0123456789abcdef}");
        for key in [repo.index(), repo.seq(), repo.lease("/p/{x}:y"), repo.session("s1")] {
            assert_eq!(slot(&key), slot(repo.tag()), "{key}");
        }
        assert_ne!(slot(&repo.index()), slot(&k.lease_repos()));
        assert!(k.lease_repos().starts_with("{cb}:") && k.lease_session_repos("s").starts_with("{cb}:"));
    }

    #[test]
    fn partitions_spread_over_the_slot_space_and_keep_their_keys_together() {
        let k = Keys::new("cb");
        for count in [1, 2, 3, 6, 7, 64] {
            let parts = Partitions::new(&k, count);
            assert_eq!(parts.count(), count);
            let width = u32::from(SLOTS) / count;
            for p in parts.all() {
                let s = u32::from(slot(&p.pending()));
                assert!(s / width == p.index() || (p.index() + 1 == count && s >= p.index() * width), "{count} {p:?}");
                for key in [
                    p.task("t-1"),
                    p.by_status("pending"),
                    p.worker_queue("w"),
                    p.epoch(),
                    p.seq(),
                    p.stream("task.created"),
                ] {
                    assert_eq!(slot(&key), slot(&p.pending()), "{key}");
                }
            }
        }
        // Thirds of the slot space, as `redis-cli --cluster create` gives three masters: six
        // partitions put two on each.
        let parts = Partitions::new(&k, 6);
        let mut per_master = [0; 3];
        for p in parts.all() {
            per_master[usize::from(slot(&p.pending())) * 3 / usize::from(SLOTS)] += 1;
        }
        assert_eq!(per_master, [2, 2, 2]);
    }

    #[test]
    fn task_ids_route_to_their_partition() {
        let parts = Partitions::new(&Keys::new("cb"), 3);
        assert_eq!(parts.of_task("t-7").map(PartitionKeys::index), Some(1));
        assert_eq!(parts.of_task("t-9").map(PartitionKeys::index), Some(0));
        assert_eq!(parts.of_task("x-9"), None);
        assert_eq!(parts.of_task("t-"), None);
        assert_eq!(parts.of_task("t--1"), None);
        assert_eq!(Partitions::new(&Keys::new("cb"), 0).count(), 1);
        assert_eq!(Partitions::new(&Keys::new("cb"), u32::MAX).count(), MAX_PARTITIONS);
    }
}
