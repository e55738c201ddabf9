//! The Claude Code hook bridge: `claudebench hook` is configured as a `command` hook in Claude
//! Code's `settings.json`; it reads the hook's JSON from stdin, posts it unchanged to the server's
//! `POST /hooks/claude-code` (which maps it through the spec's hook table and answers in Claude
//! Code's format), and prints the answer. What it adds to an HTTP hook: it can fail closed.
//!
//! Two rules shape everything here:
//! - never break Claude Code: any stdin, any server answer, no server at all → a well-formed
//!   outcome within the timeout, never a panic;
//! - if the server cannot answer, tools that change the system are blocked and everything
//!   else goes through (configurable with `--on-error`).

mod client;
mod input;
mod output;

use std::time::Duration;

pub use client::CallError;
pub use input::{HookCall, parse_hook};

/// Where the server is when neither `--url` nor `CLAUDEBENCH_URL` says.
pub const DEFAULT_URL: &str = "http://127.0.0.1:3000";
/// Claude Code waits for hooks far longer; ours must stay well inside a tool call's latency.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Tools that change the system: blocked under the `auto` policy when the server cannot decide.
pub const DANGEROUS_TOOLS: [&str; 5] = ["Bash", "Write", "Edit", "MultiEdit", "NotebookEdit"];

/// What to do when the server is unreachable, too slow or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Let every hook through (fail open).
    Allow,
    /// Block every tool call (fail closed) — PreToolUse only; other hooks never block on errors.
    Deny,
    /// Block the dangerous tools ([`DANGEROUS_TOOLS`]), let the rest through.
    Auto,
}

impl std::str::FromStr for OnError {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow" => Ok(OnError::Allow),
            "deny" => Ok(OnError::Deny),
            "auto" => Ok(OnError::Auto),
            other => Err(format!("--on-error must be allow, deny or auto, not `{other}`")),
        }
    }
}

/// How the bridge reaches the server and decides when it cannot.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// Base URL of the server; the call goes to `<url>/hooks/claude-code`.
    pub url: String,
    /// Bearer token (`CLAUDEBENCH_TOKEN`), when the server requires one.
    pub token: Option<String>,
    /// Upper bound for the whole call, connection included.
    pub timeout: Duration,
    pub on_error: OnError,
    /// Answer `permissionDecision: "allow"` for calls the server allows, which makes Claude Code
    /// skip its own permission prompt. Off by default: the server only knows what is dangerous,
    /// not what the user wants to confirm, so allowed calls defer to Claude Code's rules.
    pub approve_allowed: bool,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            url: DEFAULT_URL.into(),
            token: None,
            timeout: DEFAULT_TIMEOUT,
            on_error: OnError::Auto,
            approve_allowed: false,
        }
    }
}

impl BridgeConfig {
    /// From command-line arguments (`--url U`, `--timeout-ms N`, `--on-error P`, `--approve`,
    /// also as `--flag=value`) over the environment (`CLAUDEBENCH_URL`, `CLAUDEBENCH_TOKEN`).
    pub fn from_args<I, S>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut config = BridgeConfig::default();
        if let Some(url) = env("CLAUDEBENCH_URL").filter(|u| !u.trim().is_empty()) {
            config.url = url;
        }
        config.token = env("CLAUDEBENCH_TOKEN").filter(|t| !t.trim().is_empty());
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
                None => (arg.clone(), None),
            };
            if flag == "--approve" {
                config.approve_allowed = true;
                continue;
            }
            let mut value = || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--url" => config.url = value()?,
                "--timeout-ms" => {
                    let ms: u64 = value()?
                        .parse()
                        .map_err(|_| "--timeout-ms must be a whole number of milliseconds".to_string())?;
                    config.timeout = Duration::from_millis(ms.max(1));
                }
                "--on-error" => config.on_error = value()?.parse()?,
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        config.url = config.url.trim_end_matches('/').to_string();
        Ok(config)
    }
}

