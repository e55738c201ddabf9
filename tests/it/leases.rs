//! File leases end to end, through the pipeline as the hooks and MCP reach it, against real
//! Redis: two simulated Claude Code sessions in one git repository contend for files through
//! `hook.pre_tool` (Write, Edit, MultiEdit, NotebookEdit and Bash writes), Stop and SessionEnd
//! hand them over, leases lapse, the `lease.*` events see and take the same leases, and
//! repositories stay apart.

use std::path::PathBuf;
use std::time::Duration;

use claudebench_domain::leases::ConflictAnswer;
use claudebench_runtime::backend::Payload;
use claudebench_runtime::context::{RequestMeta, Transport};
use serde_json::{Value, json};

use crate::support::{TestApp, options, unique_prefix};

const A: &str = "3f2a9c1b-7d4e-4a8f-9b0c-2e5d6f7a8b9c";
const B: &str = "9b0c2e5d-6f7a-4b8c-9d0e-1f2a3b4c5d6e";

/// A temporary git repository (a `.git` directory), removed when dropped.
struct Repo(PathBuf);

impl Repo {
    fn new() -> Repo {
        let dir = std::env::temp_dir().join(format!("cb-leases-e2e-{}", unique_prefix()));
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        Repo(std::fs::canonicalize(dir).unwrap())
    }
    fn cwd(&self) -> String {
        self.0.to_str().unwrap().to_string()
    }
    fn at(&self, rel: &str) -> String {
        self.0.join(rel).to_str().unwrap().to_string()
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `hook.pre_tool` as the bridge sends it for `session` working in `cwd`.
async fn pre_tool(t: &TestApp, session: &str, cwd: &str, tool: &str, params: Value) -> Value {
    t.ok("hook.pre_tool", json!({"tool": tool, "params": params, "sessionId": session, "cwd": cwd})).await
}

async fn write(t: &TestApp, session: &str, repo: &Repo, file: &str) -> Value {
    pre_tool(t, session, &repo.cwd(), "Write", json!({"file_path": repo.at(file), "content": "x"})).await
}

async fn edit(t: &TestApp, session: &str, repo: &Repo, file: &str) -> Value {
    pre_tool(t, session, &repo.cwd(), "Edit", json!({"file_path": file, "old_string": "a", "new_string": "b"})).await
}

async fn leases(t: &TestApp, repo: &Repo) -> Vec<Value> {
    t.ok("lease.list", json!({"cwd": repo.cwd()})).await["leases"].as_array().unwrap().clone()
}

fn holders(list: &[Value]) -> Vec<(String, String)> {
    list.iter().map(|l| (l["holder"].as_str().unwrap().to_string(), l["path"].as_str().unwrap().to_string())).collect()
}

#[tokio::test]
async fn a_second_session_editing_a_leased_file_is_denied_naming_the_first_until_its_stop_releases_it() {
    let t = TestApp::start().await;
    let repo = Repo::new();
    assert_eq!(write(&t, A, &repo, "src/lib.rs").await["decision"], "allow");
    // Another spelling of the same file, from the other session.
    let denied = edit(&t, B, &repo, "./src/../src/lib.rs").await;
    assert_eq!((denied["decision"].as_str(), denied["allow"].as_bool()), (Some("deny"), Some(false)));
    assert_eq!(denied["rule"], "file_lease");
    let reason = denied["reason"].as_str().unwrap();
    assert!(reason.starts_with("src/lib.rs is being edited by session 3f2a9c1b… since "), "{reason}");
    assert!(reason.contains("UTC (lease 1); ask it to finish or wait until the lease expires at "), "{reason}");
    // Audited like every decision.
    let mut con = t.redis();
    let audit: redis::streams::StreamRangeReply =
        redis::cmd("XRANGE").arg(t.services().keys.audit()).arg("-").arg("+").query_async(&mut con).await.unwrap();
    let last = audit.ids.last().unwrap();
    let (decision, rule, session): (String, String, String) =
        (last.get("decision").unwrap(), last.get("rule").unwrap(), last.get("session").unwrap());
    assert_eq!((decision.as_str(), rule.as_str(), session.as_str()), ("deny", "file_lease", B));
    assert_eq!(holders(&leases(&t, &repo).await), [(A.to_string(), repo.at("src/lib.rs"))]);

    // A subagent stopping is not the session's turn ending: the lease stays.
    t.ok("hook.stop", json!({"sessionId": A, "subagent": true, "agentType": "Explore"})).await;
    assert_eq!(edit(&t, B, &repo, "src/lib.rs").await["decision"], "deny");
    // The main agent's Stop releases it; B's edit now runs and takes the lease.
    assert_eq!(t.ok("hook.stop", json!({"sessionId": A})).await["acknowledged"], true);
    assert_eq!(edit(&t, B, &repo, "src/lib.rs").await["decision"], "allow");
    assert_eq!(holders(&leases(&t, &repo).await), [(B.to_string(), repo.at("src/lib.rs"))]);
    // And now A is the one refused.
    let back = write(&t, A, &repo, "src/lib.rs").await;
    assert_eq!(back["decision"], "deny");
    assert!(back["reason"].as_str().unwrap().contains("session 9b0c2e5d… since"), "{back}");

    let acquired: Vec<Value> = t.stream("lease.acquired").await.into_iter().map(|(_, p)| p).collect();
    assert_eq!(acquired.iter().map(|p| p["holder"].as_str().unwrap()).collect::<Vec<_>>(), [A, B]);
    let released: Vec<Value> = t.stream("lease.released").await.into_iter().map(|(_, p)| p).collect();
    assert_eq!((released.len(), released[0]["reason"].as_str()), (1, Some("stop")));
    t.stop().await;
}

#[tokio::test]
async fn in_ask_mode_the_second_session_is_asked_and_a_guard_ask_keeps_its_own_reason_too() {
    let mut opts = options();
    opts.coordination.leases.conflict = ConflictAnswer::Ask;
    let t = TestApp::start_with(opts).await;
    let repo = Repo::new();
    write(&t, A, &repo, "src/lib.rs").await;
    let asked = edit(&t, B, &repo, "src/lib.rs").await;
    assert_eq!((asked["decision"].as_str(), asked["rule"].as_str()), (Some("ask"), Some("file_lease")));
    assert!(asked["reason"].as_str().unwrap().contains("is being edited by session 3f2a9c1b…"), "{asked}");
    // A write the guard asks about anyway (git hooks) that also hits a lease: both reasons.
    write(&t, A, &repo, ".git/hooks/pre-commit").await;
    let both = pre_tool(&t, B, &repo.cwd(), "Bash", json!({"command": "echo x > .git/hooks/pre-commit"})).await;
    assert_eq!(both["decision"], "ask");
    let reason = both["reason"].as_str().unwrap();
    assert!(reason.contains("being edited by") && reason.contains("Also: "), "{reason}");
    t.stop().await;
}

#[tokio::test]
async fn bash_writes_the_guard_resolves_take_and_respect_leases_and_reads_do_not() {
    let t = TestApp::start().await;
    let repo = Repo::new();
    write(&t, A, &repo, "src/lib.rs").await;
    let bash = |command: &str| json!({"command": command});
    let cwd = repo.cwd();
    let denied = pre_tool(&t, B, &cwd, "Bash", bash("echo x > src/lib.rs")).await;
    assert_eq!((denied["decision"].as_str(), denied["rule"].as_str()), (Some("deny"), Some("file_lease")));
    for command in ["cd src && sed -i s/a/b/ lib.rs", "echo x | tee -a src/lib.rs", "cp /tmp/x src/lib.rs"] {
        assert_eq!(pre_tool(&t, B, &cwd, "Bash", bash(command)).await["decision"], "deny", "{command}");
    }
    // Reading a leased file, or writing elsewhere, is fine; the write takes its own lease.
    assert_eq!(pre_tool(&t, B, &cwd, "Bash", bash("cat src/lib.rs > /dev/null")).await["decision"], "allow");
    assert_eq!(pre_tool(&t, B, &cwd, "Bash", bash("cargo build 2> build.log")).await["decision"], "allow");
    let held = holders(&leases(&t, &repo).await);
    assert!(held.contains(&(B.to_string(), repo.at("build.log"))), "{held:?}");
    // A's Write of B's log is now the refused one.
    assert_eq!(write(&t, A, &repo, "build.log").await["decision"], "deny");
    t.stop().await;
}

#[tokio::test]
async fn every_file_tool_takes_a_lease_and_session_end_releases_them_all() {
    let t = TestApp::start().await;
    let repo = Repo::new();
    let cwd = repo.cwd();
    pre_tool(&t, A, &cwd, "MultiEdit", json!({"file_path": "src/a.rs", "edits": []})).await;
    pre_tool(&t, A, &cwd, "NotebookEdit", json!({"notebook_path": "nb.ipynb", "new_source": "x"})).await;
    write(&t, A, &repo, "src/b.rs").await;
    assert_eq!(leases(&t, &repo).await.len(), 3);
    for (tool, params) in [
        ("Edit", json!({"file_path": "src/a.rs"})),
        ("NotebookEdit", json!({"notebook_path": repo.at("nb.ipynb")})),
        ("Write", json!({"file_path": "src/b.rs"})),
    ] {
        assert_eq!(pre_tool(&t, B, &cwd, tool, params).await["decision"], "deny", "{tool}");
    }
    // Read-only tools never take or respect leases.
    assert_eq!(pre_tool(&t, B, &cwd, "Read", json!({"file_path": "src/a.rs"})).await["decision"], "allow");

    let end = t.ok("hook.session_end", json!({"sessionId": A, "reason": "logout"})).await;
    assert_eq!(end["instanceId"], "claude-code-3f2a9c1b");
    assert!(leases(&t, &repo).await.is_empty());
    assert_eq!(pre_tool(&t, B, &cwd, "Edit", json!({"file_path": "src/a.rs"})).await["decision"], "allow");
    let released: Vec<Value> = t.stream("lease.released").await.into_iter().map(|(_, p)| p).collect();
    assert_eq!(released.len(), 3);
    assert!(released.iter().all(|r| r["reason"] == "session_end"));
    t.stop().await;
}

#[tokio::test]
async fn an_idle_lease_lapses_and_the_waiting_session_gets_the_file() {
    // Margins wide enough for a loaded CI machine: uses 300 ms apart renew a 2 s lease, and an
    // idle spell of 2.6 s lets it lapse.
    let mut opts = options();
    opts.coordination.leases.ttl_ms = 2_000;
    let t = TestApp::start_with(opts).await;
    let repo = Repo::new();
    write(&t, A, &repo, "src/lib.rs").await;
    assert_eq!(edit(&t, B, &repo, "src/lib.rs").await["decision"], "deny");
    // A keeps using it: each use renews, so B is still refused past the first TTL.
    let first_ttl_ends = tokio::time::Instant::now() + Duration::from_millis(2_000);
    while tokio::time::Instant::now() < first_ttl_ends + Duration::from_millis(300) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(write(&t, A, &repo, "src/lib.rs").await["decision"], "allow");
    }
    assert_eq!(edit(&t, B, &repo, "src/lib.rs").await["decision"], "deny");
    // A goes idle: the lease lapses.
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    assert_eq!(edit(&t, B, &repo, "src/lib.rs").await["decision"], "allow");
    assert_eq!(write(&t, A, &repo, "src/lib.rs").await["decision"], "deny");
    let expired: Vec<Value> = t.stream("lease.expired").await.into_iter().map(|(_, p)| p).collect();
    assert_eq!((expired.len(), expired[0]["holder"].as_str()), (1, Some(A)));
    t.stop().await;
}

#[tokio::test]
async fn the_leader_announces_a_lapsed_lease_without_anyone_touching_the_file() {
    let mut opts = options();
    opts.background_jobs = true;
    opts.coordination.leases.ttl_ms = 200;
    let t = TestApp::start_with(opts).await;
    let repo = Repo::new();
    write(&t, A, &repo, "src/lib.rs").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let expired = loop {
        let expired = t.stream("lease.expired").await;
        if !expired.is_empty() || tokio::time::Instant::now() > deadline {
            break expired;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(expired.len(), 1, "the sweep runs every second");
    assert_eq!(
        (expired[0].1["holder"].as_str(), expired[0].1["path"].as_str()),
        (Some(A), Some(repo.at("src/lib.rs").as_str()))
    );
    assert!(leases(&t, &repo).await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn leases_are_per_repository() {
    let t = TestApp::start().await;
    let (one, two) = (Repo::new(), Repo::new());
    assert_eq!(write(&t, A, &one, "src/lib.rs").await["decision"], "allow");
    assert_eq!(write(&t, B, &two, "src/lib.rs").await["decision"], "allow");
    assert_eq!(edit(&t, B, &two, "src/lib.rs").await["decision"], "allow");
    assert_eq!(holders(&leases(&t, &one).await), [(A.to_string(), one.at("src/lib.rs"))]);
    assert_eq!(holders(&leases(&t, &two).await), [(B.to_string(), two.at("src/lib.rs"))]);
    // A session's list spans its repositories.
    write(&t, A, &two, "README.md").await;
    let mine = t.ok("lease.list", json!({"sessionId": A})).await;
    assert_eq!(mine["leases"].as_array().unwrap().len(), 2);
    t.stop().await;
}

#[tokio::test]
async fn with_neither_cwd_nor_session_every_live_lease_in_every_repository_is_listed() {
    let t = TestApp::start().await;
    let (one, two) = (Repo::new(), Repo::new());
    write(&t, A, &one, "src/lib.rs").await;
    write(&t, B, &two, "src/main.rs").await;
    write(&t, B, &two, "README.md").await;
    let all = t.ok("lease.list", json!({})).await;
    assert_eq!(all["truncated"], false);
    let list = all["leases"].as_array().unwrap();
    let mut seen = holders(list);
    seen.sort();
    let mut expected = vec![
        (A.to_string(), one.at("src/lib.rs")),
        (B.to_string(), two.at("README.md")),
        (B.to_string(), two.at("src/main.rs")),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    // Soonest to lapse first (every lease has the same TTL: the oldest use first).
    let expiries: Vec<&str> = list.iter().map(|l| l["expiresAt"].as_str().unwrap()).collect();
    assert!(expiries.is_sorted(), "{expiries:?}");
    assert_eq!(list[0]["root"], one.cwd());
    t.stop().await;
}

#[tokio::test]
async fn the_full_listing_leaves_lapsed_leases_out() {
    let t = TestApp::start().await;
    let (one, two) = (Repo::new(), Repo::new());
    let short = json!({"path": "src/lib.rs", "sessionId": A, "cwd": one.cwd(), "ttlS": 1});
    t.ok("lease.acquire", short).await;
    write(&t, B, &two, "src/lib.rs").await;
    assert_eq!(t.ok("lease.list", json!({})).await["leases"].as_array().unwrap().len(), 2);
    // A's one-second lease lapses (no leader sweeps here: it is still stored, but not live).
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let all = t.ok("lease.list", json!({})).await;
    assert_eq!(holders(all["leases"].as_array().unwrap()), [(B.to_string(), two.at("src/lib.rs"))]);
    t.stop().await;
}

#[tokio::test]
async fn without_a_session_id_or_a_working_directory_no_lease_is_taken() {
    let t = TestApp::start().await;
    let repo = Repo::new();
    let file = repo.at("src/lib.rs");
    let no_cwd = t.ok("hook.pre_tool", json!({"tool": "Write", "params": {"file_path": file}, "sessionId": A})).await;
    let no_session =
        t.ok("hook.pre_tool", json!({"tool": "Write", "params": {"file_path": file}, "cwd": repo.cwd()})).await;
    assert_eq!((no_cwd["decision"].as_str(), no_session["decision"].as_str()), (Some("allow"), Some("allow")));
    assert!(leases(&t, &repo).await.is_empty());
    assert_eq!(edit(&t, B, &repo, "src/lib.rs").await["decision"], "allow");
    t.stop().await;
}

#[tokio::test]
async fn an_agent_leases_a_file_over_the_lease_events_and_its_hooks_see_the_same_lease() {
    let t = TestApp::start().await;
    let repo = Repo::new();
    let input = |session: &str| json!({"path": "src/lib.rs", "sessionId": session, "cwd": repo.cwd()});
    let lease = t.ok("lease.acquire", input(A)).await;
    assert_eq!(
        (lease["path"].as_str(), lease["root"].as_str()),
        (Some(repo.at("src/lib.rs").as_str()), Some(repo.cwd().as_str()))
    );
    assert_eq!(
        (lease["holder"].as_str(), lease["token"].as_i64(), lease["ttlS"].as_i64()),
        (Some(A), Some(1), Some(300))
    );
    // The same session's edit renews it (same token); the other's is refused.
    assert_eq!(write(&t, A, &repo, "src/lib.rs").await["decision"], "allow");
    assert_eq!(edit(&t, B, &repo, "src/lib.rs").await["decision"], "deny");
    let renewed = t.ok("lease.acquire", input(A)).await;
    assert_eq!((renewed["token"].as_i64(), &renewed["since"]), (Some(1), &lease["since"]));
    // B asking first gets a conflict naming A and since when.
    let err = t.call("lease.acquire", input(B)).await.unwrap_err();
    assert_eq!(err.code, claudebench_generated::error::ErrorCode::Conflict);
    assert!(err.message.contains("leased by session 3f2a9c1b… since") && err.message.contains("(lease 1)"), "{err:?}");
    assert_eq!(
        t.call("lease.release", input(B)).await.unwrap_err().code,
        claudebench_generated::error::ErrorCode::Conflict
    );
    // A releases by token; releasing again is not an error, but says nothing was released.
    let mut release = input(A);
    release["token"] = json!(1);
    let done = t.ok("lease.release", release.clone()).await;
    assert_eq!(done, json!({"path": repo.at("src/lib.rs"), "root": repo.cwd(), "released": true, "token": 1}));
    assert_eq!(t.ok("lease.release", input(A)).await["released"], false);
    // B takes it (a new token); A's old token is dead.
    assert_eq!(t.ok("lease.acquire", input(B)).await["token"], 2);
    assert_eq!(
        t.call("lease.release", release).await.unwrap_err().code,
        claudebench_generated::error::ErrorCode::Conflict
    );
    let mut renew = input(A);
    renew["token"] = json!(1);
    assert!(t.call("lease.acquire", renew).await.unwrap_err().message.contains("no longer current"));
    t.stop().await;
}

#[tokio::test]
async fn odd_paths_and_working_directories_are_validation_errors_and_never_break_the_hook() {
    let t = TestApp::start().await;
    let repo = Repo::new();
    let cwd = repo.cwd();
    for (input, field) in [
        (json!({"path": "", "sessionId": A, "cwd": cwd}), "path"),
        (json!({"path": "a\u{0}b", "sessionId": A, "cwd": cwd}), "path"),
        (json!({"path": "a".repeat(5000), "sessionId": A, "cwd": cwd}), "path"),
        (json!({"path": "a", "sessionId": A, "cwd": "relative"}), "cwd"),
        (json!({"path": "a", "sessionId": A, "cwd": "/tmp/\u{0}"}), "cwd"),
        (json!({"path": "a", "sessionId": "", "cwd": cwd}), "sessionId"),
        (json!({"path": "a", "sessionId": A, "cwd": cwd, "ttlS": 0}), "ttlS"),
        (json!({"path": "a", "sessionId": A, "cwd": cwd, "token": 0}), "token"),
    ] {
        let err = t.call("lease.acquire", input.clone()).await.unwrap_err();
        assert_eq!(err.code, claudebench_generated::error::ErrorCode::Validation, "{input}");
        assert_eq!(err.issues[0].path, field, "{input}");
    }
    // Neither filter is the full listing, not an error: nothing was leased above.
    assert_eq!(t.ok("lease.list", json!({})).await, json!({"leases": [], "truncated": false}));
    // A lone surrogate is not text: refused as sent, before any handler.
    let app = t.app.as_ref().unwrap();
    let def = claudebench_runtime::backend::Backend::resolve(app.pipeline.as_ref(), "lease.acquire").unwrap();
    let body = format!(r#"{{"path": "\ud800", "sessionId": "{A}", "cwd": "{cwd}"}}"#);
    let err = app.pipeline.run(def, Payload::Bytes(body.as_bytes()), RequestMeta::new(Transport::Internal)).await;
    assert_eq!(err.unwrap_err().code, claudebench_generated::error::ErrorCode::Validation);
    // The hook answers the guard's decision with a warning instead of failing.
    let out = pre_tool(&t, A, &cwd, "Write", json!({"file_path": "a\u{0}b"})).await;
    assert_eq!(out["decision"], "allow");
    assert!(out["warnings"][0].as_str().unwrap().starts_with("no file lease for"), "{out}");
    let relative = pre_tool(&t, A, "not/absolute", "Write", json!({"file_path": "/tmp/x"})).await;
    assert!(relative["warnings"][0].as_str().unwrap().contains("absolute"), "{relative}");
    t.stop().await;
}

#[test]
fn the_lease_events_are_mcp_tools_with_their_hints() {
    let manifest: Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/generated/mcp-tools.json"))).unwrap();
    let tools = manifest["tools"].as_array().unwrap();
    let tool = |name: &str| tools.iter().find(|t| t["name"] == name).cloned();
    for name in ["lease__acquire", "lease__release", "lease__list"] {
        assert!(tool(name).is_some(), "{name} is not an MCP tool");
    }
    assert_eq!(tool("lease__list").unwrap()["annotations"]["readOnlyHint"], true);
    assert_eq!(tool("lease__acquire").unwrap()["annotations"]["idempotentHint"], true);
}

#[test]
fn lease_settings_are_checked_at_start_and_accepted_in_the_configuration_file() {
    use claudebench::app::lease_config;
    let with = |pairs: &'static [(&'static str, &'static str)]| {
        lease_config(move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    };
    let default = with(&[]).unwrap();
    assert_eq!((default.ttl_ms, default.conflict), (300_000, ConflictAnswer::Deny));
    let set = with(&[("CLAUDEBENCH_LEASE_TTL_S", " 60 "), ("CLAUDEBENCH_LEASE_CONFLICT", "ASK")]).unwrap();
    assert_eq!((set.ttl_ms, set.conflict), (60_000, ConflictAnswer::Ask));
    for bad in [
        &[("CLAUDEBENCH_LEASE_TTL_S", "0")][..],
        &[("CLAUDEBENCH_LEASE_TTL_S", "86401")],
        &[("CLAUDEBENCH_LEASE_TTL_S", "5m")],
        &[("CLAUDEBENCH_LEASE_CONFLICT", "allow")],
    ] {
        let e = with(bad).unwrap_err();
        assert!(e.message.starts_with(bad[0].0), "{}", e.message);
    }
    let file = claudebench_runtime::config::ConfigFile::parse(
        std::path::Path::new("cb.toml"),
        "[settings]\nCLAUDEBENCH_LEASE_TTL_S = 120\nCLAUDEBENCH_LEASE_CONFLICT = \"ask\"\n",
        &claudebench_generated::events::EVENTS,
    )
    .unwrap();
    assert_eq!(file.settings["CLAUDEBENCH_LEASE_TTL_S"], "120");
}
