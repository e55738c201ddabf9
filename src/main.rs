//! `claudebench`: the server, its MCP stdio mode, the Claude Code hook bridge and a few tools.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use claudebench::app::App;
use claudebench_domain::node::rehydrate_tasks;
use claudebench_generated::events::EVENTS;
use claudebench_runtime::backend::Backend;
use claudebench_runtime::transport::{self, TransportConfig};

/// See Cargo.toml: the server's many small allocations are cheaper with mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The OpenAPI document served at `GET /openapi.json` (committed, checked for staleness by tests).
const OPENAPI: &str = include_str!("../generated/openapi.json");

#[derive(Parser)]
#[command(
    name = "claudebench",
    version,
    about = "A Redis-first, spec-driven event coordination server for Claude Code"
)]
struct Cli {
    /// A TOML configuration file: `[settings]` (any setting of the environment, which wins over
    /// the file) and `[events."<name>"]` (rate_limit, timeout_ms, circuit_breaker, cache_ttl_s,
    /// each a value or "off"). Not read by `hook`.
    #[arg(long, global = true, env = "CLAUDEBENCH_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: REST, JSON-RPC (`/rpc`), MCP (`/mcp`), WebSocket (`/ws`), `/health`, `/metrics`.
    ///
    /// Uses REDIS_URL (default redis://127.0.0.1:6379; with none set and nothing answering there,
    /// a private redis-server child is started if installed), DATABASE_URL (postgres://…; unset =
    /// a SQLite file under CLAUDEBENCH_DATA_DIR, default ./data), CLAUDEBENCH_TOKEN (bearer token
    /// required on every route but /health), CLAUDEBENCH_CORS_ORIGINS and CLAUDEBENCH_ALLOWED_HOSTS
    /// (comma-separated browser origins and Host names allowed besides loopback).
    /// SIGINT/SIGTERM finish in-flight requests, unregister the instance and stop the persister.
    Serve {
        /// Address to bind.
        #[arg(long, env = "CLAUDEBENCH_BIND", default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Port to listen on (0 = any free port).
        #[arg(long, env = "PORT", default_value_t = 3000)]
        port: u16,
    },
    /// Serve MCP over stdio (for MCP clients that launch the server as a child process).
    Mcp,
    /// The Claude Code hook bridge (reads a hook's JSON on stdin).
    ///
    /// Asks the server and answers in Claude Code's format. Flags: --url (CLAUDEBENCH_URL, default http://127.0.0.1:3000),
    /// --timeout-ms (default 5000), --on-error allow|deny|auto (default auto: deny PreToolUse of
    /// Bash/Write/Edit/MultiEdit/NotebookEdit when the server cannot answer, allow otherwise),
    /// --approve (answer "allow" instead of staying silent when the server allows).
    #[command(disable_help_flag = true)]
    Hook {
        /// Bridge flags (see above).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Invoke one event on a running server and print its output (JSON-RPC over HTTP).
    Call {
        /// Event name or alias, e.g. `task.create`.
        event: String,
        /// The input as JSON (default `{}`).
        #[arg(default_value = "{}")]
        input: String,
        /// Server URL.
        #[arg(long, env = "CLAUDEBENCH_URL", default_value = "http://127.0.0.1:3000")]
        url: String,
        /// Bearer token.
        #[arg(long, env = "CLAUDEBENCH_TOKEN")]
        token: Option<String>,
    },
    /// Print the event table this binary was built with.
    Events,
    /// Write a stub handler for every spec event that has none (never overwrites).
    ///
    /// Runs `claudebench-codegen scaffold` (found beside this binary, else on PATH).
    Scaffold {
        #[arg(long, default_value = "spec")]
        spec: PathBuf,
        #[arg(long, default_value = "src/handlers")]
        handlers: PathBuf,
    },
    /// Spec tools.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
    /// Load tasks kept in SQL back into Redis; never overwrites. The server does this by itself
    /// when Redis loses its data; this is for repairs by hand.
    Rehydrate,
    /// Outbox entries the persister could not write to SQL (REDIS_URL, CLAUDEBENCH_KEY_PREFIX).
    Deadletter {
        #[command(subcommand)]
        command: DeadletterCommand,
    },
    /// Configure a client to use this server.
    Setup {
        #[command(subcommand)]
        client: SetupClient,
    },
}

#[derive(Subcommand)]
enum SetupClient {
    /// Write or merge Claude Code's hooks (settings.json) and its MCP server entry.
    ///
    /// Idempotent: only the entries it owns are replaced (hooks that run `claudebench hook` or
    /// post to `<url>/hooks/claude-code`, and the MCP server `claudebench`); every other key, hook
    /// and server is kept in its order. Prints each file's change as a diff. A file that is not
    /// valid JSON of the expected shape is refused (exit 1) and nothing is written. With
    /// CLAUDEBENCH_TOKEN set, HTTP hooks and the MCP entry send the token from that variable of
    /// Claude Code's environment (the files never hold it).
    ClaudeCode(SetupArgs),
}

#[derive(clap::Args)]
struct SetupArgs {
    /// Every hook over HTTP (a down server lets everything through). Default: PreToolUse and
    /// PermissionRequest through the command bridge, which can fail closed; the rest over HTTP.
    #[arg(long, conflicts_with = "command")]
    http: bool,
    /// Every hook through the command bridge, `claudebench hook`.
    #[arg(long)]
    command: bool,
    /// project: <dir>/.claude/settings.json and <dir>/.mcp.json; user: ~/.claude/settings.json
    /// and the mcpServers of ~/.claude.json.
    #[arg(long, value_enum, default_value_t = SetupScope::Project)]
    scope: SetupScope,
    /// Print what would change, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The server's URL (hooks post to <url>/hooks/claude-code, MCP is <url>/mcp).
    #[arg(long, env = "CLAUDEBENCH_URL", default_value = claudebench::bridge::DEFAULT_URL,
          value_parser = claudebench::setup::parse_url)]
    url: String,
    /// The project directory (--scope project). Default: the current directory.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SetupScope {
    Project,
    User,
}