/// What the `claudebench hook` process prints and exits with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeOutcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

impl BridgeOutcome {
    /// Exit 0 with nothing to say: Claude Code carries on as if there were no hook.
    pub fn silent() -> Self {
        BridgeOutcome::default()
    }
}

/// The whole `claudebench hook [--url U] [--timeout-ms N] [--on-error P] [--approve]` command:
/// read stdin, answer, print; returns the process exit code. A bad flag is exit 1 (Claude Code
/// shows it to the user and carries on) rather than a blocking error.
pub fn run_cli<I, S>(args: I) -> i32
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    use std::io::{Read, Write};
    let config = match BridgeConfig::from_args(args, |key| std::env::var(key).ok()) {
        Ok(config) => config,
        Err(problem) => {
            let _ = writeln!(std::io::stderr(), "claudebench hook: {problem}");
            return 1;
        }
    };
    let mut stdin = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        let _ = writeln!(std::io::stderr(), "claudebench hook: cannot read stdin: {e}");
        return 0;
    }
    let outcome = run(&String::from_utf8_lossy(&stdin), config);
    // A closed stdout/stderr must not turn into a panic (print! would).
    let _ = std::io::stdout().write_all(outcome.stdout.as_bytes()).and_then(|_| std::io::stdout().flush());
    if !outcome.stderr.is_empty() {
        let _ = writeln!(std::io::stderr(), "{}", outcome.stderr);
    }
    outcome.exit_code
}

/// Handle one hook invocation (blocking; for the CLI, which has no runtime of its own).
pub fn run(stdin_json: &str, config: BridgeConfig) -> BridgeOutcome {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run_async(stdin_json, &config)),
        Err(e) => {
            // No runtime, no server call: decide as if the server were down.
            let call = parse_hook(stdin_json);
            match call {
                Some(call) => output::on_failure(
                    &call,
                    &CallError::Unreachable(format!("cannot start the async runtime: {e}")),
                    &config,
                ),
                None => BridgeOutcome::silent(),
            }
        }
    }
}

/// Handle one hook invocation: map it, call the server, answer in Claude Code's format.
pub async fn run_async(stdin_json: &str, config: &BridgeConfig) -> BridgeOutcome {
    let Some(call) = parse_hook(stdin_json) else {
        // Unknown hook or unreadable input: say nothing, so Claude Code is never broken by us.
        return BridgeOutcome::silent();
    };
    match client::call(config, &call).await {
        Ok(answer) => output::on_answer(&answer),
        Err(error) => output::on_failure(&call, &error, config),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flags_override_the_environment_and_defaults_apply_otherwise() {
        let config = BridgeConfig::from_args(Vec::<String>::new(), no_env).unwrap();
        assert_eq!(config.url, DEFAULT_URL);
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert_eq!(config.on_error, OnError::Auto);

        let env = |k: &str| (k == "CLAUDEBENCH_URL").then(|| "http://env:1/".to_string());
        assert_eq!(BridgeConfig::from_args(Vec::<String>::new(), env).unwrap().url, "http://env:1");
        let config = BridgeConfig::from_args(
            ["--url", "http://x:2", "--timeout-ms=250", "--on-error", "deny", "--approve"],
            env,
        )
        .unwrap();
        assert_eq!(
            (config.url.as_str(), config.timeout, config.on_error, config.approve_allowed),
            ("http://x:2", Duration::from_millis(250), OnError::Deny, true)
        );
    }

    #[test]
    fn bad_flags_are_reported_not_panicked_on() {
        assert!(BridgeConfig::from_args(["--on-error", "maybe"], no_env).is_err());
        assert!(BridgeConfig::from_args(["--timeout-ms", "soon"], no_env).is_err());
        assert!(BridgeConfig::from_args(["--url"], no_env).is_err());
        assert!(BridgeConfig::from_args(["--frobnicate"], no_env).is_err());
    }
}
