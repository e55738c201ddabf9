//! `claudebench setup claude-code`: write or merge Claude Code's hook settings and MCP server
//! configuration so that Claude Code talks to this server.
//!
//! The rules that make it safe to run on a user's real files, again and again:
//! - an existing file is read first, and refused (with line and column) unless it is JSON of the
//!   shape Claude Code reads; nothing is written unless every file could be read;
//! - only the entries `setup` owns are replaced — the hook handlers that reach this server
//!   ([`hooks::is_owned`]) and the MCP server named `claudebench` — and everything else stays as
//!   it was, in its order; an unchanged file is not rewritten;
//! - a file is replaced atomically (same directory, then rename), keeping its permissions,
//!   indentation and line ends; a symlink stays a symlink (the file it points to is replaced).

mod events;
mod hooks;
mod json_file;
mod mcp;
mod shape;

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use events::{CLAUDE_CODE_HOOK_EVENTS, DefaultVia, HookEvent};
pub use hooks::{HTTP_HOOK_PATH, is_owned};
use json_file::JsonFile;
use serde_json::Value;
use shape::Shape;

/// How the hooks reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Each event's [`DefaultVia`]: the bridge where failing closed matters, HTTP elsewhere.
    Mixed,
    /// Every hook is an HTTP hook (fails open when the server is down).
    Http,
    /// Every hook runs the bridge, `claudebench hook`.
    Command,
}

impl Transport {
    /// Whether `event`'s hook runs the bridge (else it is an HTTP hook).
    fn bridges(self, event: &HookEvent) -> bool {
        if event.command_only {
            return true;
        }
        match self {
            Transport::Command => true,
            Transport::Http => false,
            Transport::Mixed => event.default_via == DefaultVia::Bridge,
        }
    }
}

/// Which of Claude Code's configuration files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `<dir>/.claude/settings.json` and `<dir>/.mcp.json`: this project, shareable.
    Project,
    /// `~/.claude/settings.json` and `mcpServers` of `~/.claude.json`: every project of the user.
    User,
}

/// What to set up, and where.
#[derive(Debug, Clone)]
pub struct Options {
    pub transport: Transport,
    pub scope: Scope,
    /// The server's base URL, as [`parse_url`] answers it.
    pub url: String,
    /// The project directory (for [`Scope::Project`]).
    pub dir: PathBuf,
    /// The home directory (for [`Scope::User`]).
    pub home: Option<PathBuf>,
    /// Send the bearer token from `CLAUDEBENCH_TOKEN` (HTTP hook and MCP headers).
    pub token: bool,
    /// Show the changes, write nothing.
    pub dry_run: bool,
}

