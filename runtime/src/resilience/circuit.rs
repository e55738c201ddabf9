//! Circuit breakers whose state every instance shares through Redis, read from a local copy.
//!
//! The hot path ([`CircuitBreakers::admit`] while closed, or open and still cooling down) reads
//! local memory only. Redis is written (by `lua/circuit_record.lua`) only when an outcome
//! changes something: a failure, the first success after failures, a probe's outcome. Moving
//! open → half-open and admitting probes is decided in Redis (`lua/circuit_acquire.lua`), so at
//! most `half_open_probes` probes run across all instances. Every change is announced on
//! `Keys::circuit_channel`, and each instance's copy follows those announcements.
//!
//! Staleness bound: while the change feed is connected, a local copy lags Redis by the pub/sub
//! delivery time (sub-millisecond on a LAN). When the feed drops, copies may be stale until it
//! re-subscribes (backoff ≤ 1 s plus the connect time) and re-reads every known circuit. A
//! stale copy errs in two ways only: an instance keeps admitting for that long after another
//! one opened the circuit, or keeps rejecting until its local cool-down ends (then Redis
//! decides). Open periods are measured from Redis' clock and converted to a local `Instant`
//! on receipt, so clock skew between instances does not matter.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::event::CircuitBreakerDef;
use serde::Deserialize;

use crate::bus::subscribe::{Flow, Listener, listen};
use crate::keys::Keys;
use crate::redis::{Conn, RedisHandle, redis_error};
use crate::scripts;

/// A circuit's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CircuitState {
    #[default]
    Closed,
    Open,
    HalfOpen,
}

impl CircuitState {
    /// The name used in Redis and in metrics: `closed`, `open`, `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }

    fn parse(s: &str) -> CircuitState {
        match s {
            "open" => CircuitState::Open,
            "half_open" => CircuitState::HalfOpen,
            _ => CircuitState::Closed,
        }
    }
}

/// How a call was let through; hand it back to [`CircuitBreakers::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Admitted while closed.
    Normal,
    /// Admitted as one of the half-open probes.
    Probe,
}

/// The answer of [`CircuitBreakers::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed(Permit),
    /// The circuit is open (or its probes are all taken): use the fallback or fail.
    Rejected {
        retry_after_ms: u64,
    },
}

impl Admission {
    /// The `circuit_open` error for a rejection, ready for a transport.
    pub fn into_result(self, event: &str) -> Result<Permit, Error> {
        match self {
            Admission::Allowed(p) => Ok(p),
            Admission::Rejected { retry_after_ms } => {
                let mut e = Error::new(ErrorCode::CircuitOpen, format!("circuit breaker open for {event}"));
                e.retry_after_ms = Some(retry_after_ms);
                Err(e)
            }
        }
    }
}

/// Whether an error says the handler is failing, as opposed to the caller being wrong: only
/// these count against a circuit. `unavailable` does not: it means Redis or SQL cannot be
/// reached or task state is being recovered, which already fails fast with a retry hint, and
/// an open circuit would keep refusing for its whole open period after the outage ended.
pub fn counts_as_failure(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::Internal | ErrorCode::Timeout)
}

#[derive(Debug, Clone, Copy)]
struct Local {
    state: CircuitState,
    failures: u64,
    /// When the circuit opened, on this machine's monotonic clock.
    opened: Instant,
    version: u64,
}

/// A snapshot as Redis reports it (script replies and announcements carry the same facts).
#[derive(Debug, Clone, Deserialize)]
struct Snapshot {
    #[serde(default)]
    event: String,
    state: String,
    failures: u64,
    #[serde(rename = "openedAt")]
    opened_at: u64,
    now: u64,
    version: u64,
}

impl Snapshot {
    /// The state part of a circuit script's values: `state, failures, opened_at, now, version`.
    fn from_reply(event: &str, v: &[String], script: &str) -> Result<Self, Error> {
        Ok(Snapshot {
            event: event.to_string(),
            state: scripts::field(v, 0, script)?.to_string(),
            failures: scripts::int(v, 1, script)?,
            opened_at: scripts::int(v, 2, script)?,
            now: scripts::int(v, 3, script)?,
            version: scripts::int(v, 4, script)?,
        })
    }

