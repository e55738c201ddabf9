//! File leases between Claude Code sessions: "this session is editing this file".
//!
//! A lease names a file by its canonical path ([`paths`]) and belongs to one session. It is taken
//! (or renewed) when the session edits the file — `hook.pre_tool` does it for every file a call is
//! about to write ([`edits`]) — or asked for over `lease.acquire` before a change; another
//! session's edit of a leased file is then refused (`deny`, or `ask`: [`LeaseConfig::conflict`]).
//!
//! The promises, each kept by one atomic script on the repository's slot (`lua/lease_*.lua`):
//! * **One holder.** At most one live lease per file; the acquire script reads and writes it in
//!   one step, so of any number of sessions racing for a free file exactly one gets it and the
//!   others learn who holds it and since when.
//! * **Idle TTL.** A lease lapses `ttl` after its last use (acquisition or renewal), by Redis's
//!   clock; a lapsed lease is free for anyone, whatever is still stored.
//! * **Fencing.** Every new acquisition takes the next number of the repository's counter as its
//!   token; a renewal keeps it. Renewing or releasing with a token that is not the current one
//!   is refused, so a holder whose lease lapsed (and was perhaps re-taken) cannot act on it.
//!   Scripts also compare the holder, so a token reissued after Redis lost its data never
//!   fences in the wrong session.
//! * **Per repository.** Each repository's leases share their own hash tag; unrelated projects
//!   never meet, and every script touches one slot (Cluster-legal).
//! * **Released on Stop and SessionEnd** ([`Leases::release_session`]): a session lists the
//!   repositories it took leases in, in the control slot.
//!
//! Changes are announced on the bus after the script (`lease.acquired`, `lease.released`,
//! `lease.expired`; renewals are not announced): the bus streams live in the control slot and a
//! script may touch one slot only, so a notification can be lost if the server dies right after
//! the change — the state itself never is. The leader sweeps lapsed leases every second
//! ([`Leases::sweep`]), so `lease.expired` goes out about when a lease lapses; every script
//! also removes a lapsed lease it meets, and says so.

pub mod edits;
pub mod paths;

use claudebench_contract::error::Error;
use claudebench_generated::types;
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::keys::{Keys, LeaseRepoKeys};
use claudebench_runtime::redis::{Conn, RedisHandle, redis_error};
use claudebench_runtime::scripts::{Lua, eval_ok, field, lua};
use serde_json::{Value, json};

use crate::coordination::iso_millis;
use crate::sessions::{SESSION_STATE_TTL_SECS, key_part};

pub use paths::{Located, MAX_PATH_BYTES};

static ACQUIRE: Lua = lua!("lease_acquire", "lease_keys");
static RELEASE: Lua = lua!("lease_release", "lease_keys");
static RELEASE_SESSION: Lua = lua!("lease_release_session", "lease_keys");
static SWEEP: Lua = lua!("lease_sweep", "lease_keys");
static LIST: Lua = lua!("lease_list", "lease_keys");
static FORGET_REPO: Lua = lua!("lease_forget_repo");
/// The lease scripts, for loading them at start.
pub static SCRIPTS: [&Lua; 6] = [&ACQUIRE, &RELEASE, &RELEASE_SESSION, &SWEEP, &LIST, &FORGET_REPO];

/// Most leases one list answer carries (the spec's `max_items`).
pub const MAX_LISTED: usize = 1000;
/// Most repositories one list of every lease visits (the rest make the answer `truncated`).
pub const MAX_LISTED_REPOS: usize = 1000;
/// Most lapsed leases one sweep removes per repository, and most repositories one sweep visits:
/// the rest wait for the next sweep a second later.
const SWEEP_BATCH: usize = 1000;
/// The longest TTL a lease may have (a day, the spec's bound on `ttlS`).
pub const MAX_TTL_MS: u64 = 86_400_000;

/// What another session's edit of a leased file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictAnswer {
    /// The edit does not run; Claude reads who holds the file.
    #[default]
    Deny,
    /// The user decides, shown who holds the file.
    Ask,
}

impl ConflictAnswer {
    /// `deny` or `ask` (`CLAUDEBENCH_LEASE_CONFLICT`), any case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "deny" => Some(ConflictAnswer::Deny),
            "ask" => Some(ConflictAnswer::Ask),
            _ => None,
        }
    }
}

