//! Leader election: a lease with a fencing token.
//!
//! One hash (`keys.leader()`) holds `{id, term, expiresAt}`. Lease times come from Redis's clock
//! (`TIME` inside the scripts), so candidates with skewed clocks agree. The term strictly
//! increases on every acquisition after a lapse and is the fencing token: work done on behalf of
//! the leader carries its term and is checked with [`LeaderLease::is_leader`] before it counts.
//!
//! [`LeaderElector`] runs the protocol in the background: the leader renews every lease/3;
//! followers retry when the current lease is due to end (at most every lease/3), so they take
//! over right when a silent leader's lease runs out.

use std::time::Duration;

use claudebench_contract::error::Error;
use redis::aio::ConnectionLike;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::script::{Lua, eval_ok, field, lua};
use claudebench_runtime::keys::Keys;

static ACQUIRE: Lua = lua!("leader_acquire", "publish");
static RENEW: Lua = lua!("leader_renew");
static RELEASE: Lua = lua!("leader_release");
static CURRENT: Lua = lua!("leader_current");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 4] = [&ACQUIRE, &RENEW, &RELEASE, &CURRENT];

/// The outcome of [`LeaderLease::acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    /// The candidate holds the lease.
    pub leader: bool,
    /// Current term (the candidate's own when `leader`).
    pub term: u64,
    /// The holder's id.
    pub holder: String,
    /// End of the current lease (Redis clock, ms).
    pub expires_at_ms: i64,
    /// Redis's clock when this was decided (ms): `expires_at_ms - now_ms` is the time left.
    pub now_ms: i64,
}

/// Who leads now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderInfo {
    pub id: String,
    pub term: u64,
    pub expires_at_ms: i64,
}

fn num<T: std::str::FromStr + Default>(v: &[String], n: usize, script: &str) -> Result<T, Error> {
    field(v, n, script)?.parse().map_err(|_| Error::internal(format!("{script}: value {n} is not a number")))
}

/// The lease scripts under one key prefix.
#[derive(Debug, Clone)]
pub struct LeaderLease {
    keys: Keys,
    stream_maxlen: u64,
}

impl LeaderLease {
    pub fn new(keys: Keys) -> Self {
        LeaderLease { keys, stream_maxlen: 10_000 }
    }

    /// Take the lease if it is free or lapsed (a new term; publishes `leader.elected`), extend it
    /// if `id` already holds it, otherwise report the holder.
    pub async fn acquire<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
        lease_ms: u64,
    ) -> Result<LeaseState, Error> {
        let keys = [self.keys.leader(), self.keys.stream("leader.elected")];
        let args = [
            id.to_string(),
            lease_ms.max(1).to_string(),
            self.stream_maxlen.to_string(),
            self.keys.channel("leader.elected"),
        ];
        let v = eval_ok(con, &ACQUIRE, &keys, &args).await?;
        Ok(LeaseState {
            leader: field(&v, 0, "leader_acquire")? == "1",
            term: num(&v, 1, "leader_acquire")?,
            expires_at_ms: num(&v, 2, "leader_acquire")?,
            holder: field(&v, 3, "leader_acquire")?.to_string(),
            now_ms: num(&v, 4, "leader_acquire")?,
        })
    }

    /// Extend the lease of `term`; `false` if it was lost or lapsed (acquire again for a new term).
    pub async fn renew<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
        term: u64,
        lease_ms: u64,
    ) -> Result<bool, Error> {
        let v = eval_ok(
            con,
            &RENEW,
            &[self.keys.leader()],
            &[id.to_string(), term.to_string(), lease_ms.max(1).to_string()],
        )
        .await?;
        Ok(field(&v, 0, "leader_renew")? == "1")
    }

    /// Give the lease up so a follower can take over immediately; `false` if not held.
    pub async fn release<C: ConnectionLike + Send>(&self, con: &mut C, id: &str, term: u64) -> Result<bool, Error> {
        let v = eval_ok(con, &RELEASE, &[self.keys.leader()], &[id.to_string(), term.to_string()]).await?;
        Ok(field(&v, 0, "leader_release")? == "1")
    }

    /// The holder of a valid lease, if any.
    pub async fn current<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<Option<LeaderInfo>, Error> {
        let v = eval_ok(con, &CURRENT, &[self.keys.leader()], &[]).await?;
        let id = field(&v, 0, "leader_current")?.to_string();
        if id.is_empty() {
            return Ok(None);
        }
        Ok(Some(LeaderInfo { id, term: num(&v, 1, "leader_current")?, expires_at_ms: num(&v, 2, "leader_current")? }))
    }

    /// Fencing check: is `term` the term of a currently valid lease?
    pub async fn is_leader<C: ConnectionLike + Send>(&self, con: &mut C, term: u64) -> Result<bool, Error> {
        Ok(self.current(con).await?.is_some_and(|l| l.term == term))
    }
}