#[derive(Subcommand)]
enum DeadletterCommand {
    /// Print the dead letters, oldest first: id, source stream and entry, reason, fields.
    List {
        /// Most to print.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Put dead letters back on their stream for the persister to try again (after a fix).
    Replay {
        /// Dead-letter ids (from `list`).
        #[arg(required_unless_present = "all")]
        ids: Vec<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
    /// Remove dead letters without replaying them (reviewed and given up).
    Drop {
        /// Dead-letter ids (from `list`).
        #[arg(required_unless_present = "all")]
        ids: Vec<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

#[derive(Subcommand)]
enum SpecCommand {
    /// Check a spec folder and print every error.
    ///
    /// Runs `claudebench-codegen check` (found beside this binary, else on PATH).
    Check {
        #[arg(default_value = "spec")]
        dir: PathBuf,
    },
}

/// Run the spec tool `claudebench-codegen` with `args`, answering with its exit code. The server
/// does not link the generator: it only builds from a valid spec, so the tool that checks or
/// scaffolds a spec in progress is a separate binary (`cargo build -p claudebench-codegen`).
fn run_codegen(args: &[&std::ffi::OsStr]) -> ExitCode {
    let name = format!("claudebench-codegen{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe().ok().map(|exe| exe.with_file_name(&name)).filter(|p| p.is_file());
    let program = beside.unwrap_or_else(|| PathBuf::from(&name));
    match std::process::Command::new(&program).args(args).status() {
        Ok(status) => status.code().map_or(ExitCode::FAILURE, |c| ExitCode::from(c.clamp(0, 255) as u8)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fail(&format!(
            "`{name}` is neither beside this binary nor on PATH: build it with `cargo build -p claudebench-codegen` \
             (or run `cargo run -p claudebench-codegen -- {}`)",
            args.first().map(|a| a.to_string_lossy()).unwrap_or_default()
        )),
        Err(e) => fail(&format!("cannot run `{}`: {e}", program.display())),
    }
}

fn main() -> ExitCode {
    if let Err(message) = read_config_file() {
        return fail(&message);
    }
    let cli = Cli::parse();
    match cli.command {
        // The bridge must answer fast and never print logs on stdout: no runtime set-up.
        Command::Hook { args } => ExitCode::from(claudebench::bridge::run_cli(args).clamp(0, 255) as u8),
        Command::Events => print_events(),
        Command::Scaffold { spec, handlers } => {
            run_codegen(&["scaffold".as_ref(), spec.as_os_str(), handlers.as_os_str()])
        }
        Command::Spec { command: SpecCommand::Check { dir } } => run_codegen(&["check".as_ref(), dir.as_os_str()]),
        Command::Setup { client: SetupClient::ClaudeCode(args) } => setup_claude_code(args),
        command => {
            init_logging();
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
            };
            runtime.block_on(async_main(command))
        }
    }
}

async fn async_main(command: Command) -> ExitCode {
    match command {
        Command::Serve { bind, port } => serve(SocketAddr::new(bind, port)).await,
        Command::Mcp => mcp().await,
        Command::Call { event, input, url, token } => call(&event, &input, &url, token.as_deref()).await,
        Command::Rehydrate => rehydrate().await,
        Command::Deadletter { command } => deadletter(command).await,
        Command::Hook { .. }
        | Command::Events
        | Command::Scaffold { .. }
        | Command::Spec { .. }
        | Command::Setup { .. } => ExitCode::SUCCESS,
    }
}

/// Reads the configuration file before the command line is parsed: its settings become defaults
/// of the environment, which the flags read too. The hook bridge never reads it: a broken file
/// must not break Claude Code.
fn read_config_file() -> Result<(), String> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "hook") {
        return Ok(());
    }
    let flag = args.iter().enumerate().find_map(|(i, a)| {
        let a = a.to_str()?;
        match a.strip_prefix("--config") {
            Some("") => args.get(i + 1).cloned(),
            Some(rest) => rest.strip_prefix('=').map(Into::into),
            None => None,
        }
    });
    if let Some(path) = flag {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("CLAUDEBENCH_CONFIG", path) };
    }
    match claudebench::app::config_file() {
        Ok(Some(file)) => {
            file.export_settings();
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e.message),
    }
}

/// Logs go to stderr: stdout belongs to the MCP stdio protocol and to `call`'s output.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn start_app() -> Result<App, ExitCode> {
    let options = claudebench::app::options_from_env().map_err(|e| fail(&e.message))?;
    App::start(options).await.map_err(|e| fail(&e.message))
}

fn transport_config(local_addr: SocketAddr) -> Result<TransportConfig, String> {
    let list = |name: &str| -> Vec<String> {
        let value = std::env::var(name).unwrap_or_default();
        value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect()
    };
    // Limits are positive: 0 would refuse every connection or close it at once.
    let positive = |name: &str, default: u64| -> Result<u64, String> {
        match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{name}={v:?} must be a positive integer")),
            },
        }
    };
    let defaults = TransportConfig::default();
    let limits = defaults.connections;
    let millis = |name: &str, default: Duration| positive(name, default.as_millis() as u64).map(Duration::from_millis);
    let count = |name: &str, default: usize| positive(name, default as u64).map(|n| n as usize);
    Ok(TransportConfig {
        token: std::env::var("CLAUDEBENCH_TOKEN").ok().filter(|t| !t.is_empty()),
        cors_origins: list("CLAUDEBENCH_CORS_ORIGINS"),
        allowed_hosts: list("CLAUDEBENCH_ALLOWED_HOSTS"),
        local_addr: Some(local_addr),
        openapi: Some(Arc::from(OPENAPI)),
        max_websockets: count("CLAUDEBENCH_MAX_WEBSOCKETS", defaults.max_websockets)?,
        ws_idle_timeout: millis("CLAUDEBENCH_WS_IDLE_TIMEOUT_MS", defaults.ws_idle_timeout)?,
        rpc: transport::jsonrpc::RpcLimits {
            max_batch: count("CLAUDEBENCH_RPC_MAX_BATCH", defaults.rpc.max_batch)?,
            max_response_bytes: count("CLAUDEBENCH_RPC_MAX_RESPONSE_BYTES", defaults.rpc.max_response_bytes)?,
        },
        connections: transport::ConnectionLimits {
            header_timeout: millis("CLAUDEBENCH_HEADER_TIMEOUT_MS", limits.header_timeout)?,
            body_timeout: millis("CLAUDEBENCH_BODY_TIMEOUT_MS", limits.body_timeout)?,
            max_connections: count("CLAUDEBENCH_MAX_CONNECTIONS", limits.max_connections)?,
        },
        ..defaults
    })
}

