//! File leases through the domain's `Leases` API against the real Redis, each test trying to
//! break one promise: one holder at a time under races, renewal keeping the token, expiry,
//! fencing of a lapsed holder, repositories kept apart, one lease per file however it is
//! spelled, releasing a session everywhere, the sweep, and odd input.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use claudebench_contract::error::ErrorCode;
use claudebench_domain::leases::{Acquire, ConflictAnswer, Lease, LeaseConfig, Leases, ReleaseReason};
use claudebench_domain::policy::{Decision, Guard, HookDecision};
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::keys::Keys;
use serde_json::{Value, json};

use crate::coordination_tasks::stream;
use crate::fixtures;
use crate::support::{redis, unique_keys, unique_prefix};

/// Every test is over well within this, or something hangs.
const BOUND: Duration = Duration::from_secs(60);

struct Fixture {
    leases: Leases,
    keys: Keys,
}

async fn fixture() -> Fixture {
    fixture_with(LeaseConfig::default()).await
}

async fn fixture_with(config: LeaseConfig) -> Fixture {
    let keys = unique_keys();
    let bus = EventBus::new(&fixtures::handle().await, keys.clone(), 10_000);
    Fixture { leases: Leases::new(&bus, config), keys }
}

impl Fixture {
    /// The payloads published on `event`, oldest first.
    async fn events(&self, event: &str) -> Vec<Value> {
        let entries = stream(&mut redis().await, &self.keys.stream(event)).await;
        entries.iter().map(|e| serde_json::from_str(&e["payload"]).unwrap()).collect()
    }

    async fn granted(&self, session: &str, cwd: &Path, path: &str, ttl_ms: Option<u64>) -> (Lease, bool) {
        match self.leases.try_acquire(session, cwd.to_str().unwrap(), path, ttl_ms, None).await.unwrap() {
            Acquire::Granted { lease, renewed } => (lease, renewed),
            other => panic!("{session} expected the lease on {path}, got {other:?}"),
        }
    }
}

/// A temporary directory, removed when dropped; `git: true` makes it a repository.
struct Dir(PathBuf);