/// How leases behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseConfig {
    /// Idle time after which a lease lapses, unless a call names its own (`CLAUDEBENCH_LEASE_TTL_S`).
    pub ttl_ms: u64,
    /// The answer to another session's edit of a leased file (`CLAUDEBENCH_LEASE_CONFLICT`).
    pub conflict: ConflictAnswer,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig { ttl_ms: 300_000, conflict: ConflictAnswer::Deny }
    }
}

/// One live (or just lapsed) lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The file's canonical absolute path.
    pub path: String,
    /// Its repository.
    pub root: String,
    /// The session holding it.
    pub holder: String,
    /// The fencing token of this acquisition.
    pub token: u64,
    /// When this acquisition was made (Redis clock, ms).
    pub since_ms: i64,
    /// When it lapses unless used again (Redis clock, ms).
    pub expires_at_ms: i64,
    /// Its idle TTL.
    pub ttl_ms: u64,
}

impl Lease {
    /// The path relative to its repository when inside it.
    pub fn display_path(&self) -> String {
        paths::relative_display(&self.path, &self.root)
    }

    /// "session 3f2a9c1b… since 12:04:31 UTC (lease 17)".
    pub fn held_by(&self) -> String {
        format!("session {} since {} (lease {})", short_session(&self.holder), clock(self.since_ms), self.token)
    }

    /// The lease as the spec's `Lease`.
    pub fn to_wire(&self) -> types::Lease {
        types::Lease {
            path: self.path.clone(),
            root: self.root.clone(),
            holder: self.holder.clone(),
            token: i64::try_from(self.token).unwrap_or(i64::MAX),
            since: iso_millis(self.since_ms),
            expires_at: iso_millis(self.expires_at_ms),
            ttl_s: i64::try_from(self.ttl_ms.div_ceil(1_000).max(1)).unwrap_or(i64::MAX),
        }
    }

    /// The payload of the bus notifications about this lease.
    fn payload(&self) -> Value {
        json!({
            "path": self.path,
            "root": self.root,
            "holder": self.holder,
            "token": self.token,
            "since": iso_millis(self.since_ms),
            "expiresAt": iso_millis(self.expires_at_ms),
        })
    }

    /// Seven reply values of `lua/lib/lease_keys.lua` (`lk_push`), from `at`; `None` for none.
    fn parse(v: &[String], at: usize, script: &str) -> Result<Option<Lease>, Error> {
        let get = |i: usize| field(v, at + i, script);
        if get(0)?.is_empty() {
            return Ok(None);
        }
        let num = |i: usize| -> Result<i64, Error> {
            get(i)?.parse().map_err(|_| Error::internal(format!("{script}: value {} is not a number", at + i)))
        };
        Ok(Some(Lease {
            path: get(0)?.to_string(),
            holder: get(1)?.to_string(),
            token: num(2)?.max(0) as u64,
            since_ms: num(3)?,
            expires_at_ms: num(4)?,
            ttl_ms: num(5)?.max(0) as u64,
            root: get(6)?.to_string(),
        }))
    }
}

/// What [`Leases::try_acquire`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquire {
    /// The session holds the lease now: a new acquisition (`renewed: false`, a new token) or a
    /// renewal of its own (same token).
    Granted { lease: Lease, renewed: bool },
    /// Another session holds it.
    Held(Lease),
    /// The token asked to renew is not the current acquisition; the current lease, if any.
    Stale { token: u64, current: Option<Lease> },
}

/// What [`Leases::release`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub located: Located,
    /// The lease given up; `None` when there was no live lease to release.
    pub lease: Option<Lease>,
}

/// A list of leases and whether more were left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseList {
    /// Soonest to lapse first.
    pub leases: Vec<Lease>,
    pub truncated: bool,
}

/// Why a session's leases were released, as `lease.released` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseReason {
    /// `lease.release`.
    Release,
    /// The main agent's turn ended (Stop).
    Stop,
    /// The session ended (SessionEnd).
    SessionEnd,
}

impl ReleaseReason {
    fn as_str(self) -> &'static str {
        match self {
            ReleaseReason::Release => "release",
            ReleaseReason::Stop => "stop",
            ReleaseReason::SessionEnd => "session_end",
        }
    }
}