    fn to_local(&self, received: Instant) -> Local {
        let age = Duration::from_millis(self.now.saturating_sub(self.opened_at));
        Local {
            state: CircuitState::parse(&self.state),
            failures: self.failures,
            opened: received.checked_sub(age).unwrap_or(received),
            version: self.version,
        }
    }
}

type Table = Arc<RwLock<HashMap<String, Local>>>;

/// Every event's circuit breaker, for one process.
pub struct CircuitBreakers {
    conn: Conn,
    keys: Keys,
    local: Table,
    _feed: Listener,
}

impl std::fmt::Debug for CircuitBreakers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreakers").field("keys", &self.keys).finish()
    }
}

impl CircuitBreakers {
    /// Starts following the change feed; returns once subscribed.
    pub async fn start(redis: &RedisHandle, keys: Keys) -> Result<Self, Error> {
        let local: Table = Arc::new(RwLock::new(HashMap::new()));
        let conn = redis.conn();
        let on_message = {
            let local = local.clone();
            move |_channel: &str, payload: &[u8]| {
                match serde_json::from_slice::<Snapshot>(payload) {
                    Ok(s) => apply(&local, &s.event.clone(), &s, Instant::now()),
                    Err(e) => {
                        tracing::warn!(error = %e, "undecodable circuit announcement skipped")
                    }
                }
                Flow::Continue
            }
        };
        let on_connect = {
            let (local, conn, keys) = (local.clone(), conn.clone(), keys.clone());
            move || {
                // Announcements may have been missed while disconnected: re-read what we know.
                let (local, mut conn, keys) = (local.clone(), conn.clone(), keys.clone());
                tokio::spawn(async move {
                    let events: Vec<String> = read_table(&local).keys().cloned().collect();
                    for event in events {
                        if let Err(e) = load(&mut conn, &keys, &local, &event).await {
                            tracing::warn!(%event, error = %e, "circuit resync failed");
                        }
                    }
                });
            }
        };
        let feed = listen(redis.clone(), vec![keys.circuit_channel()], on_connect, on_message).await?;
        Ok(CircuitBreakers { conn, keys, local, _feed: feed })
    }

    /// Asks to run one call of `event`. Local memory answers while the circuit is closed or
    /// cooling down; Redis decides half-open admissions.
    pub async fn admit(&self, event: &str, def: &CircuitBreakerDef) -> Result<Admission, Error> {
        let known = read_table(&self.local).get(event).copied();
        let current = match known {
            Some(c) => c,
            // First call of this event in this process: learn the shared state once.
            None => load(&mut self.conn.clone(), &self.keys, &self.local, event).await?,
        };
        match current.state {
            CircuitState::Closed => return Ok(Admission::Allowed(Permit::Normal)),
            CircuitState::Open => {
                let elapsed = current.opened.elapsed();
                let open_for = Duration::from_millis(def.open_ms);
                if elapsed < open_for {
                    return Ok(Admission::Rejected { retry_after_ms: (open_for - elapsed).as_millis().max(1) as u64 });
                }
            }
            CircuitState::HalfOpen => {}
        }
        let mut conn = self.conn.clone();
        let v = scripts::CIRCUIT_ACQUIRE
            .call()
            .key(self.keys.circuit(event))
            .arg(def.open_ms)
            .arg(def.half_open_probes.max(1))
            .arg(self.keys.circuit_channel())
            .arg(event)
            .run_ok(&mut conn)
            .await?;
        let (admitted, probe): (i64, i64) =
            (scripts::int(&v, 0, "circuit_acquire")?, scripts::int(&v, 1, "circuit_acquire")?);
        let retry_after_ms: u64 = scripts::int(&v, 7, "circuit_acquire")?;
        let snapshot = Snapshot::from_reply(event, &v[2..], "circuit_acquire")?;
        apply(&self.local, event, &snapshot, Instant::now());
        Ok(match (admitted, probe) {
            (1, 1) => Admission::Allowed(Permit::Probe),
            (1, _) => Admission::Allowed(Permit::Normal),
            _ => Admission::Rejected { retry_after_ms: retry_after_ms.max(1) },
        })
    }

