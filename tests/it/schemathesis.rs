//! Schemathesis against a real `claudebench serve`: every operation of the `/openapi.json` the
//! server publishes, in all four phases (the spec's examples, boundary and negative coverage,
//! random fuzzing, and stateful sequences over the links schemathesis infers), checked for
//! server errors and for responses that break the published schema. The run must find nothing.
//!
//! The seed is fixed so CI is reproducible; `CB_SCHEMATHESIS_SEED` picks another one and
//! `CB_SCHEMATHESIS_EXAMPLES` another size when looking for trouble locally.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::spawned::Serve;
use crate::support;

/// Test cases per operation and phase: about 3,200 requests in 30 s.
const MAX_EXAMPLES: &str = "50";
const SEED: &str = "20251130";
/// A generous bound for a run that takes about half a minute alone on the 2-core machine.
const DEADLINE: Duration = Duration::from_secs(150);

/// `st`, installed next to the Python that `scripts/test.sh` prepares (`CB_PYTHON`).
fn schemathesis_cli() -> PathBuf {
    let python = std::env::var("CB_PYTHON").unwrap_or_else(|_| "python3".into());
    let st = Path::new(&python).parent().map(|bin| bin.join("st")).filter(|st| st.is_file());
    st.unwrap_or_else(|| {
        panic!(
            "schemathesis (`st`) is not installed next to `{python}`: run scripts/test.sh (it creates the venv \
             with schemathesis and sets CB_PYTHON)"
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_response_outside_the_published_schema() {
    let st = schemathesis_cli();
    let prefix = support::unique_prefix();
    let dir = support::scratch_dir("schemathesis", &prefix);
    // A production configuration: test-only events are not served and not in the document.
    let server = Serve::new("schemathesis", &prefix, &dir.join("data")).log_to(dir.join("server.log")).spawn().await;

    let examples = std::env::var("CB_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| MAX_EXAMPLES.into());
    let seed = std::env::var("CB_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.into());
    let started = Instant::now();
    let run = Command::new(&st)
        .args(["--no-color", "run"])
        .arg(format!("{}/openapi.json", server.url))
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        // One worker: with two, Hypothesis parses lambdas' source on two threads at once and this
        // Python (3.11) fails about one run in two with "AST constructor recursion depth mismatch".
        // One is no slower (46.5 s against 50 s): generation holds the GIL.
        .args(["--max-examples", &examples, "--seed", &seed, "--workers", "1"])
        .args(["--request-timeout", "10"])
        // Hypothesis keeps its example database in the working directory.
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("schemathesis did not finish within {DEADLINE:?}{}", server.log_tail(20)))
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The report (operations, phases, links covered, test cases) stays in the test's output.
    println!("schemathesis ({:.1} s):\n{stdout}", started.elapsed().as_secs_f64());
    assert!(
        out.status.success(),
        "schemathesis found failures (seed {seed}; its report is above):\n{}{}",
        String::from_utf8_lossy(&out.stderr),
        server.log_tail(40)
    );
    assert!(stdout.contains("Tested: "), "schemathesis tested no operation:\n{stdout}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
