//! Tests with real `claudebench` processes: two servers sharing one Redis (one killed with
//! SIGKILL), the hook bridge binary against a live server, and the Redis round trips of
//! `task.create` counted with `MONITOR` on a private Redis.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use claudebench_runtime::keys::Keys;
use claudebench_runtime::redis::server::PrivateRedis;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::server::{TestServer, post};
use crate::spawned::{Serve, ServerProcess, redis_conn};
use crate::support;

async fn spawn_server(prefix: &str, name: &str, data: &Path) -> ServerProcess {
    Serve::new(name, prefix, &data.join(name)).spawn().await
}

async fn rpc(url: &str, method: &str, params: Value) -> Value {
    let (_, reply) = post(
        &format!("{url}/rpc"),
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
    )
    .await;
    match reply.get("result") {
        Some(r) => r.clone(),
        None => panic!("{method} {params} failed: {reply}"),
    }
}

async fn leader(con: &mut claudebench_runtime::redis::Conn, keys: &Keys) -> (String, u64) {
    let fields: std::collections::HashMap<String, String> =
        redis::cmd("HGETALL").arg(keys.leader()).query_async(con).await.unwrap_or_default();
    (fields.get("id").cloned().unwrap_or_default(), fields.get("term").and_then(|t| t.parse().ok()).unwrap_or(0))
}