/// Why `setup` stopped. Nothing is written after any of these but a failed write, which says
/// which files were already written.
#[derive(Debug)]
pub enum SetupError {
    /// An existing file that is not valid JSON, or not of the shape Claude Code reads.
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    Io {
        path: PathBuf,
        doing: &'static str,
        error: io::Error,
    },
    NoHome,
    NoProject(PathBuf),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SetupError::Invalid { path, line, column, message } => write!(
                f,
                "{}:{line}:{column}: {message}; nothing was written (fix or move the file, then run setup again)",
                path.display()
            ),
            SetupError::Io { path, doing, error } => write!(f, "cannot {doing} {}: {error}", path.display()),
            SetupError::NoHome => {
                f.write_str("cannot find the home directory (is HOME set?); --scope user writes under it")
            }
            SetupError::NoProject(dir) => write!(
                f,
                "{} is not a directory: --dir names the project whose .claude/settings.json and .mcp.json are written",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for SetupError {}

/// A server URL for `--url`: http(s) with a host and no query or fragment; answered without a
/// trailing `/`, so `<url>/mcp` and `<url>/hooks/claude-code` are the routes.
pub fn parse_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("expected an http:// or https:// URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("expected no query or fragment: the routes are <url>/mcp and <url>/hooks/claude-code".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// One file `setup` would write.
#[derive(Debug)]
struct Change {
    /// What the file is to Claude Code, for the report.
    role: &'static str,
    file: JsonFile,
    /// The new text, `None` when the file already says everything (it is then not rewritten).
    after: Option<String>,
}

/// Every change `setup` would make, computed before anything is written.
#[derive(Debug)]
pub struct Plan {
    changes: Vec<Change>,
    options: Options,
}

/// Read both files and work out their new content. Fails, writing nothing, when a file cannot
/// be read or is not what Claude Code reads.
pub fn plan(options: &Options) -> Result<Plan, SetupError> {
    let (settings_path, mcp_path, mcp_role) = match options.scope {
        Scope::Project => {
            if !options.dir.is_dir() {
                return Err(SetupError::NoProject(options.dir.clone()));
            }
            let dir = std::path::absolute(&options.dir).unwrap_or_else(|_| options.dir.clone());
            (dir.join(".claude").join("settings.json"), dir.join(".mcp.json"), "MCP servers")
        }
        Scope::User => {
            let home = options.home.clone().filter(|h| !h.as_os_str().is_empty()).ok_or(SetupError::NoHome)?;
            (home.join(".claude").join("settings.json"), home.join(".claude.json"), "user MCP servers")
        }
    };
    let settings = JsonFile::read(&settings_path, Shape::Settings)?;
    let servers = JsonFile::read(&mcp_path, Shape::McpServers)?;

    let mut new_settings = settings.root.clone();
    let wanted = events::configured().map(|event| (event.name, hooks::group(event, handler(event, options)))).collect();
    hooks::merge(&mut new_settings, wanted);
    let mut new_servers = servers.root.clone();
    mcp::merge(&mut new_servers, mcp::entry(&options.url, options.token));

    let change = |role, file: JsonFile, root| {
        let after = (file.text.is_none() || file.root != root).then(|| file.render(&root));
        Change { role, file, after }
    };
    Ok(Plan {
        changes: vec![change("hooks", settings, new_settings), change(mcp_role, servers, new_servers)],
        options: options.clone(),
    })
}

fn handler(event: &HookEvent, options: &Options) -> Value {
    if options.transport.bridges(event) {
        hooks::command_handler(&options.url)
    } else {
        hooks::http_handler(&options.url, options.token)
    }
}

impl Plan {
    /// Per file, what changes as a unified diff (or that it is unchanged), then what the hooks
    /// do and which events are left out, and why.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let path = change.file.path.display().to_string();
            let Some(after) = &change.after else {
                out += &format!("{path} ({}): unchanged\n", change.role);
                continue;
            };
            let (verb, before, old_name) = match &change.file.text {
                Some(text) => ("updated", text.as_str(), path.clone()),
                None => ("created", "", "/dev/null".to_string()),
            };
            out += &format!("{path} ({}): {verb}\n", change.role);
            let diff = similar::TextDiff::from_lines(before, after.as_str());
            out += &diff.unified_diff().context_radius(3).header(&old_name, &path).to_string();
        }
        out += "\n";
        out += &self.summary();
        out
    }

    fn summary(&self) -> String {
        let o = &self.options;
        let (bridged, http): (Vec<_>, Vec<_>) = events::configured().partition(|e| o.transport.bridges(e));
        let names = |events: &[&HookEvent]| match events.split_last() {
            Some((last, [])) => last.name.to_string(),
            Some((last, rest)) => {
                format!("{} and {}", rest.iter().map(|e| e.name).collect::<Vec<_>>().join(", "), last.name)
            }
            None => String::new(),
        };
        let mut out = String::new();
        let bridge_command = hooks::command_handler(&o.url)["command"].as_str().unwrap_or_default().to_string();
        match (bridged.len(), http.len()) {
            (_, 0) => out += &format!("Hooks: all {} events run `{bridge_command}`.\n", bridged.len()),
            (0, _) => {
                out += &format!(
                    "Hooks: all {} events post to {}{HTTP_HOOK_PATH}; while the server is down they let \
                     everything through.\n",
                    http.len(),
                    o.url
                )
            }
            _ => {
                out += &format!(
                    "Hooks: {} run `{bridge_command}`, which can fail closed when the server is down;\n       \
                     the {} other events post to {}{HTTP_HOOK_PATH} and let everything through while it is down.\n",
                    names(&bridged),
                    http.len(),
                    o.url
                )
            }
        }
        out += &format!("MCP: server `{}` at {}/mcp.\n", mcp::SERVER_NAME, o.url);
        if o.token {
            out += &format!(
                "Token: sent from ${} in Claude Code's environment (the files never hold it).\n",
                hooks::TOKEN_VAR
            );
        }
        for (name, reason) in events::left_out_events() {
            out += &format!("Left out: {name}: {reason}.\n");
        }
        out
    }

    /// Whether any hook runs the bridge (which then has to be on Claude Code's PATH).
    pub fn runs_bridge(&self) -> bool {
        events::configured().any(|e| self.options.transport.bridges(e))
    }

    /// Write the changed files; answers how many. A failed write says which files were written
    /// before it.
    pub fn write(&self) -> Result<usize, SetupError> {
        let mut written: Vec<&Path> = Vec::new();
        for change in &self.changes {
            let Some(after) = &change.after else { continue };
            if let Err(error) = change.file.write(after) {
                return Err(match (error, written.is_empty()) {
                    (SetupError::Io { path, doing, error }, false) => {
                        let done = written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
                        SetupError::Io {
                            path,
                            doing,
                            error: io::Error::new(error.kind(), format!("{error}; already written: {done}")),
                        }
                    }
                    (error, _) => error,
                });
            }
            written.push(&change.file.path);
        }
        Ok(written.len())
    }
}

/// The whole command: plan, report on `out`, write unless a dry run; warnings and errors on
/// `err`. Answers the exit code: 0, or 1 for an unreadable file or a failed write.
pub fn run(options: &Options, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    // Output that cannot be shown (a closed pipe) must not stop or break the command.
    let plan = match plan(options) {
        Ok(plan) => plan,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    let _ = write!(out, "{}", plan.report());
    if plan.runs_bridge() && !on_path("claudebench") {
        let _ = writeln!(
            err,
            "warning: `claudebench` is not on PATH. Claude Code runs `claudebench hook` through a shell: until it is \
             on Claude Code's PATH those hooks fail, which Claude Code treats as a non-blocking error (fail-open)."
        );
    }
    if options.dry_run {
        let _ = writeln!(out, "Dry run: nothing was written.");
        return 0;
    }
    match plan.write() {
        Ok(0) => {
            let _ = writeln!(out, "Nothing to write: Claude Code is already set up.");
            0
        }
        Ok(n) => {
            let _ =
                writeln!(out, "Wrote {n} file(s). Claude Code picks up hook changes by itself; restart it for MCP.");
            0
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        let candidate = dir.join(format!("{program}{}", std::env::consts::EXE_SUFFIX));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            candidate.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            candidate.is_file()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalised_and_odd_ones_refused() {
        assert_eq!(parse_url("http://127.0.0.1:3000/").as_deref(), Ok("http://127.0.0.1:3000"));
        assert_eq!(parse_url(" HTTPS://CB.Example/base/ ").as_deref(), Ok("https://cb.example/base"));
        assert_eq!(parse_url(crate::bridge::DEFAULT_URL).as_deref(), Ok(crate::bridge::DEFAULT_URL));
        for bad in ["127.0.0.1:3000", "ftp://h", "http://h/?a=1", "http://h/#x", "file:///tmp", ""] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