    /// Reports the outcome of a call admitted with `permit`; returns the circuit's state after
    /// it (from local memory when nothing had to be written).
    pub async fn record(
        &self,
        event: &str,
        def: &CircuitBreakerDef,
        permit: Permit,
        success: bool,
    ) -> Result<CircuitState, Error> {
        let known = read_table(&self.local).get(event).copied();
        if permit == Permit::Normal {
            match known {
                // The common case: a success that changes nothing.
                Some(c) if c.state == CircuitState::Closed && success && c.failures == 0 => {
                    return Ok(c.state);
                }
                // Outcomes of calls admitted before the circuit opened say nothing new.
                Some(c) if c.state != CircuitState::Closed => return Ok(c.state),
                _ => {}
            }
        }
        let mut conn = self.conn.clone();
        let v = scripts::CIRCUIT_RECORD
            .call()
            .key(self.keys.circuit(event))
            .arg(if success { "success" } else { "failure" })
            .arg(def.threshold.max(1))
            .arg(def.half_open_probes.max(1))
            .arg(if permit == Permit::Probe { "1" } else { "0" })
            .arg(self.keys.circuit_channel())
            .arg(event)
            .run_ok(&mut conn)
            .await?;
        let snapshot = Snapshot::from_reply(event, &v, "circuit_record")?;
        apply(&self.local, event, &snapshot, Instant::now());
        Ok(CircuitState::parse(&snapshot.state))
    }

    /// The local copy's state of `event` (closed when never seen).
    pub fn state(&self, event: &str) -> CircuitState {
        read_table(&self.local).get(event).map(|c| c.state).unwrap_or(CircuitState::Closed)
    }

    /// Every known circuit and its local state (for metrics).
    pub fn states(&self) -> Vec<(String, CircuitState)> {
        read_table(&self.local).iter().map(|(k, v)| (k.clone(), v.state)).collect()
    }
}

/// HMGET state, failures, opened_at, version.
type StoredFields = (Option<String>, Option<u64>, Option<u64>, Option<u64>);

/// Reads one circuit from Redis into the local table.
async fn load(conn: &mut Conn, keys: &Keys, local: &Table, event: &str) -> Result<Local, Error> {
    let (fields, time): (StoredFields, (u64, u64)) = ::redis::pipe()
        .cmd("HMGET")
        .arg(keys.circuit(event))
        .arg(&["state", "failures", "opened_at", "version"])
        .cmd("TIME")
        .query_async(conn)
        .await
        .map_err(redis_error)?;
    let (state, failures, opened_at, version) = fields;
    let now = time.0 * 1000 + time.1 / 1000;
    let snapshot = Snapshot {
        event: event.to_string(),
        state: state.unwrap_or_else(|| "closed".to_string()),
        failures: failures.unwrap_or(0),
        opened_at: opened_at.unwrap_or(0),
        now,
        version: version.unwrap_or(0),
    };
    let received = Instant::now();
    apply(local, event, &snapshot, received);
    Ok(read_table(local).get(event).copied().unwrap_or_else(|| snapshot.to_local(received)))
}

/// Applies a snapshot unless the table already holds a newer version (a script reply and an
/// announcement of a later change may arrive in either order). Version 0 means the circuit
/// does not exist in Redis (never failed, or Redis lost its data): that always resets the copy.
fn apply(local: &Table, event: &str, snapshot: &Snapshot, received: Instant) {
    let mut table = match local.write() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    };
    match table.get(event) {
        Some(existing) if snapshot.version != 0 && existing.version >= snapshot.version => {}
        _ => {
            table.insert(event.to_string(), snapshot.to_local(received));
        }
    }
}

fn read_table(local: &Table) -> std::sync::RwLockReadGuard<'_, HashMap<String, Local>> {
    match local.read() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    }
}