/// A server whose port is taken exits with an error before it touches the cluster: it never
/// registers, leads or runs a sweep, so it leaves nothing at all in Redis.
#[tokio::test]
async fn a_server_that_cannot_listen_exits_before_joining_the_cluster() {
    let prefix = support::unique_prefix();
    let data = std::env::temp_dir().join(format!("cb-procs-{prefix}"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Serve::new("no-port", &prefix, &data).serve_command(port).stdin(Stdio::null()).output();
    let out = tokio::time::timeout(Duration::from_secs(30), out).await.expect("it exits").expect("it runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    let mut con = redis_conn().await;
    let left: Vec<String> = redis::cmd("KEYS").arg(format!("{{{prefix}}}*")).query_async(&mut con).await.unwrap();
    assert!(left.is_empty(), "a server that never served wrote {left:?}");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_process_is_replaced_and_its_workers_tasks_finish_elsewhere_exactly_once() {
    let prefix = support::unique_prefix();
    let keys = Keys::new(&prefix);
    let data = std::env::temp_dir().join(format!("cb-procs-{prefix}"));
    let mut con = redis_conn().await;

    let mut a = spawn_server(&prefix, "proc-a", &data).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while leader(&mut con, &keys).await.0 != a.instance {
        assert!(Instant::now() < deadline, "the first server becomes leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, first_term) = leader(&mut con, &keys).await;
    let b = spawn_server(&prefix, "proc-b", &data).await;

    // A worker claims three tasks through A, then falls silent (it never heartbeats again).
    rpc(&a.url, "system.register", json!({"id": "w-silent", "roles": ["worker"]})).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            rpc(&a.url, "task.create", json!({"text": format!("job {i}")})).await["id"].as_str().unwrap().to_string(),
        );
    }
    let claimed = rpc(&a.url, "task.claim", json!({"workerId": "w-silent", "maxTasks": 3})).await;
    assert_eq!(claimed["tasks"].as_array().unwrap().len(), 3);

    // A live worker on B, heartbeating.
    rpc(&b.url, "system.register", json!({"id": "w-live", "roles": ["worker"]})).await;
    let b_url = b.url.clone();
    let beating = tokio::spawn(async move {
        loop {
            let _ = post(&format!("{b_url}/system/heartbeat"), r#"{"instanceId": "w-live"}"#).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });

    // Crash A: no clean shutdown, its lease is not released.
    a.child.start_kill().expect("SIGKILL");
    let _ = a.child.wait().await;
    let killed = Instant::now();
    let (new_leader, new_term) = loop {
        let (id, term) = leader(&mut con, &keys).await;
        if id == b.instance {
            break (id, term);
        }
        assert!(killed.elapsed() < Duration::from_secs(10), "B never took over (leader {id})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(new_leader, b.instance);
    assert!(new_term > first_term, "terms strictly increase: {first_term} → {new_term}");
    assert!(
        killed.elapsed() < Duration::from_millis(1500 + 1500),
        "takeover within one lease (+ renew slack): {:?}",
        killed.elapsed()
    );

    // B's sweeper re-queues the silent worker's tasks; the live worker finishes them.
    let mut done = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while done.len() < 3 {
        assert!(Instant::now() < deadline, "the silent worker's tasks were not re-queued: done {done:?}");
        let got = rpc(&b.url, "task.claim", json!({"workerId": "w-live", "maxTasks": 3})).await;
        for t in got["tasks"].as_array().unwrap() {
            let id = t["id"].as_str().unwrap().to_string();
            rpc(&b.url, "task.complete", json!({"id": id, "workerId": "w-live", "result": {"ok": true}})).await;
            done.push(id);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    beating.abort();
    done.sort();
    ids.sort();
    assert_eq!(done, ids, "each task finished exactly once");
    let completed = rpc(&b.url, "task.list", json!({"status": "completed"})).await;
    assert_eq!(completed["total"], json!(3));
    let failed: Vec<String> = redis::cmd("SMEMBERS").arg(keys.instances_failed()).query_async(&mut con).await.unwrap();
    assert!(failed.contains(&"w-silent".to_string()), "{failed:?}");

    // A clean stop unregisters B.
    let pid = b.child.id().expect("running");
    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let mut b = b;
    let status = tokio::time::timeout(Duration::from_secs(15), b.child.wait()).await.expect("B stops").unwrap();
    assert!(status.success(), "{status:?}");
    let registered: Option<f64> =
        redis::cmd("ZSCORE").arg(keys.instances()).arg(&b.instance).query_async(&mut con).await.unwrap();
    assert_eq!(registered, None, "a clean shutdown unregisters the instance");
    let _ = std::fs::remove_dir_all(&data);
}

async fn run_bridge(url: &str, fixture: &str) -> (i32, String, String) {
    let payload =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hooks").join(fixture))
            .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_claudebench"))
        .args(["hook", "--url", url, "--timeout-ms", "2000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn claudebench hook");
    child.stdin.take().unwrap().write_all(payload.as_bytes()).await.unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
    let status = child.wait().await.unwrap();
    (status.code().unwrap_or(-1), out, err)
}

#[tokio::test]
async fn the_hook_bridge_binary_blocks_rm_rf_through_a_live_server_and_fails_closed_when_it_is_down() {
    let server = TestServer::start().await;
    let (code, out, _) = run_bridge(&server.url, "pre_tool_use_bash_rm_rf.json").await;
    assert_eq!(code, 0);
    let answer: Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], json!("deny"), "{answer}");
    assert!(answer["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap().contains("rm"), "{answer}");

    let (code, out, _) = run_bridge(&server.url, "pre_tool_use_read.json").await;
    assert_eq!(code, 0);
    assert!(!out.contains("deny"), "a harmless read is not denied: {out}");

    let (code, out, _) = run_bridge(&server.url, "pre_tool_use_bash_sudo.json").await;
    assert_eq!(code, 0);
    let answer: Value = serde_json::from_str(&out).expect("JSON on stdout");
    let updated = &answer["hookSpecificOutput"]["updatedInput"];
    assert!(updated["command"].as_str().is_some_and(|c| !c.contains("sudo")), "{answer}");
    let url = server.url.clone();
    server.stop().await;

    // The server is gone: Bash is denied (fail closed), Read goes through (fail open).
    let (code, out, _) = run_bridge(&url, "pre_tool_use_bash_rm_rf.json").await;
    assert_eq!(code, 0);
    assert!(out.contains("\"deny\""), "{out}");
    let (code, out, _) = run_bridge(&url, "pre_tool_use_read.json").await;
    assert_eq!(code, 0);
    assert!(!out.contains("deny"), "{out}");
}

/// Client commands seen by `MONITOR` while `f` runs (commands run inside scripts are not
/// round trips and are left out).
async fn client_commands_during<F: std::future::Future<Output = ()>>(port: u16, f: F) -> Vec<String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(b"MONITOR\r\n").await.unwrap();
    let mut lines = BufReader::new(stream).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("+OK"));
    f.await;
    let mut seen = Vec::new();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_millis(300), lines.next_line()).await {
        if !line.contains("[0 lua]") {
            seen.push(line);
        }
    }
    seen
}

#[tokio::test]
async fn task_create_costs_one_redis_round_trip() {
    if crate::spawned::skip_on_cluster("counts the round trips on a private single Redis with MONITOR") {
        return;
    }
    let mut redis_server =
        PrivateRedis::start(None).await.expect("a private redis-server (apt-get install redis-server)");
    let mut options = support::options();
    options.runtime.redis_url = Some(redis_server.url());
    options.runtime.redis_cluster_nodes.clear();
    let t = support::TestApp::start_with(options).await;
    // Warm up: the first call of each script loads it (NOSCRIPT → EVAL).
    t.ok("task.create", json!({"text": "warm up"})).await;

    let commands = client_commands_during(redis_server.port(), async {
        t.ok("task.create", json!({"text": "counted", "priority": 70, "metadata": {"k": 1}})).await;
    })
    .await;
    // The caller's rate limit is checked inside the create script: its key is among the call's.
    assert_eq!(commands.len(), 1, "the create script, nothing else: {commands:#?}");
    assert!(commands[0].contains("\"EVALSHA\"") && commands[0].contains(":ratelimit:task.create:"), "{commands:#?}");
    t.stop().await;
    let _ = redis_server.stop().await;
}

/// `--config FILE`: a wrong file stops every command but the hook bridge with `file:line:col`
/// messages; a good one sets the environment's defaults (the environment wins) and the per-event
/// policy `claudebench events` prints.
#[test]
fn the_configuration_file_is_checked_at_start_and_shown_by_events() {
    let dir = support::scratch_dir("cli-config", &support::unique_prefix());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_claudebench"));
        cmd.args(args).env_remove("CLAUDEBENCH_CONFIG").env_remove("CLAUDEBENCH_RATE_LIMITS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run claudebench");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[settings]\nCLAUDEBENCH_RATE_LIMIT = \"off\"\n\n[events.\"task.claimm\"]\ntimeout_ms = 0\n")
        .unwrap();
    let (code, _, err) = run(&["events", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(
            "bad.toml:2:1: unknown setting `CLAUDEBENCH_RATE_LIMIT` (did you mean `CLAUDEBENCH_RATE_LIMITS`?)"
        ),
        "{err}"
    );
    assert!(err.contains("bad.toml:4:9: unknown event `task.claimm` (did you mean `task.claim`?)"), "{err}");
    let (code, _, err) = run(&["serve", "--port", "0"], &[("CLAUDEBENCH_CONFIG", bad.to_str().unwrap())]);
    assert_eq!(code, Some(1), "serve refuses to start: {err}");

    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "[settings]\nCLAUDEBENCH_RATE_LIMITS = \"off\"\n\n[events.\"task.claim\"]\ntimeout_ms = 7000\n",
    )
    .unwrap();
    let (code, out, err) = run(&["--config", good.to_str().unwrap(), "events"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let claim = out.lines().find(|l| l.starts_with("task.claim ")).unwrap();
    assert!(claim.contains(" off ") && claim.contains("7000ms"), "{claim}");
    assert!(!out.contains("test.circuit"), "test-only events are not served by default");
    let (_, out, _) = run(&["--config", good.to_str().unwrap(), "events"], &[("CLAUDEBENCH_RATE_LIMITS", "on")]);
    let claim = out.lines().find(|l| l.starts_with("task.claim ")).unwrap();
    assert!(claim.contains("6000/60000ms"), "the environment wins over the file: {claim}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A malformed `REDIS_CLUSTER_NODES`, or one set next to `REDIS_URL`, stops `serve` before it
/// connects anywhere, with one line naming the setting (and the bad entry), never a panic; the
/// configuration file's `[settings]` is checked the same way.
#[test]
fn a_bad_redis_cluster_setting_stops_serve_with_one_clear_line() {
    let dir = support::scratch_dir("cli-cluster", &support::unique_prefix());
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_claudebench"));
        cmd.args(["serve", "--port", "0"])
            .args(args)
            .env_remove("REDIS_URL")
            .env_remove("REDIS_CLUSTER_NODES")
            .env_remove("CLAUDEBENCH_CONFIG")
            .env("CLAUDEBENCH_DATA_DIR", &dir)
            .envs(env.iter().copied());
        let out = cmd.output().expect("run claudebench serve");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&[("REDIS_CLUSTER_NODES", "127.0.0.1:7000,redis-b,::1:7002")], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("REDIS_CLUSTER_NODES must be host:port"), "{err}");
    assert!(err.contains("entry 2 `redis-b`: missing `:port`"), "{err}");
    assert!(err.contains("entry 3 `::1:7002`: write an IPv6 address as [addr]:port"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let (code, err) = run(&[("REDIS_CLUSTER_NODES", "127.0.0.1:7000"), ("REDIS_URL", "redis://127.0.0.1:6379")], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("REDIS_URL and REDIS_CLUSTER_NODES are both set"), "{err}");

    let file = dir.join("cluster.toml");
    std::fs::write(&file, "[settings]\nREDIS_CLUSTER_NODES = \"10.0.0.1:0\"\n").unwrap();
    let (code, err) = run(&[], &["--config", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("entry 1 `10.0.0.1:0`: the port must be a number from 1 to 65535"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
