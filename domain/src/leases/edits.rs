//! The pre-tool hook's use of leases: after the guard, a call that may run takes (or renews) the
//! lease of every file it writes; a file another session holds turns the answer into `deny` (or
//! `ask`, per [`super::LeaseConfig::conflict`]) with a reason naming the holder and since when.
//!
//! * A guard `deny` stays a deny, and takes no lease.
//! * A guard `ask` takes the leases too (the user may approve the call), and a lease conflict
//!   adds its reason to the question — or turns it into a deny.
//! * Without a session id or a working directory no lease is taken: there is no holder to name,
//!   and relative paths cannot be placed.
//! * When a call writes several files and one is held, the leases this call took first are
//!   given back, so a refused call holds nothing new.
//! * Leases depend on Redis, the guard does not: a lease that cannot be checked (Redis down, a
//!   path that cannot be named) leaves the guard's answer as it was, with a warning.

use crate::policy::{Decision, HookDecision};

use super::{Acquire, Lease, Leases, Located, clock, locate};

/// The rule named in a decision a lease made (for the audit).
pub const LEASE_RULE: &str = "file_lease";

/// Files outside these are leased; these are devices and kernel views, not files a session edits.
const NOT_FILES: [&str; 3] = ["/dev/", "/proc/", "/sys/"];

impl Leases {
    /// The guard's `decision` for a call that writes `writes` (absolute or relative to `cwd`),
    /// with the session's leases taken or renewed, or refused when another session holds one
    /// (see the module docs).
    pub async fn guard_edits(
        &self,
        session: Option<&str>,
        cwd: Option<&str>,
        writes: &[String],
        mut decision: HookDecision,
    ) -> HookDecision {
        let (Some(session), Some(cwd)) = (session.filter(|s| !s.is_empty()), cwd) else { return decision };
        if decision.decision == Decision::Deny || writes.is_empty() {
            return decision;
        }
        let mut taken: Vec<Lease> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for write in writes {
            let located = match locate(cwd, write).await {
                Ok(l) if l.directory || NOT_FILES.iter().any(|d| l.path.starts_with(d)) => continue,
                Ok(l) => l,
                Err(e) => {
                    warn(&mut decision, format!("no file lease for `{write}`: {}", e.message));
                    continue;
                }
            };
            if seen.contains(&located.path) {
                continue;
            }
            seen.push(located.path.clone());
            match self.acquire_located(session, &located, None, None).await {
                Ok(Acquire::Granted { lease, renewed: false }) => taken.push(lease),
                Ok(Acquire::Granted { .. }) => {}
                Ok(Acquire::Held(holder)) => {
                    self.give_back(session, &taken).await;
                    return self.refuse(decision, &located, &holder);
                }
                Ok(Acquire::Stale { .. }) => {}
                Err(e) => {
                    warn(&mut decision, format!("file lease of `{}` not checked: {}", located.display(), e.message))
                }
            }
        }
        decision
    }

    /// The answer to a call editing a file `holder` leases.
    fn refuse(&self, mut decision: HookDecision, file: &Located, holder: &Lease) -> HookDecision {
        let answer = match self.config.conflict {
            super::ConflictAnswer::Deny => Decision::Deny,
            super::ConflictAnswer::Ask => Decision::Ask,
        };
        let mut reason = format!(
            "{} is being edited by {}; ask it to finish or wait until the lease expires at {}",
            file.display(),
            holder.held_by(),
            clock(holder.expires_at_ms)
        );
        if decision.decision == Decision::Ask
            && let Some(asked) = &decision.reason
        {
            reason.push_str(&format!(". Also: {asked}"));
        }
        decision.decision = decision.decision.max(answer);
        decision.reason = Some(reason);
        decision.rule = Some(LEASE_RULE.to_string());
        if decision.decision == Decision::Deny {
            decision.modified = None;
        }
        decision
    }

    /// Release the leases a refused call took, so it holds nothing new.
    async fn give_back(&self, session: &str, taken: &[Lease]) {
        for lease in taken {
            let located = Located { path: lease.path.clone(), root: lease.root.clone(), directory: false };
            if let Err(e) = self.release_located(session, &located, Some(lease.token)).await {
                tracing::warn!(path = %lease.path, error = %e.message, "lease of a refused call not given back; it lapses by its TTL");
            }
        }
    }
}

fn warn(decision: &mut HookDecision, text: String) {
    if !decision.warnings.contains(&text) {
        decision.warnings.push(text);
    }
}