async fn serve(addr: SocketAddr) -> ExitCode {
    // Read before anything starts: a mistake stops the start, like the other settings.
    let mut config = match transport_config(addr) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    // The port first: a server that cannot listen must not register, take leadership or run
    // the cluster's sweeps even briefly.
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {addr}: {e} (is another server running? try --port)")),
    };
    let app = match start_app().await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(%local, events = EVENTS.len(), "claudebench listening (REST, /rpc, /mcp, /ws)");
    let backend: Arc<dyn Backend> = app.pipeline.clone();
    config.local_addr = Some(local);
    let limits = config.connections;
    let router = transport::router(backend, config);
    let served = transport::serve(listener, router, limits, shutdown_signal()).await;
    tracing::info!("shutting down: in-flight requests finished");
    app.shutdown().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("server error: {e}")),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn mcp() -> ExitCode {
    let app = match start_app().await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let backend: Arc<dyn Backend> = app.pipeline.clone();
    let result = transport::serve_stdio(backend).await;
    app.shutdown().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("MCP stdio transport: {e}")),
    }
}

async fn call(event: &str, input: &str, url: &str, token: Option<&str>) -> ExitCode {
    let params: serde_json::Value = match serde_json::from_str(input) {
        Ok(v) => v,
        Err(e) => return fail(&format!("the input is not JSON: {e}")),
    };
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": event, "params": params});
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{}/rpc", url.trim_end_matches('/')))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot reach {url}: {e}")),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let reply: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return fail(&format!("{url} answered {status} without JSON: {e}")),
    };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    if let Some(result) = reply.get("result") {
        println!("{}", pretty(result));
        ExitCode::SUCCESS
    } else if let Some(error) = reply.get("error") {
        eprintln!("{}", pretty(error));
        ExitCode::FAILURE
    } else {
        fail(&format!("{url} answered {status}: {}", pretty(&reply)))
    }
}

