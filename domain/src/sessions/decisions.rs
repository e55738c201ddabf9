//! The audit trail of guard decisions read back (`hook.decisions`): the newest entries of the
//! audit stream [`Sessions::audit_decision`] writes, newest first, optionally only one kind of
//! decision or one session's.
//!
//! Filters are applied while scanning: the stream is read newest first in pages (`XREVRANGE`
//! with `COUNT`, each page continuing just before the last id seen) until `limit` matches are
//! found or [`MAX_SCANNED`] entries were read, so a filter that matches rarely still costs a
//! bounded read.

use std::collections::HashMap;

use claudebench_contract::error::Error;
use claudebench_generated::types::{AuditedDecision, HookDecisionsOutputDecisionsItem as AuditedCall};
use claudebench_runtime::bus::consumer::parse_entry_id;
use claudebench_runtime::redis::redis_error;

use super::{DEFAULT_SESSION, Sessions};
use crate::coordination::iso_millis;

/// Most audit entries one read examines.
pub const MAX_SCANNED: usize = 5_000;
/// Entries read per page while a filter is applied.
const PAGE: usize = 500;

/// Which decisions to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionQuery<'a> {
    /// Most decisions returned.
    pub limit: usize,
    /// Only this kind.
    pub decision: Option<AuditedDecision>,
    /// Only this session's.
    pub session: Option<&'a str>,
}

/// What [`Sessions::decisions`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decisions {
    /// Newest first.
    pub decisions: Vec<AuditedCall>,
    /// The scan stopped at [`MAX_SCANNED`] entries with fewer than `limit` matches while older
    /// entries remain.
    pub truncated: bool,
}

impl Sessions {
    /// The newest audited guard decisions matching `query`, newest first.
    pub async fn decisions(&self, query: DecisionQuery<'_>) -> Result<Decisions, Error> {
        let limit = query.limit.max(1);
        let filtered = query.decision.is_some() || query.session.is_some();
        let key = self.keys.audit();
        let mut con = self.conn();
        let mut found = Decisions::default();
        let mut scanned = 0;
        // The newest end of the next page: `+`, then just before the last id read.
        let mut end = "+".to_string();
        loop {
            let budget = MAX_SCANNED - scanned;
            // Unfiltered, every entry matches: one page of exactly what is missing.
            let count = if filtered { PAGE } else { limit - found.decisions.len() }.min(budget);
            let page: Vec<(String, HashMap<String, String>)> = redis::cmd("XREVRANGE")
                .arg(&key)
                .arg(&end)
                .arg("-")
                .arg("COUNT")
                .arg(count)
                .query_async(&mut con)
                .await
                .map_err(redis_error)?;
            let exhausted = page.len() < count;
            scanned += page.len();
            if let Some((last, _)) = page.last() {
                end = format!("({last}");
            }
            for (id, fields) in page {
                let Some(call) = audited_call(id, fields) else {
                    continue;
                };
                if query.decision.is_some_and(|d| d != call.decision)
                    || query.session.is_some_and(|s| s != call.session_id)
                {
                    continue;
                }
                found.decisions.push(call);
                if found.decisions.len() == limit {
                    return Ok(found);
                }
            }
            if exhausted {
                return Ok(found);
            }
            if scanned >= MAX_SCANNED {
                // Whether anything older is left: one more entry says.
                let more: Vec<(String, HashMap<String, String>)> = redis::cmd("XREVRANGE")
                    .arg(&key)
                    .arg(&end)
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(&mut con)
                    .await
                    .map_err(redis_error)?;
                found.truncated = !more.is_empty();
                return Ok(found);
            }
        }
    }
}

/// One audit entry as the spec's decision; `None` for an entry that is not a guard decision
/// (no tool, or a decision name this server does not know).
fn audited_call(id: String, mut f: HashMap<String, String>) -> Option<AuditedCall> {
    let decision = match f.get("decision")?.as_str() {
        "allow" => AuditedDecision::Allow,
        "warn" => AuditedDecision::Warn,
        "modify" => AuditedDecision::Modify,
        "ask" => AuditedDecision::Ask,
        "deny" => AuditedDecision::Deny,
        _ => return None,
    };
    let tool = f.remove("tool").filter(|t| !t.is_empty())?;
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    // `ts` is written with the entry; the entry id's time stands in for one without it.
    let at = non_empty(f.remove("ts")).unwrap_or_else(|| iso_millis(i64::try_from(parse_entry_id(&id).0).unwrap_or(0)));
    Some(AuditedCall {
        at,
        tool,
        decision,
        rule: non_empty(f.remove("rule")),
        reason: f.remove("reason"),
        warnings: non_empty(f.remove("warnings")).map(|w| w.split('\n').map(str::to_string).collect()),
        session_id: non_empty(f.remove("session")).unwrap_or_else(|| DEFAULT_SESSION.to_string()),
        tool_use_id: non_empty(f.remove("toolUseId")),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn entries_become_decisions_with_empty_fields_left_out() {
        let call = audited_call(
            "1757937871000-0".into(),
            entry(&[("tool", "Bash"), ("decision", "warn"), ("rule", ""), ("session", "s1"), ("warnings", "a\nb")]),
        )
        .unwrap();
        assert_eq!((call.decision, call.rule, call.reason), (AuditedDecision::Warn, None, None));
        assert_eq!(call.warnings, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!((call.at.as_str(), call.session_id.as_str()), ("2025-09-15T12:04:31.000Z", "s1"));
        assert!(audited_call("1-0".into(), entry(&[("tool", "Bash"), ("decision", "maybe")])).is_none());
        assert!(audited_call("1-0".into(), entry(&[("decision", "deny")])).is_none());
    }
}
