//! The agents around a session: the subagents it runs (SubagentStart until SubagentStop) and the
//! teammates of its agent team that went idle (TeammateIdle), kept in the session's instance
//! record (`lua/instance_agents.lua`) so they show wherever instances are shown and leave with
//! the record. A session with no registered instance keeps no such record; every hook is
//! published on the bus all the same.

use claudebench_contract::error::Error;
use claudebench_runtime::scripts::{Lua, eval_ok, field, lua};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Session, Sessions, now};

static AGENTS: Lua = lua!("instance_agents");
/// The session scripts, for loading them at start.
pub static SCRIPTS: [&Lua; 1] = [&AGENTS];

/// Instance record field holding the running subagents (agent id → [`RunningSubagent`]).
pub const SUBAGENTS_FIELD: &str = "subagents";
/// Instance record field holding the idle teammates (name → [`IdleTeammate`]).
pub const TEAMMATES_FIELD: &str = "teammates";
/// Most subagents (and, apart, teammates) one instance record keeps: a session whose
/// SubagentStops were lost (a crash) must not grow its record forever. The oldest go first.
pub const MAX_AGENTS: usize = 64;

/// A subagent running in a session, as the instance record keeps it (the spec's
/// `RunningSubagent`, wire form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunningSubagent {
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    pub started_at: String,
}

/// A teammate that went idle, as the instance record keeps it (the spec's `IdleTeammate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleTeammate {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub idle_since: String,
}

/// The agents an instance record holds, from its raw `subagents` and `teammates` fields, oldest
/// first. Unreadable values read as none: a corrupt field must not break the instance view.
pub fn parse_agents(subagents: Option<&str>, teammates: Option<&str>) -> (Vec<RunningSubagent>, Vec<IdleTeammate>) {
    fn values<T: for<'de> Deserialize<'de>>(raw: Option<&str>) -> Vec<T> {
        raw.and_then(|r| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(r).ok())
            .map(|m| m.into_iter().filter_map(|(_, v)| serde_json::from_value(v).ok()).collect())
            .unwrap_or_default()
    }
    let mut subs: Vec<RunningSubagent> = values(subagents);
    subs.sort_by(|a, b| (&a.started_at, &a.agent_id).cmp(&(&b.started_at, &b.agent_id)));
    let mut mates: Vec<IdleTeammate> = values(teammates);
    mates.sort_by(|a, b| (&a.idle_since, &a.name).cmp(&(&b.idle_since, &b.name)));
    (subs, mates)
}

impl Sessions {
    /// Change one entry of the session's instance record (`None` removes it; `keep` leaves an
    /// existing entry as it is). Returns the
    /// number of entries the field now holds, or `None` when the session has no registered
    /// instance (then nothing is written).
    async fn set_agent(
        &self,
        session: &Session,
        field_name: &str,
        key: &str,
        entry: Option<String>,
        time_field: &str,
        keep: bool,
    ) -> Result<Option<u64>, Error> {
        if !session.explicit {
            return Ok(None);
        }
        let keys = [self.keys.instance(&session.instance_id())];
        let args = [
            field_name.to_string(),
            key.to_string(),
            entry.unwrap_or_default(),
            MAX_AGENTS.to_string(),
            time_field.to_string(),
            if keep { "1" } else { "0" }.to_string(),
        ];
        let v = eval_ok(&mut self.conn(), &AGENTS, &keys, &args).await?;
        if field(&v, 0, "instance_agents")? != "1" {
            return Ok(None);
        }
        Ok(Some(field(&v, 1, "instance_agents")?.parse().unwrap_or(0)))
    }

    /// A subagent started: it joins the running subagents of the session's instance (a repeated
    /// SubagentStart keeps the first start time), and
    /// `hook.subagent.started` is published. Returns how many subagents the instance now runs
    /// (`None` without a registered instance).
    pub async fn start_subagent(
        &self,
        session: &Session,
        agent_id: &str,
        agent_type: Option<&str>,
    ) -> Result<Option<u64>, Error> {
        let (_, iso) = now();
        let entry = RunningSubagent {
            agent_id: agent_id.to_string(),
            agent_type: agent_type.map(str::to_string),
            started_at: iso.clone(),
        };
        let json = serde_json::to_string(&entry).map_err(|e| Error::internal(e.to_string()))?;
        let running = self.set_agent(session, SUBAGENTS_FIELD, agent_id, Some(json), "startedAt", true).await?;
        let payload = json!({
            "sessionId": session.id,
            "agentId": agent_id,
            "agentType": agent_type,
            "running": running,
            "timestamp": iso,
        });
        self.bus.publish("hook.subagent.started", &payload).await?;
        self.touch(session).await;
        Ok(running)
    }

    /// A subagent stopped: it leaves the running subagents of the session's instance, and
    /// `hook.subagent.stopped` is published.
    pub(super) async fn stop_subagent(
        &self,
        session: &Session,
        agent_id: Option<&str>,
        agent_type: Option<&str>,
    ) -> Result<(), Error> {
        let running = match agent_id {
            Some(id) => self.set_agent(session, SUBAGENTS_FIELD, id, None, "startedAt", false).await?,
            None => None,
        };
        let payload = json!({
            "sessionId": session.id,
            "agentId": agent_id,
            "agentType": agent_type,
            "running": running,
            "timestamp": now().1,
        });
        self.bus.publish("hook.subagent.stopped", &payload).await?;
        Ok(())
    }

    /// A teammate went idle: the session's instance names it with its team and the time, and
    /// `hook.teammate.idle` is published.
    pub async fn teammate_idle(&self, session: &Session, name: &str, team: Option<&str>) -> Result<(), Error> {
        let (_, iso) = now();
        let entry = IdleTeammate { name: name.to_string(), team: team.map(str::to_string), idle_since: iso.clone() };
        let json = serde_json::to_string(&entry).map_err(|e| Error::internal(e.to_string()))?;
        self.set_agent(session, TEAMMATES_FIELD, name, Some(json), "idleSince", false).await?;
        let payload = json!({"sessionId": session.id, "teammateName": name, "teamName": team, "timestamp": iso});
        self.bus.publish("hook.teammate.idle", &payload).await?;
        self.touch(session).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_read_oldest_first_and_corrupt_fields_read_as_none() {
        let subs = r#"{"b": {"agentId": "b", "startedAt": "2025-01-01T00:00:02Z"},
                       "a": {"agentId": "a", "agentType": "Explore", "startedAt": "2025-01-01T00:00:01Z"},
                       "x": 3}"#;
        let (s, t) = parse_agents(Some(subs), Some("not json"));
        assert_eq!(s.iter().map(|a| a.agent_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(s[0].agent_type.as_deref(), Some("Explore"));
        assert!(t.is_empty());
        assert_eq!(parse_agents(None, None), (vec![], vec![]));
    }
}