/// The file leases of one deployment, over the shared Redis.
#[derive(Debug, Clone)]
pub struct Leases {
    redis: RedisHandle,
    keys: Keys,
    bus: EventBus,
    config: LeaseConfig,
}

impl Leases {
    /// Leases stored through `bus`'s Redis and keys.
    pub fn new(bus: &EventBus, config: LeaseConfig) -> Self {
        Leases { redis: bus.redis().clone(), keys: bus.keys().clone(), bus: bus.clone(), config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &LeaseConfig {
        &self.config
    }

    fn conn(&self) -> Conn {
        self.redis.conn()
    }

    /// Take the lease on `path` for `session` (working in `cwd`), or renew the one it holds; with
    /// `token`, renew exactly that acquisition. `ttl_ms` defaults to the configured TTL. Another
    /// session's lease, or a stale `token`, is an answer, not an error: see [`Acquire`].
    pub async fn try_acquire(
        &self,
        session: &str,
        cwd: &str,
        path: &str,
        ttl_ms: Option<u64>,
        token: Option<u64>,
    ) -> Result<Acquire, Error> {
        let located = locate(cwd, path).await?;
        self.acquire_located(session, &located, ttl_ms, token).await
    }

    /// [`Leases::try_acquire`], with another session's lease or a stale token as a `conflict`
    /// error naming the holder and since when.
    pub async fn acquire(
        &self,
        session: &str,
        cwd: &str,
        path: &str,
        ttl_ms: Option<u64>,
        token: Option<u64>,
    ) -> Result<Lease, Error> {
        match self.try_acquire(session, cwd, path, ttl_ms, token).await? {
            Acquire::Granted { lease, .. } => Ok(lease),
            // A renewal by token of a lease someone else holds now: that token is dead.
            Acquire::Held(lease) if token.is_some() => Err(stale(token.unwrap_or(0), path, session, Some(&lease))),
            Acquire::Held(lease) => Err(Error::conflict(format!(
                "{} is leased by {}; it lapses at {} unless used again",
                lease.display_path(),
                lease.held_by(),
                clock(lease.expires_at_ms)
            ))),
            Acquire::Stale { token, current } => Err(stale(token, path, session, current.as_ref())),
        }
    }

    async fn acquire_located(
        &self,
        session: &str,
        located: &Located,
        ttl_ms: Option<u64>,
        token: Option<u64>,
    ) -> Result<Acquire, Error> {
        check_session(session)?;
        let ttl = ttl_ms.unwrap_or(self.config.ttl_ms).clamp(1, MAX_TTL_MS);
        let digest = paths::digest(&located.root);
        let repo = self.keys.lease_repo(&digest);
        let args = [
            located.path.clone(),
            session.to_string(),
            key_part(session),
            ttl.to_string(),
            located.root.clone(),
            token.map(|t| t.to_string()).unwrap_or_default(),
        ];
        let v = eval_ok(&mut self.conn(), &ACQUIRE, &repo_keys(&repo, Some(repo.lease(&located.path))), &args).await?;
        let outcome = field(&v, 0, "lease_acquire")?.to_string();
        let current = Lease::parse(&v, 2, "lease_acquire")?;
        if let Some(lapsed) = Lease::parse(&v, 9, "lease_acquire")? {
            self.announce("lease.expired", &lapsed, None).await;
        }
        let missing = || Error::internal("lease_acquire: no lease in the reply");
        match outcome.as_str() {
            "acquired" => {
                let lease = current.ok_or_else(missing)?;
                self.remember(session, &digest).await;
                self.announce("lease.acquired", &lease, None).await;
                Ok(Acquire::Granted { lease, renewed: false })
            }
            "renewed" => Ok(Acquire::Granted { lease: current.ok_or_else(missing)?, renewed: true }),
            "held" => Ok(Acquire::Held(current.ok_or_else(missing)?)),
            "stale" => Ok(Acquire::Stale { token: token.unwrap_or(0), current }),
            other => Err(Error::internal(format!("lease_acquire: unknown outcome `{other}`"))),
        }
    }

    /// Give up `session`'s lease on `path`; with `token`, only that acquisition. Nothing to
    /// release is not an error (`lease: None`); another session's lease or a stale token is a
    /// `conflict`.
    pub async fn release(&self, session: &str, cwd: &str, path: &str, token: Option<u64>) -> Result<Released, Error> {
        check_session(session)?;
        let located = locate(cwd, path).await?;
        self.release_located(session, &located, token).await
    }

    async fn release_located(&self, session: &str, located: &Located, token: Option<u64>) -> Result<Released, Error> {
        let path = &located.display();
        let located = located.clone();
        let repo = self.keys.lease_repo(&paths::digest(&located.root));
        let args = [located.path.clone(), session.to_string(), token.map(|t| t.to_string()).unwrap_or_default()];
        let v = eval_ok(&mut self.conn(), &RELEASE, &repo_keys(&repo, Some(repo.lease(&located.path))), &args).await?;
        let outcome = field(&v, 0, "lease_release")?.to_string();
        let current = Lease::parse(&v, 2, "lease_release")?;
        if let Some(lapsed) = Lease::parse(&v, 9, "lease_release")? {
            self.announce("lease.expired", &lapsed, None).await;
        }
        match (outcome.as_str(), current) {
            ("released", Some(lease)) => {
                self.announce("lease.released", &lease, Some(ReleaseReason::Release)).await;
                Ok(Released { located, lease: Some(lease) })
            }
            ("free", _) => Ok(Released { located, lease: None }),
            ("held", Some(lease)) => Err(Error::conflict(format!(
                "{} is leased by {}, not by session {}: only the holder releases a lease",
                lease.display_path(),
                lease.held_by(),
                short_session(session)
            ))),
            ("stale", current) => Err(stale(token.unwrap_or(0), path, session, current.as_ref())),
            (other, _) => Err(Error::internal(format!("lease_release: unexpected outcome `{other}`"))),
        }
    }

    /// The live leases of the repository of `cwd` (only `session`'s when given), of `session`
    /// in every repository it took leases in (without `cwd`), or of every session in every
    /// repository (neither: at most [`MAX_LISTED_REPOS`] repositories of the registry, `truncated`
    /// when it holds more). Soonest to lapse first, at most [`MAX_LISTED`].
    pub async fn list(&self, cwd: Option<&str>, session: Option<&str>) -> Result<LeaseList, Error> {
        if let Some(s) = session {
            check_session(s)?;
        }
        let mut root = None;
        let mut list = LeaseList::default();
        let digests = match (cwd, session) {
            (Some(cwd), _) => {
                let cwd = cwd.to_string();
                let repository = blocking(move || paths::repository(&cwd)).await?;
                let digest = paths::digest(&repository);
                root = Some(repository);
                vec![digest]
            }
            (None, Some(s)) => self.session_repos(s).await?,
            (None, None) => {
                // The registry the sweep reads: every repository holding leases (or that held
                // some until the last sweep); one more than visited tells whether there are more.
                let mut repos: Vec<String> = redis::cmd("ZRANGE")
                    .arg(self.keys.lease_repos())
                    .arg(0)
                    .arg(MAX_LISTED_REPOS as i64)
                    .query_async(&mut self.conn())
                    .await
                    .map_err(redis_error)?;
                if repos.len() > MAX_LISTED_REPOS {
                    repos.truncate(MAX_LISTED_REPOS);
                    list.truncated = true;
                }
                repos
            }
        };
        // One script per repository (each in its own slot), sent together.
        let args = [
            session.unwrap_or_default().to_string(),
            session.map(key_part).unwrap_or_default(),
            MAX_LISTED.to_string(),
        ];
        let con = self.conn();
        let reads = digests.iter().map(|digest| {
            let (mut con, repo, args) = (con.clone(), self.keys.lease_repo(digest), &args);
            async move { eval_ok(&mut con, &LIST, &repo_keys(&repo, None), args).await }
        });
        for v in futures_util::future::try_join_all(reads).await? {
            list.truncated |= field(&v, 1, "lease_list")? == "1";
            let n: usize = field(&v, 2, "lease_list")?.parse().unwrap_or(0);
            for i in 0..n {
                // A repository's slot may hold another root's leases only if their digests
                // collide; they are not this repository's.
                let lease = Lease::parse(&v, 3 + 7 * i, "lease_list")?;
                list.leases.extend(lease.filter(|l| root.as_ref().is_none_or(|r| &l.root == r)));
            }
        }
        list.leases.sort_by(|a, b| (a.expires_at_ms, &a.path).cmp(&(b.expires_at_ms, &b.path)));
        if list.leases.len() > MAX_LISTED {
            list.leases.truncate(MAX_LISTED);
            list.truncated = true;
        }
        Ok(list)
    }

    /// Release every lease `session` holds, in every repository it took one in (Stop,
    /// SessionEnd); publishes `lease.released` for each (`lease.expired` for those that had
    /// lapsed). Returns the leases released. At SessionEnd the session's list of repositories
    /// goes too.
    pub async fn release_session(&self, session: &str, why: ReleaseReason) -> Result<Vec<Lease>, Error> {
        check_session(session)?;
        let skey = key_part(session);
        let mut released = Vec::new();
        for digest in self.session_repos(session).await? {
            let repo = self.keys.lease_repo(&digest);
            let keys = [repo.index(), repo.seq(), repo.session(&skey)];
            let v = eval_ok(&mut self.conn(), &RELEASE_SESSION, &keys, &[session.to_string()]).await?;
            let n: usize = field(&v, 1, "lease_release_session")?.parse().unwrap_or(0);
            for i in 0..n {
                let at = 2 + 8 * i;
                let state = field(&v, at, "lease_release_session")?.to_string();
                if let Some(lease) = Lease::parse(&v, at + 1, "lease_release_session")? {
                    if state == "expired" {
                        self.announce("lease.expired", &lease, None).await;
                    } else {
                        self.announce("lease.released", &lease, Some(why)).await;
                        released.push(lease);
                    }
                }
            }
        }
        if why == ReleaseReason::SessionEnd {
            // A Stop keeps the list: the session's next turn takes leases in the same places.
            let _: () = redis::cmd("DEL")
                .arg(self.keys.lease_session_repos(&skey))
                .query_async(&mut self.conn())
                .await
                .map_err(redis_error)?;
        }
        Ok(released)
    }

    /// Remove lapsed leases everywhere (the leader, every second) and forget repositories left
    /// without leases; publishes `lease.expired` for each lease removed. Returns how many.
    pub async fn sweep(&self) -> Result<usize, Error> {
        let registry = self.keys.lease_repos();
        let repos: Vec<(String, String)> = redis::cmd("ZRANGE")
            .arg(&registry)
            .arg(0)
            .arg(SWEEP_BATCH as i64 - 1)
            .arg("WITHSCORES")
            .query_async(&mut self.conn())
            .await
            .map_err(redis_error)?;
        let mut expired = 0;
        for (digest, version) in repos {
            let repo = self.keys.lease_repo(&digest);
            let v = eval_ok(&mut self.conn(), &SWEEP, &repo_keys(&repo, None), &[SWEEP_BATCH.to_string()]).await?;
            let left: u64 = field(&v, 1, "lease_sweep")?.parse().unwrap_or(1);
            let n: usize = field(&v, 2, "lease_sweep")?.parse().unwrap_or(0);
            for i in 0..n {
                if let Some(lease) = Lease::parse(&v, 3 + 7 * i, "lease_sweep")? {
                    self.announce("lease.expired", &lease, None).await;
                    expired += 1;
                }
            }
            if left == 0 {
                eval_ok(&mut self.conn(), &FORGET_REPO, std::slice::from_ref(&registry), &[digest, version]).await?;
            }
        }
        Ok(expired)
    }

    /// The repositories (digests) `session` took leases in.
    async fn session_repos(&self, session: &str) -> Result<Vec<String>, Error> {
        redis::cmd("SMEMBERS")
            .arg(self.keys.lease_session_repos(&key_part(session)))
            .query_async(&mut self.conn())
            .await
            .map_err(redis_error)
    }

    /// After a new acquisition: the session lists the repository (so Stop finds it) and the
    /// registry's version of it moves (so a concurrent sweep does not forget it). Best effort:
    /// the lease is taken either way, and lapses by itself if Stop cannot find it.
    async fn remember(&self, session: &str, digest: &str) {
        let mine = self.keys.lease_session_repos(&key_part(session));
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("SADD").arg(&mine).arg(digest).ignore();
        pipe.cmd("EXPIRE").arg(&mine).arg(SESSION_STATE_TTL_SECS).ignore();
        pipe.cmd("ZINCRBY").arg(self.keys.lease_repos()).arg(1).arg(digest).ignore();
        if let Err(e) = pipe.query_async::<()>(&mut self.conn()).await.map_err(redis_error) {
            tracing::warn!(session, error = %e.message, "lease taken but not indexed; it lapses by its TTL");
        }
    }

    /// Publish a lease notification. Best effort: the change is made, and a lost notification
    /// must not undo or fail it.
    async fn announce(&self, event: &str, lease: &Lease, why: Option<ReleaseReason>) {
        let mut payload = lease.payload();
        if let Some(why) = why {
            payload["reason"] = json!(why.as_str());
        }
        if let Err(e) = self.bus.publish(event, &payload).await {
            tracing::warn!(event, path = %lease.path, error = %e.message, "lease notification not published");
        }
    }
}

/// The canonical path and repository of `path`, off the async workers (it reads the file system).
pub async fn locate(cwd: &str, path: &str) -> Result<Located, Error> {
    let (cwd, path) = (cwd.to_string(), path.to_string());
    blocking(move || paths::locate(&cwd, &path)).await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::internal(format!("path resolution failed: {e}")))?
}

fn repo_keys(repo: &LeaseRepoKeys, lease: Option<String>) -> Vec<String> {
    let mut keys = vec![repo.index(), repo.seq()];
    keys.extend(lease);
    keys
}

fn check_session(session: &str) -> Result<(), Error> {
    let problem = if session.is_empty() {
        "a lease needs the session that holds it".to_string()
    } else if session.chars().count() > types::SESSION_ID_MAX_LENGTH {
        format!("a session id has at most {} characters", types::SESSION_ID_MAX_LENGTH)
    } else {
        return Ok(());
    };
    Err(Error::validation(vec![claudebench_contract::issue::Issue {
        path: "sessionId".into(),
        code: claudebench_contract::IssueCode::Custom,
        message: problem,
    }]))
}

/// The conflict of a token that is not the current acquisition.
fn stale(token: u64, path: &str, session: &str, current: Option<&Lease>) -> Error {
    let now = match current {
        Some(l) if l.holder == session => {
            format!("the session holds it again as lease {} since {}", l.token, clock(l.since_ms))
        }
        Some(l) => format!("{} is held by {}", l.display_path(), l.held_by()),
        None => "nobody holds it now; acquire it again without a token".to_string(),
    };
    Error::conflict(format!("lease {token} on {path} is no longer current (it lapsed or was released): {now}"))
}

/// A session id as reasons show it: the first 8 characters (as in instance ids), `…` if cut.
pub fn short_session(id: &str) -> String {
    if id.chars().count() <= 8 { id.to_string() } else { format!("{}…", id.chars().take(8).collect::<String>()) }
}

/// "12:04:31 UTC" (reasons are read within a lease's TTL, a day at most).
pub fn clock(ms: i64) -> String {
    let iso = iso_millis(ms);
    format!("{} UTC", iso.get(11..19).unwrap_or(&iso))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_answers_parse_in_any_case() {
        assert_eq!(ConflictAnswer::parse("deny"), Some(ConflictAnswer::Deny));
        assert_eq!(ConflictAnswer::parse(" ASK "), Some(ConflictAnswer::Ask));
        assert_eq!(ConflictAnswer::parse("allow"), None);
    }

    #[test]
    fn holders_are_shown_short_with_the_time_and_token() {
        let lease = Lease {
            path: "/r/src/lib.rs".into(),
            root: "/r".into(),
            holder: "3f2a9c1b-7d4e".into(),
            token: 17,
            since_ms: 1_757_937_871_000,
            expires_at_ms: 1_757_938_171_000,
            ttl_ms: 300_000,
        };
        assert_eq!(lease.display_path(), "src/lib.rs");
        assert_eq!(lease.held_by(), "session 3f2a9c1b… since 12:04:31 UTC (lease 17)");
        assert_eq!(short_session("abc"), "abc");
    }
}
