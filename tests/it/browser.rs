//! The dashboard (`GET /`) and the API reference (`GET /docs`) in a real browser: Debian's
//! headless Chromium driven by playwright-core (`tests/browser/dashboard.mjs`) against two real
//! `claudebench serve` processes, one without a token and one with `CLAUDEBENCH_TOKEN`. The script
//! checks what a user sees (see its steps) and prints the page weight and the time from an event
//! to the page; `scripts/test.sh` installs Chromium and playwright-core (`ensure_browser_tools`).
//!
//! Screenshots go to a temporary directory, or to `docs/screenshots/` (the README's) with
//! `CB_UPDATE_SCREENSHOTS=1`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::spawned::Serve;
use crate::support;

/// The whole script takes about 15 s alone on the 2-core machine.
const DEADLINE: Duration = Duration::from_secs(180);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Chromium's path; fails (never skips) when it or playwright-core is missing.
fn chromium() -> String {
    let chromium = std::env::var("CB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).is_file() && browser_dir().join("node_modules/playwright-core/package.json").is_file(),
        "Chromium (`{chromium}`) or playwright-core (tests/browser/node_modules) is missing: run scripts/test.sh \
         (it installs both)"
    );
    chromium
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_api_reference_work_in_a_real_browser() {
    let chromium = chromium();
    let prefix = support::unique_prefix();
    let dir = support::scratch_dir("browser", &prefix);
    // A short failure timeout, so an instance the script leaves silent is declared failed while
    // it runs (the page heartbeats at the interval `system.register` answers).
    let open = Serve::new("browser", &format!("{prefix}-open"), &dir.join("open"))
        .env("CLAUDEBENCH_FAILURE_TIMEOUT_MS", "6000")
        .log_to(dir.join("open.log"))
        .spawn()
        .await;
    // Base64-like, so the WebSocket `?token=` must be percent-encoded by the page and decoded here.
    let token = format!("tok+en/{prefix}==");
    let secured = Serve::new("browser-token", &format!("{prefix}-token"), &dir.join("token"))
        .env("CLAUDEBENCH_TOKEN", token.clone())
        .log_to(dir.join("token.log"))
        .spawn()
        .await;
    let update = std::env::var("CB_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    let shots = if update { Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots") } else { dir.join("shots") };
    std::fs::create_dir_all(&shots).unwrap();

    let run = Command::new("node")
        .arg("dashboard.mjs")
        .current_dir(browser_dir())
        .env("CB_URL", &open.url)
        .env("CB_TOKEN_URL", &secured.url)
        .env("CB_TOKEN", &token)
        .env("CB_SHOTS", &shots)
        .env("CB_CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("the browser test did not finish within {DEADLINE:?}{}", open.log_tail(20)))
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{}{}{}",
        String::from_utf8_lossy(&out.stderr),
        open.log_tail(30),
        secured.log_tail(10)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no summary line ({e}):\n{stdout}"));
    assert!(summary["eventToPageMs"]["median"].is_number(), "{summary}");
    for shot in ["tasks", "agents", "hooks", "events", "console", "docs", "narrow"] {
        assert!(shots.join(format!("{shot}.png")).is_file(), "no screenshot of {shot}");
    }
    drop((open, secured));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tests/browser/reconnect.mjs`: the page is open when its server is killed with SIGKILL and
/// started again on the same port; it must come back by itself with what changed meanwhile, and
/// ask for the token when the server comes back requiring one, or a different one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_comes_back_when_its_server_is_killed_and_restarted() {
    let chromium = chromium();
    let prefix = support::unique_prefix();
    let dir = support::scratch_dir("browser", &prefix);
    let mut server = Serve::new("reconnect", &prefix, &dir.join("data")).log_to(dir.join("serve.log")).spawn().await;
    let mut node = Command::new("node")
        .arg("reconnect.mjs")
        .current_dir(browser_dir())
        .env("CB_URL", &server.url)
        .env("CB_CHROMIUM", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut stderr = node.stderr.take().unwrap();
    let mut printed = Vec::new();
    let drive = async {
        while let Some(line) = lines.next_line().await.expect("the script's output") {
            println!("{line}");
            // `KILL`, or `KILL token=<t>` to come back requiring that token.
            if let Some(rest) = line.strip_prefix("KILL") {
                if let Some(token) = rest.trim().strip_prefix("token=") {
                    server.set_env("CLAUDEBENCH_TOKEN", token);
                }
                server.kill_and_restart().await;
                stdin.write_all(b"up\n").await.expect("tell the script");
            }
            printed.push(line);
        }
        node.wait().await.expect("the script exits")
    };
    let status = tokio::time::timeout(Duration::from_secs(90), drive)
        .await
        .unwrap_or_else(|_| panic!("the reconnect test did not finish within 90 s{}", server.log_tail(20)));
    let mut errors = String::new();
    stderr.read_to_string(&mut errors).await.unwrap();
    assert!(
        status.success() && printed.iter().any(|l| l == "KILL"),
        "the reconnect test failed:\n{}\n{errors}{}",
        printed.join("\n"),
        server.log_tail(20)
    );
    let summary: serde_json::Value = serde_json::from_str(printed.last().map(String::as_str).unwrap_or_default())
        .unwrap_or_else(|e| panic!("no summary line ({e}):\n{}", printed.join("\n")));
    assert!(summary["reconnectMs"].is_number(), "{summary}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