async fn rehydrate() -> ExitCode {
    let mut options = match claudebench::app::options_from_env() {
        Ok(o) => o,
        Err(e) => return fail(&e.message),
    };
    options.background_jobs = false;
    let app = match App::start(options).await {
        Ok(app) => app,
        Err(e) => return fail(&e.message),
    };
    let result = match &app.services.store {
        Some(store) => rehydrate_tasks(&app.domain, store).await,
        None => Ok(Default::default()),
    };
    app.shutdown().await;
    match result {
        Ok(stats) => {
            println!(
                "restored {} unfinished and {} finished task(s); {} already in Redis; ids continue after {}",
                stats.unfinished, stats.finished, stats.present, stats.counter
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.message),
    }
}

async fn deadletter(command: DeadletterCommand) -> ExitCode {
    use claudebench_runtime::persist::DeadLetters;
    let config = match claudebench_runtime::config::RuntimeConfig::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.message),
    };
    let redis = match claudebench_runtime::redis::RedisHandle::connect(
        claudebench_runtime::redis::RedisOptions::from_config(&config),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return fail(&e.message),
    };
    let letters = DeadLetters::new(&redis, &claudebench_runtime::keys::Keys::new(&config.key_prefix));
    let all_ids = letters.clone();
    let ids = |ids: Vec<String>, all: bool| async move {
        if all { all_ids.list(usize::MAX).await.map(|l| l.into_iter().map(|d| d.id).collect()) } else { Ok(ids) }
    };
    let result = match command {
        DeadletterCommand::List { limit, json } => letters.list(limit).await.map(|list| {
            for d in &list {
                if json {
                    println!("{}", serde_json::to_string(d).unwrap_or_default());
                } else {
                    println!("{}  {} {}  {}", d.id, d.stream, d.entry, d.reason);
                    for (k, v) in &d.fields {
                        println!("    {k}: {v}");
                    }
                }
            }
            if !json {
                println!("{} dead letter(s)", list.len());
            }
        }),
        DeadletterCommand::Replay { ids: given, all } => match ids(given, all).await {
            Ok(ids) => {
                let mut failed = None;
                for id in ids {
                    match letters.replay(&id).await {
                        Ok(entry) => println!("{id}: replayed as {entry}"),
                        Err(e) => failed = Some(e),
                    }
                }
                failed.map_or(Ok(()), Err)
            }
            Err(e) => Err(e),
        },
        DeadletterCommand::Drop { ids: given, all } => match ids(given, all).await {
            Ok(ids) => {
                let mut missing = Vec::new();
                for id in ids {
                    match letters.remove(&id).await {
                        Ok(true) => println!("{id}: dropped"),
                        Ok(false) => missing.push(id),
                        Err(e) => return fail(&e.message),
                    }
                }
                match missing.is_empty() {
                    true => Ok(()),
                    false => Err(claudebench_generated::error::Error::not_found(format!(
                        "no dead letter {}",
                        missing.join(", ")
                    ))),
                }
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.message),
    }
}