/// Runs the election for one candidate in the background and publishes its leadership:
/// `Some(term)` while it leads, `None` otherwise.
#[derive(Debug)]
pub struct LeaderElector {
    term: watch::Receiver<Option<u64>>,
    stop: watch::Sender<StopMode>,
    handle: JoinHandle<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopMode {
    Run,
    /// Stop and release the lease.
    Release,
    /// Stop silently (as if the process died): the lease runs out on its own.
    Abandon,
}

impl LeaderElector {
    /// Start campaigning as `id` with leases of `lease_ms`, on a cloneable connection (the
    /// runtime's `Conn`, on one Redis or a cluster, or a plain multiplexed connection).
    pub fn spawn<C>(lease: LeaderLease, con: C, id: impl Into<String>, lease_ms: u64) -> Self
    where
        C: ConnectionLike + Clone + Send + Sync + 'static,
    {
        let (term_tx, term_rx) = watch::channel(None);
        let (stop_tx, stop_rx) = watch::channel(StopMode::Run);
        let handle = tokio::spawn(run(lease, con, id.into(), lease_ms.max(30), term_tx, stop_rx));
        LeaderElector { term: term_rx, stop: stop_tx, handle }
    }

    /// Watch leadership changes (`Some(term)` while leading).
    pub fn watch(&self) -> watch::Receiver<Option<u64>> {
        self.term.clone()
    }

    /// The term while leading, else `None`.
    pub fn current_term(&self) -> Option<u64> {
        *self.term.borrow()
    }

    /// Stop campaigning and release the lease (a follower takes over at once).
    pub async fn shutdown(self) {
        let _ = self.stop.send(StopMode::Release);
        let _ = self.handle.await;
    }

    /// Stop renewing without releasing, as a crashed process would: followers take over when
    /// the lease runs out.
    pub async fn abandon(self) {
        let _ = self.stop.send(StopMode::Abandon);
        let _ = self.handle.await;
    }
}

async fn run<C>(
    lease: LeaderLease,
    mut con: C,
    id: String,
    lease_ms: u64,
    term_tx: watch::Sender<Option<u64>>,
    mut stop: watch::Receiver<StopMode>,
) where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let period = Duration::from_millis(lease_ms / 3);
    let call_timeout = period;
    // While leading: the term and the local instant the lease surely ends (measured from before
    // the request that granted it, so it is never later than Redis's view).
    let mut leading: Option<(u64, tokio::time::Instant)> = None;
    loop {
        let started = tokio::time::Instant::now();
        let wait = match leading {
            Some((term, deadline)) => {
                match tokio::time::timeout(call_timeout, lease.renew(&mut con, &id, term, lease_ms)).await {
                    Ok(Ok(true)) => {
                        leading = Some((term, started + Duration::from_millis(lease_ms)));
                        period
                    }
                    Ok(Ok(false)) => {
                        tracing::warn!(instance = %id, term, "leader lease lost");
                        leading = None;
                        let _ = term_tx.send(None);
                        Duration::ZERO
                    }
                    Ok(Err(_)) | Err(_) => {
                        // Redis unreachable: we cannot prove we still lead; step down once the
                        // lease we hold must have ended, and keep retrying meanwhile.
                        if tokio::time::Instant::now() >= deadline {
                            leading = None;
                            let _ = term_tx.send(None);
                        }
                        period / 3
                    }
                }
            }
            None => {
                match tokio::time::timeout(call_timeout, lease.acquire(&mut con, &id, lease_ms)).await {
                    Ok(Ok(state)) if state.leader => {
                        tracing::info!(instance = %id, term = state.term, "became leader");
                        leading = Some((state.term, started + Duration::from_millis(lease_ms)));
                        let _ = term_tx.send(Some(state.term));
                        period
                    }
                    Ok(Ok(state)) => {
                        // Retry right after the current lease ends, but at least every lease/3.
                        let left = u64::try_from(state.expires_at_ms.saturating_sub(state.now_ms)).unwrap_or(0);
                        Duration::from_millis(left + 5).min(period)
                    }
                    Ok(Err(_)) | Err(_) => period,
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            changed = stop.changed() => {
                let mode = if changed.is_ok() { *stop.borrow() } else { StopMode::Release };
                if let (StopMode::Release, Some((term, _))) = (mode, leading) {
                    let _ = tokio::time::timeout(call_timeout, lease.release(&mut con, &id, term)).await;
                }
                let _ = term_tx.send(None);
                return;
            }
        }
    }
}