impl Dir {
    fn new(git: bool) -> Dir {
        let dir = std::env::temp_dir().join(format!("cb-leases-{}", unique_prefix()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        if git {
            std::fs::create_dir_all(dir.join(".git")).unwrap();
        }
        // The canonical form (the temporary directory may itself be behind a link).
        Dir(std::fs::canonicalize(dir).unwrap())
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn at(&self, rel: &str) -> String {
        self.0.join(rel).to_str().unwrap().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// --- one holder ---------------------------------------------------------------------------------

#[tokio::test]
async fn of_many_sessions_racing_for_a_free_file_exactly_one_wins_and_the_others_learn_who_and_since() {
    tokio::time::timeout(BOUND, async {
        let f = Arc::new(fixture().await);
        let repo = Dir::new(true);
        for round in 0..10 {
            let file = format!("src/file{round}.rs");
            let racers: Vec<_> = (0..12)
                .map(|s| {
                    let (f, cwd, file) = (f.clone(), repo.at("."), file.clone());
                    tokio::spawn(async move {
                        let session = format!("session-{s}");
                        let got = f.leases.try_acquire(&session, &cwd, &file, None, None).await.unwrap();
                        (session, got)
                    })
                })
                .collect();
            let mut winners = Vec::new();
            let mut told = Vec::new();
            for r in racers {
                match r.await.unwrap() {
                    (session, Acquire::Granted { lease, renewed: false }) => winners.push((session, lease)),
                    (_, Acquire::Held(holder)) => told.push(holder),
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
            let (winner, lease) = &winners[0];
            assert_eq!(&lease.holder, winner);
            assert_eq!(told.len(), 11);
            for holder in told {
                assert_eq!((&holder.holder, holder.token, holder.since_ms), (winner, lease.token, lease.since_ms));
            }
        }
        assert_eq!(f.events("lease.acquired").await.len(), 10, "one announcement per acquisition");
    })
    .await
    .expect("bounded");
}

/// Sessions loop acquiring, working (inside a shared critical section) and releasing one file;
/// the section must never hold two of them at once.
#[tokio::test]
async fn sessions_taking_turns_on_one_file_never_overlap() {
    tokio::time::timeout(BOUND, async {
        let f = Arc::new(fixture().await);
        let repo = Dir::new(true);
        let inside = Arc::new(AtomicUsize::new(0));
        let turns = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..6)
            .map(|s| {
                let (f, cwd, inside, turns) = (f.clone(), repo.at("."), inside.clone(), turns.clone());
                tokio::spawn(async move {
                    let session = format!("worker-{s}");
                    let mut mine = 0;
                    while mine < 5 {
                        // Long enough a TTL that a lease never lapses inside the section.
                        match f.leases.try_acquire(&session, &cwd, "src/shared.rs", Some(10_000), None).await.unwrap() {
                            Acquire::Granted { lease, renewed: false } => {
                                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders at once");
                                tokio::time::sleep(Duration::from_millis(2)).await;
                                inside.fetch_sub(1, Ordering::SeqCst);
                                let done = f.leases.release(&session, &cwd, "src/shared.rs", Some(lease.token)).await;
                                assert!(done.unwrap().lease.is_some());
                                mine += 1;
                                turns.fetch_add(1, Ordering::SeqCst);
                            }
                            Acquire::Held(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
        assert_eq!(turns.load(Ordering::SeqCst), 30);
        // Tokens strictly increase, one per acquisition.
        let tokens: Vec<u64> = f.events("lease.acquired").await.iter().map(|e| e["token"].as_u64().unwrap()).collect();
        assert_eq!(tokens, (1..=30).collect::<Vec<_>>());
    })
    .await
    .expect("bounded");
}

// --- renewal, expiry, fencing -------------------------------------------------------------------

#[tokio::test]
async fn renewing_keeps_the_token_and_the_since_and_moves_the_expiry() {
    let f = fixture().await;
    let repo = Dir::new(true);
    let (first, renewed) = f.granted("a", repo.path(), "src/lib.rs", Some(60_000)).await;
    assert!(!renewed);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (again, renewed) = f.granted("a", repo.path(), "src/lib.rs", Some(60_000)).await;
    assert!(renewed);
    assert_eq!((again.token, again.since_ms), (first.token, first.since_ms));
    assert!(again.expires_at_ms > first.expires_at_ms);
    // Renewing by token: the same acquisition.
    let by_token = f.leases.acquire("a", &repo.at("."), "src/lib.rs", None, Some(first.token)).await.unwrap();
    assert_eq!(by_token.token, first.token);
    assert_eq!(f.events("lease.acquired").await.len(), 1, "renewals are not announced");
}

#[tokio::test]
async fn an_idle_lease_lapses_after_its_ttl_and_is_free_for_another_session() {
    let f = fixture().await;
    let repo = Dir::new(true);
    // A second of margin: a loaded machine may stall between the grant and the check.
    let (a, _) = f.granted("a", repo.path(), "src/lib.rs", Some(1_000)).await;
    assert!(matches!(
        f.leases.try_acquire("b", &repo.at("."), "src/lib.rs", None, None).await.unwrap(),
        Acquire::Held(ref h) if h.holder == "a"
    ));
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let (b, _) = f.granted("b", repo.path(), "src/lib.rs", Some(60_000)).await;
    assert!(b.token > a.token);
    let expired = f.events("lease.expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!((expired[0]["holder"].as_str(), expired[0]["token"].as_u64()), (Some("a"), Some(a.token)));
}

#[tokio::test]
async fn a_lapsed_holder_cannot_renew_or_release_with_its_old_token_once_the_lease_is_retaken() {
    let f = fixture().await;
    let repo = Dir::new(true);
    let cwd = repo.at(".");
    let (old, _) = f.granted("a", repo.path(), "src/lib.rs", Some(100)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (new, _) = f.granted("b", repo.path(), "src/lib.rs", Some(60_000)).await;

    let renew = f.leases.acquire("a", &cwd, "src/lib.rs", None, Some(old.token)).await.unwrap_err();
    assert_eq!(renew.code, ErrorCode::Conflict);
    assert!(renew.message.contains("no longer current") && renew.message.contains("session b"), "{}", renew.message);
    let release = f.leases.release("a", &cwd, "src/lib.rs", Some(old.token)).await.unwrap_err();
    assert_eq!(release.code, ErrorCode::Conflict);
    // Even B's own session cannot use A's dead token.
    let wrong = f.leases.release("b", &cwd, "src/lib.rs", Some(old.token)).await.unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Conflict);
    // Nor can A take or release it without a token: B holds it.
    assert!(matches!(f.leases.try_acquire("a", &cwd, "src/lib.rs", None, None).await.unwrap(), Acquire::Held(_)));
    assert_eq!(f.leases.release("a", &cwd, "src/lib.rs", None).await.unwrap_err().code, ErrorCode::Conflict);
    // B's lease is untouched by all of it.
    let listed = f.leases.list(Some(&cwd), None).await.unwrap().leases;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].holder.as_str(), listed[0].token), ("b", new.token));
}

#[tokio::test]
async fn a_lease_retaken_by_its_own_holder_after_lapsing_is_a_new_acquisition_with_a_new_token() {
    let f = fixture().await;
    let repo = Dir::new(true);
    let cwd = repo.at(".");
    let (old, _) = f.granted("a", repo.path(), "src/lib.rs", Some(100)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A renewal by token after the lapse is refused, and takes nothing.
    let stale = f.leases.acquire("a", &cwd, "src/lib.rs", None, Some(old.token)).await.unwrap_err();
    assert_eq!(stale.code, ErrorCode::Conflict);
    assert!(f.leases.list(Some(&cwd), None).await.unwrap().leases.is_empty());
    let (new, renewed) = f.granted("a", repo.path(), "src/lib.rs", None).await;
    assert!(!renewed && new.token > old.token);
    let dead = f.leases.release("a", &cwd, "src/lib.rs", Some(old.token)).await.unwrap_err();
    assert!(dead.message.contains(&format!("holds it again as lease {}", new.token)), "{}", dead.message);
    assert!(f.leases.release("a", &cwd, "src/lib.rs", Some(new.token)).await.unwrap().lease.is_some());
}

#[tokio::test]
async fn releasing_a_free_file_is_not_an_error_and_releasing_twice_releases_once() {
    let f = fixture().await;
    let repo = Dir::new(true);
    let cwd = repo.at(".");
    assert_eq!(f.leases.release("a", &cwd, "src/lib.rs", None).await.unwrap().lease, None);
    let (lease, _) = f.granted("a", repo.path(), "src/lib.rs", None).await;
    let done = f.leases.release("a", &cwd, "src/lib.rs", None).await.unwrap();
    assert_eq!(done.lease.map(|l| l.token), Some(lease.token));
    assert_eq!(f.leases.release("a", &cwd, "src/lib.rs", None).await.unwrap().lease, None);
    let released = f.events("lease.released").await;
    assert_eq!(released.len(), 1);
    assert_eq!(released[0]["reason"], "release");
}

// --- where a lease lives ------------------------------------------------------------------------

#[tokio::test]
async fn two_repositories_with_the_same_relative_path_never_collide() {
    let f = fixture().await;
    let (one, two) = (Dir::new(true), Dir::new(true));
    let (a, _) = f.granted("a", one.path(), "src/lib.rs", None).await;
    let (b, _) = f.granted("b", two.path(), "src/lib.rs", None).await;
    assert_eq!((a.root.as_str(), b.root.as_str()), (one.path().to_str().unwrap(), two.path().to_str().unwrap()));
    for (dir, holder) in [(&one, "a"), (&two, "b")] {
        let listed = f.leases.list(Some(&dir.at(".")), None).await.unwrap().leases;
        assert_eq!(listed.iter().map(|l| l.holder.as_str()).collect::<Vec<_>>(), [holder]);
    }
}

#[tokio::test]
async fn every_spelling_of_a_file_and_a_link_to_it_name_one_lease() {
    let f = fixture().await;
    let repo = Dir::new(true);
    std::fs::write(repo.at("src/a.rs"), "fn a() {}").unwrap();
    std::os::unix::fs::symlink(repo.at("src/a.rs"), repo.at("link.rs")).unwrap();
    std::os::unix::fs::symlink(repo.at("src"), repo.at("srclink")).unwrap();
    let (lease, _) = f.granted("a", repo.path(), "src/a.rs", None).await;
    assert_eq!(lease.path, repo.at("src/a.rs"));
    let sub = repo.at("src");
    for (cwd, spelling) in [
        (repo.at("."), "./src/a.rs"),
        (repo.at("."), "src/../src/./a.rs"),
        (repo.at("."), "src//a.rs"),
        (repo.at("."), repo.at("src/a.rs").as_str()),
        (repo.at("."), "link.rs"),
        (repo.at("."), "srclink/a.rs"),
        (sub.clone(), "a.rs"),
        (sub.clone(), "../src/a.rs"),
        (repo.at("src/../."), "src/a.rs"),
    ] {
        let cwd = cwd.to_string();
        match f.leases.try_acquire("b", &cwd, spelling, None, None).await.unwrap() {
            Acquire::Held(h) => assert_eq!((h.holder.as_str(), h.token), ("a", lease.token), "{cwd} {spelling}"),
            other => panic!("{cwd} {spelling}: {other:?}"),
        }
        // The holder's own spelling renews the same lease.
        let (again, renewed) = f.granted("a", Path::new(&cwd), spelling, None).await;
        assert!(renewed && again.token == lease.token, "{cwd} {spelling}");
    }
    // A file not yet created, through a linked directory, is named by its real directory.
    let (new, _) = f.granted("a", repo.path(), "srclink/new.rs", None).await;
    assert_eq!(new.path, repo.at("src/new.rs"));
}

#[tokio::test]
async fn the_repository_is_the_nearest_git_directory_or_worktree_file_else_the_working_directory() {
    let f = fixture().await;
    let repo = Dir::new(true);
    std::fs::create_dir_all(repo.at("crates/x")).unwrap();
    // Deep inside: the repository is still the root with `.git`.
    let (deep, _) = f.granted("a", Path::new(&repo.at("crates/x")), "lib.rs", None).await;
    assert_eq!(deep.root, repo.path().to_str().unwrap());
    // A worktree or submodule has a `.git` file: it is a repository of its own.
    std::fs::create_dir_all(repo.at("vendor/sub")).unwrap();
    std::fs::write(repo.at("vendor/sub/.git"), "gitdir: ../../.git/modules/sub").unwrap();
    let (nested, _) = f.granted("a", repo.path(), "vendor/sub/lib.rs", None).await;
    assert_eq!(nested.root, repo.at("vendor/sub"));
    // Named from inside the nested repository: the same lease.
    assert!(matches!(
        f.leases.try_acquire("b", &repo.at("vendor/sub"), "lib.rs", None, None).await.unwrap(),
        Acquire::Held(h) if h.token == nested.token
    ));
    // No repository at all: the working directory.
    let plain = Dir::new(false);
    let (p, _) = f.granted("a", plain.path(), "notes.txt", None).await;
    assert_eq!(p.root, plain.path().to_str().unwrap());
    // A path outside the session's root belongs to its own: the other repository's.
    let other = Dir::new(true);
    let (out, _) = f.granted("a", plain.path(), &other.at("src/x.rs"), None).await;
    assert_eq!(out.root, other.path().to_str().unwrap());
}

#[tokio::test]
async fn odd_input_is_a_validation_error_at_its_field() {
    let f = fixture().await;
    let repo = Dir::new(true);
    let cwd = repo.at(".");
    let long = "a/".repeat(3000);
    let cases: [(&str, &str, &str, &str); 7] = [
        ("a", "", "src/x", "cwd"),
        ("a", "relative/dir", "src/x", "cwd"),
        ("a", &cwd, "", "path"),
        ("a", &cwd, "src/\0x", "path"),
        ("a", "/tmp/\0", "x", "cwd"),
        ("a", &cwd, &long, "path"),
        ("", &cwd, "src/x", "sessionId"),
    ];
    for (session, cwd, path, field) in cases {
        let e = f.leases.try_acquire(session, cwd, path, None, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation, "{cwd:?} {path:?}");
        assert_eq!(e.issues[0].path, field, "{cwd:?} {path:?}");
        let e = f.leases.release(session, cwd, path, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation, "{cwd:?} {path:?}");
    }
    // Names that are only odd, not wrong, work: spaces, quotes, braces, colons, non-ASCII, `..`
    // above the root, a path that does not exist under a file.
    for path in ["src/a file.rs", "src/{x}:y.rs", "src/é\u{1F600}.rs", "../../../../../../../../tmp/x", "/etc/passwd/x"]
    {
        f.granted("a", repo.path(), path, None).await;
    }
    // Neither a repository nor a session: every lease, wherever it was placed.
    let every = f.leases.list(None, None).await.unwrap();
    assert_eq!((every.leases.len(), every.truncated), (5, false));
    assert!(every.leases.iter().all(|l| l.holder == "a"));
}

// --- a session's leases ---------------------------------------------------------------------------

#[tokio::test]
async fn a_session_stopping_releases_its_leases_in_every_repository_and_no_one_elses() {
    let f = fixture().await;
    let (one, two) = (Dir::new(true), Dir::new(true));
    f.granted("a", one.path(), "src/lib.rs", None).await;
    f.granted("a", one.path(), "src/main.rs", None).await;
    f.granted("a", two.path(), "README.md", None).await;
    f.granted("b", one.path(), "src/other.rs", None).await;
    let mine = f.leases.list(None, Some("a")).await.unwrap();
    assert_eq!(mine.leases.len(), 3);

    let released = f.leases.release_session("a", ReleaseReason::Stop).await.unwrap();
    assert_eq!(released.len(), 3);
    assert!(f.leases.list(None, Some("a")).await.unwrap().leases.is_empty());
    let left = f.leases.list(Some(&one.at(".")), None).await.unwrap().leases;
    assert_eq!(left.iter().map(|l| l.holder.as_str()).collect::<Vec<_>>(), ["b"]);
    let events = f.events("lease.released").await;
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e["reason"] == "stop" && e["holder"] == "a"));
    // B may take what A held; A's next turn takes leases again (and Stop finds them again).
    f.granted("b", one.path(), "src/lib.rs", None).await;
    f.granted("a", two.path(), "README.md", None).await;
    assert_eq!(f.leases.release_session("a", ReleaseReason::SessionEnd).await.unwrap().len(), 1);
    assert!(f.leases.release_session("a", ReleaseReason::SessionEnd).await.unwrap().is_empty());
}

#[tokio::test]
async fn lists_show_live_leases_soonest_to_lapse_first_by_repository_or_session() {
    let f = fixture().await;
    let repo = Dir::new(true);
    let cwd = repo.at(".");
    f.granted("a", repo.path(), "src/late.rs", Some(60_000)).await;
    f.granted("b", repo.path(), "src/soon.rs", Some(30_000)).await;
    f.granted("a", repo.path(), "src/gone.rs", Some(50)).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let all = f.leases.list(Some(&cwd), None).await.unwrap();
    let order: Vec<&str> = all.leases.iter().map(|l| l.path.rsplit('/').next().unwrap()).collect();
    assert_eq!(order, ["soon.rs", "late.rs"]);
    assert!(!all.truncated);
    let a_here = f.leases.list(Some(&cwd), Some("a")).await.unwrap().leases;
    assert_eq!(a_here.len(), 1);
    assert_eq!(f.leases.list(None, Some("b")).await.unwrap().leases.len(), 1);
    assert!(f.leases.list(None, Some("nobody")).await.unwrap().leases.is_empty());
}

#[tokio::test]
async fn the_sweep_removes_lapsed_leases_announces_them_once_and_forgets_empty_repositories() {
    let f = fixture().await;
    let repo = Dir::new(true);
    f.granted("a", repo.path(), "src/a.rs", Some(50)).await;
    f.granted("a", repo.path(), "src/b.rs", Some(50)).await;
    f.granted("b", repo.path(), "src/c.rs", Some(60_000)).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    // Two sweepers at once (a leadership hand-over): each lapse announced once.
    let (x, y) = tokio::join!(f.leases.sweep(), f.leases.sweep());
    assert_eq!(x.unwrap() + y.unwrap(), 2);
    assert_eq!(f.events("lease.expired").await.len(), 2);
    let registry = f.keys.lease_repos();
    let mut con = redis().await;
    let known: Vec<String> = redis::cmd("ZRANGE").arg(&registry).arg(0).arg(-1).query_async(&mut con).await.unwrap();
    assert_eq!(known.len(), 1, "still holds a live lease");
    f.leases.release("b", &repo.at("."), "src/c.rs", None).await.unwrap();
    assert_eq!(f.leases.sweep().await.unwrap(), 0);
    let known: Vec<String> = redis::cmd("ZRANGE").arg(&registry).arg(0).arg(-1).query_async(&mut con).await.unwrap();
    assert!(known.is_empty(), "{known:?}");
    // A repository forgotten and used again is swept again.
    f.granted("a", repo.path(), "src/a.rs", Some(50)).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(f.leases.sweep().await.unwrap(), 1);
}

// --- the pre-tool hook's use ----------------------------------------------------------------------

fn allowed() -> HookDecision {
    HookDecision { decision: Decision::Allow, reason: None, rule: None, warnings: vec![], modified: None }
}

#[tokio::test]
async fn an_edit_of_a_file_another_session_leases_is_refused_naming_the_holder_and_a_guard_deny_takes_nothing() {
    let f = fixture().await;
    let repo = Dir::new(true);
    let cwd = repo.at(".");
    let guard = Guard::default();
    let write = |path: &str| guard.judge_in("Write", &json!({"file_path": path, "content": "x"}), Some(&cwd));

    let w = write("src/lib.rs");
    assert_eq!(w.writes, [repo.at("src/lib.rs")]);
    let a = f.leases.guard_edits(Some("session-a"), Some(&cwd), &w.writes, w.decision.clone()).await;
    assert_eq!(a.decision, Decision::Allow);
    let b = f.leases.guard_edits(Some("session-b"), Some(&cwd), &w.writes, w.decision.clone()).await;
    assert_eq!((b.decision, b.rule.as_deref()), (Decision::Deny, Some("file_lease")));
    let reason = b.reason.unwrap();
    assert!(reason.starts_with("src/lib.rs is being edited by session session-…"), "{reason}");
    assert!(reason.contains("(lease 1)") && reason.contains("expires at"), "{reason}");
    // No session or no working directory: no lease, the guard's answer stands.
    assert_eq!(f.leases.guard_edits(None, Some(&cwd), &w.writes, allowed()).await, allowed());
    assert_eq!(f.leases.guard_edits(Some("session-b"), None, &w.writes, allowed()).await, allowed());
    // A guard deny stays a deny and takes nothing.
    let denied = guard.judge_in("Bash", &json!({"command": "echo x > src/free.rs; rm -rf /"}), Some(&cwd));
    assert_eq!(denied.decision.decision, Decision::Deny);
    let d = f.leases.guard_edits(Some("session-b"), Some(&cwd), &denied.writes, denied.decision.clone()).await;
    assert_eq!(d, denied.decision);
    assert!(f.leases.list(None, Some("session-b")).await.unwrap().leases.is_empty());
}

#[tokio::test]
async fn a_refused_call_writing_several_files_gives_back_the_leases_it_took_and_ask_mode_asks() {
    let f = fixture_with(LeaseConfig { conflict: ConflictAnswer::Ask, ..LeaseConfig::default() }).await;
    let repo = Dir::new(true);
    let cwd = repo.at(".");
    f.granted("a", repo.path(), "src/held.rs", None).await;
    let bash = Guard::default().judge_in(
        "Bash",
        &json!({"command": "echo 1 > src/free.rs && echo 2 | tee src/held.rs > /dev/null"}),
        Some(&cwd),
    );
    assert_eq!(bash.writes, [repo.at("src/free.rs"), repo.at("src/held.rs")]);
    let b = f.leases.guard_edits(Some("b"), Some(&cwd), &bash.writes, bash.decision.clone()).await;
    assert_eq!(b.decision, Decision::Ask);
    assert!(b.reason.unwrap().starts_with("src/held.rs is being edited by session a since"));
    assert!(f.leases.list(None, Some("b")).await.unwrap().leases.is_empty(), "src/free.rs was given back");
}

#[test]
fn the_guard_lists_what_a_command_writes_and_only_what_it_can_name() {
    let g = Guard::default();
    let writes = |command: &str| g.judge_in("Bash", &json!({"command": command}), Some("/home/dev/p")).writes;
    assert_eq!(writes("echo x > a.txt"), ["/home/dev/p/a.txt"]);
    assert_eq!(writes("cd src && sed -i s/a/b/ lib.rs main.rs"), ["/home/dev/p/src/lib.rs", "/home/dev/p/src/main.rs"]);
    assert_eq!(writes("cp a.rs b.rs; mv c d; echo > ../x/./y"), ["/home/dev/p/b.rs", "/home/dev/p/d", "/home/dev/x/y"]);
    assert_eq!(writes("cat a >> log 2>&1"), ["/home/dev/p/log"]);
    for none in ["ls > /dev/null", "echo x > $OUT", "echo > *.rs", "echo > ~/x", "cat a.txt", "cd \"$D\" && echo > f"] {
        assert!(writes(none).is_empty(), "{none}: {:?}", writes(none));
    }
    let unknown_cwd = g.judge_in("Bash", &json!({"command": "echo > rel.txt"}), None).writes;
    assert!(unknown_cwd.is_empty());
    let notebook = g.judge_in("NotebookEdit", &json!({"notebook_path": "nb.ipynb"}), Some("/p")).writes;
    assert_eq!(notebook, ["/p/nb.ipynb"]);
}

/// A write through a name the kernel resolves differently from a lexical `..` must meet the lease
/// of the file it really writes: `dir/link/../x` is `<link's target>/../x` to the kernel, not
/// `dir/x`; and a dangling link writes its target, which is created by the write.
#[tokio::test]
async fn a_dangling_link_and_dot_dot_after_a_link_name_the_file_the_kernel_writes() {
    tokio::time::timeout(BOUND, async {
        let f = fixture().await;
        let repo = Dir::new(true);
        std::fs::create_dir_all(repo.at("deep/inner")).unwrap();
        // `srclink/..` is `deep` for the kernel, `repo` lexically.
        std::os::unix::fs::symlink(repo.at("deep/inner"), repo.at("srclink")).unwrap();
        let (held, _) = f.granted("a", repo.path(), "deep/target.rs", None).await;
        assert_eq!(held.path, repo.at("deep/target.rs"));
        match f.leases.try_acquire("b", &repo.at("."), "srclink/../target.rs", None, None).await.unwrap() {
            Acquire::Held(h) => assert_eq!(h.token, held.token),
            other => panic!("`srclink/../target.rs` writes deep/target.rs, which a holds: {other:?}"),
        }
        // A dangling link: writing `new-link.rs` creates `src/new.rs`.
        std::os::unix::fs::symlink(repo.at("src/new.rs"), repo.at("new-link.rs")).unwrap();
        let (new, _) = f.granted("a", repo.path(), "src/new.rs", None).await;
        match f.leases.try_acquire("b", &repo.at("."), "new-link.rs", None, None).await.unwrap() {
            Acquire::Held(h) => assert_eq!(h.token, new.token),
            other => panic!("`new-link.rs` writes src/new.rs, which a holds: {other:?}"),
        }
        // A relative dangling link, and a chain of them.
        std::os::unix::fs::symlink("src/chain.rs", repo.at("hop2")).unwrap();
        std::os::unix::fs::symlink("hop2", repo.at("hop1")).unwrap();
        let (chain, _) = f.granted("a", repo.path(), "hop1", None).await;
        assert_eq!(chain.path, repo.at("src/chain.rs"));
        // A link loop resolves to something, never hangs or fails.
        std::os::unix::fs::symlink("loop2", repo.at("loop1")).unwrap();
        std::os::unix::fs::symlink("loop1", repo.at("loop2")).unwrap();
        f.granted("a", repo.path(), "loop1", None).await;
    })
    .await
    .expect("bounded");
}