/// `setup claude-code`: no runtime, no server; exit 1 for a file it cannot read or write.
fn setup_claude_code(args: SetupArgs) -> ExitCode {
    use clap::CommandFactory;
    use claudebench::setup::{Options, Scope, Transport};
    let scope = match args.scope {
        SetupScope::Project => Scope::Project,
        SetupScope::User => Scope::User,
    };
    if scope == Scope::User && args.dir.is_some() {
        // Bad usage, like clap's own: exit 2.
        let mut cli = Cli::command();
        cli.build();
        let command = cli.find_subcommand_mut("setup").and_then(|s| s.find_subcommand_mut("claude-code"));
        let message = "--dir applies to --scope project only";
        match command {
            Some(command) => command.error(clap::error::ErrorKind::ArgumentConflict, message).exit(),
            None => cli.error(clap::error::ErrorKind::ArgumentConflict, message).exit(),
        }
    }
    let dir = match args.dir {
        Some(dir) => dir,
        None => match std::env::current_dir() {
            Ok(dir) => dir,
            Err(e) => return fail(&format!("cannot read the current directory: {e}")),
        },
    };
    let options = Options {
        transport: match (args.http, args.command) {
            (true, _) => Transport::Http,
            (_, true) => Transport::Command,
            _ => Transport::Mixed,
        },
        scope,
        url: args.url,
        dir,
        home: std::env::home_dir(),
        token: std::env::var("CLAUDEBENCH_TOKEN").is_ok_and(|t| !t.trim().is_empty()),
        dry_run: args.dry_run,
    };
    let code = claudebench::setup::run(&options, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
    ExitCode::from(code)
}

/// The events as this configuration serves them (test-only events, overrides, rate limits).
fn print_events() -> ExitCode {
    let options = match claudebench::app::options_from_env() {
        Ok(o) => o,
        Err(e) => return fail(&e.message),
    };
    let served = options.runtime.served_events(&EVENTS, &options.event_overrides);
    println!("{:<24} {:<8} {:<14} {:>8}  {:<26} HTTP", "event", "persist", "rate limit", "timeout", "MCP tool");
    for e in &served {
        let rate = e.rate_limit.map(|r| format!("{}/{}ms", r.count, r.window_ms)).unwrap_or_else(|| "off".into());
        let tool = e.mcp.map(|m| m.tool_name).unwrap_or("-");
        println!(
            "{:<24} {:<8} {:<14} {:>6}ms  {:<26} POST {}",
            e.name,
            if e.persist { "yes" } else { "no" },
            rate,
            e.timeout_ms,
            tool,
            e.http_path
        );
    }
    ExitCode::SUCCESS
}
