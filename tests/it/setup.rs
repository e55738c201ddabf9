//! `claudebench setup claude-code`, run as the real binary in temporary directories (HOME is a
//! temporary directory too, so no test can touch a real `~/.claude`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tempfile::TempDir;

/// Claude Code's hook events, from its hooks reference (https://code.claude.com/docs/en/hooks,
/// "Hook lifecycle"), written out here independently of `setup`'s own table.
const REFERENCE_EVENTS: [&str; 31] = [
    "SessionStart",
    "Setup",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "MessageDisplay",
    "SubagentStart",
    "SubagentStop",
    "TaskCreated",
    "TaskCompleted",
    "Stop",
    "StopFailure",
    "TeammateIdle",
    "InstructionsLoaded",
    "ConfigChange",
    "CwdChanged",
    "DirectoryAdded",
    "FileChanged",
    "WorktreeCreate",
    "WorktreeRemove",
    "PreCompact",
    "PostCompact",
    "Elicitation",
    "ElicitationResult",
    "SessionEnd",
];
/// The reference's events whose matcher filters the tool name ("Matcher patterns").
const TOOL_EVENTS: [&str; 5] =
    ["PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest", "PermissionDenied"];
/// Events a configured hook changes even when it answers nothing: `setup` leaves them out.
/// Claude Code runs no HTTP hooks for these (tests/fixtures/claude-code/SOURCES.md): always the bridge.
const COMMAND_ONLY: [&str; 2] = ["SessionStart", "Setup"];
/// The bridge in the default mode: where failing closed matters, and where HTTP hooks do not run.
const BRIDGED_BY_DEFAULT: [&str; 4] = ["SessionStart", "Setup", "PreToolUse", "PermissionRequest"];

const LEFT_OUT: [&str; 2] = ["WorktreeCreate", "MessageDisplay"];
const HOOK_URL: &str = "http://127.0.0.1:3000/hooks/claude-code";

struct Project {
    _root: TempDir,
    dir: PathBuf,
    home: PathBuf,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Project {
    fn new() -> Self {
        let root = TempDir::new().unwrap();
        let (dir, home) = (root.path().join("project"), root.path().join("home"));
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&home).unwrap();
        Project { _root: root, dir, home }
    }

    fn settings_path(&self) -> PathBuf {
        self.dir.join(".claude/settings.json")
    }

    fn mcp_path(&self) -> PathBuf {
        self.dir.join(".mcp.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_claudebench"));
        command
            .args(["setup", "claude-code"])
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env_remove("CLAUDEBENCH_URL")
            .env_remove("CLAUDEBENCH_TOKEN")
            .env_remove("CLAUDEBENCH_CONFIG");
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, 0, "setup {args:?} failed:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    fn write(&self, path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

fn run(mut command: Command) -> Run {
    let out = command.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(value: &Value) -> Vec<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The handlers under `event` that reach this server.
fn ours(settings: &Value, event: &str) -> Vec<Value> {
    let groups = settings["hooks"][event].as_array().cloned().unwrap_or_default();
    groups
        .iter()
        .flat_map(|g| g["hooks"].as_array().cloned().unwrap_or_default())
        .filter(|h| {
            h["url"].as_str().is_some_and(|u| u.ends_with("/hooks/claude-code")) || h["command"] == "claudebench hook"
        })
        .collect()
}

fn tree(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        names.push(path.strip_prefix(dir).unwrap().display().to_string());
        if path.is_dir() {
            names.extend(
                tree(&path).into_iter().map(|n| format!("{}/{n}", path.file_name().unwrap().to_string_lossy())),
            );
        }
    }
    names.sort();
    names
}

#[test]
fn a_fresh_project_gets_every_event_but_the_left_out_ones_and_the_mcp_server() {
    let p = Project::new();
    let run = p.ok(&[]);
    let settings = read_json(&p.settings_path());
    let events = keys(&settings["hooks"]);
    let expected: Vec<_> = REFERENCE_EVENTS.iter().filter(|e| !LEFT_OUT.contains(e)).map(|e| e.to_string()).collect();
    assert_eq!(events, expected);
    for event in &events {
        let handlers = ours(&settings, event);
        assert_eq!(handlers.len(), 1, "{event}");
        let via_bridge = BRIDGED_BY_DEFAULT.contains(&event.as_str());
        let expected = if via_bridge {
            json!({"type": "command", "command": "claudebench hook", "timeout": 10})
        } else {
            json!({"type": "http", "url": HOOK_URL, "timeout": 10})
        };
        assert_eq!(handlers[0], expected, "{event}");
    }
    assert_eq!(
        read_json(&p.mcp_path()),
        json!({"mcpServers": {"claudebench": {"type": "http", "url": "http://127.0.0.1:3000/mcp"}}})
    );
    assert!(run.stdout.contains(&format!("{} (hooks): created", p.settings_path().display())), "{}", run.stdout);
    assert!(run.stdout.contains("+++ ") && run.stdout.contains("+    \"PreToolUse\": ["), "{}", run.stdout);
    for left_out in LEFT_OUT {
        assert!(run.stdout.contains(&format!("Left out: {left_out}: ")), "{}", run.stdout);
    }
    assert!(run.stdout.contains("replaces git's own worktree creation"), "{}", run.stdout);
}

#[test]
fn existing_settings_and_servers_are_kept_in_meaning_and_order() {
    let p = Project::new();
    let settings = json!({
        "$schema": "https://json.schemastore.org/claude-code-settings.json",
        "permissions": {"allow": ["Bash(npm run lint)", "Read(~/.zshrc)"], "deny": ["Read(./.env)"]},
        "env": {"Z_LAST": "1", "A_FIRST": "2"},
        "hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "say done", "async": true}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh", "timeout": 3}]}],
            "FutureEvent": [{"hooks": [{"type": "prompt", "prompt": "?"}]}],
        },
        "model": "opus",
        "numbers": [1, 2.5, -3, 1e100, 18446744073709551615u64],
        "unicode": "é ☃ \u{0000} \"quoted\"",
    });
    let servers = json!({
        "mcpServers": {
            "zeta": {"command": "npx", "args": ["-y", "zeta"], "env": {"K": "${K:-x}"}},
            "alpha": {"type": "http", "url": "https://alpha.example/mcp"},
        },
        "other": true,
    });
    p.write(&p.settings_path(), &serde_json::to_string_pretty(&settings).unwrap());
    p.write(&p.mcp_path(), &serde_json::to_string(&servers).unwrap());
    p.ok(&[]);

    let after = read_json(&p.settings_path());
    assert_eq!(keys(&after), keys(&settings));
    for key in ["$schema", "permissions", "env", "model", "numbers", "unicode"] {
        assert_eq!(after[key], settings[key], "{key}");
    }
    assert_eq!(keys(&after["env"]), ["Z_LAST", "A_FIRST"]);
    let events = keys(&after["hooks"]);
    assert_eq!(events[..3], ["Stop", "PreToolUse", "FutureEvent"], "existing events keep their place");
    assert_eq!(after["hooks"]["FutureEvent"], settings["hooks"]["FutureEvent"]);
    assert_eq!(after["hooks"]["Stop"][0], settings["hooks"]["Stop"][0]);
    assert_eq!(after["hooks"]["PreToolUse"][0], settings["hooks"]["PreToolUse"][0]);
    assert_eq!(after["hooks"]["PreToolUse"].as_array().unwrap().len(), 2, "ours comes after theirs");

    let after = read_json(&p.mcp_path());
    assert_eq!(keys(&after), ["mcpServers", "other"]);
    assert_eq!(keys(&after["mcpServers"]), ["zeta", "alpha", "claudebench"]);
    assert_eq!(after["mcpServers"]["zeta"], servers["mcpServers"]["zeta"]);
    assert_eq!(after["mcpServers"]["alpha"], servers["mcpServers"]["alpha"]);
    assert_eq!(after["other"], true);
}

#[test]
fn a_second_run_changes_nothing_and_rewrites_nothing() {
    use std::os::unix::fs::MetadataExt;
    let p = Project::new();
    p.write(&p.settings_path(), "{\n    \"permissions\": {\n        \"allow\": []\n    }\n}\n");
    p.ok(&[]);
    let before = (fs::read(p.settings_path()).unwrap(), fs::read(p.mcp_path()).unwrap());
    let inodes = (fs::metadata(p.settings_path()).unwrap().ino(), fs::metadata(p.mcp_path()).unwrap().ino());
    assert!(
        String::from_utf8_lossy(&before.0).contains("\n        \"allow\": []"),
        "the file's 4-space indent is kept"
    );
    for args in [&[][..], &["--dry-run"][..]] {
        let run = p.ok(args);
        assert!(
            run.stdout.contains("(hooks): unchanged") && run.stdout.contains("(MCP servers): unchanged"),
            "{}",
            run.stdout
        );
        assert!(!run.stdout.contains("\n+++"), "no diff: {}", run.stdout);
    }
    assert_eq!((fs::read(p.settings_path()).unwrap(), fs::read(p.mcp_path()).unwrap()), before);
    let after = (fs::metadata(p.settings_path()).unwrap().ino(), fs::metadata(p.mcp_path()).unwrap().ino());
    assert_eq!(after, inodes, "an unchanged file is not replaced");
}

#[test]
fn switching_between_http_and_command_swaps_every_entry_without_duplicates() {
    let p = Project::new();
    let theirs = json!({"type": "command", "command": "./audit.sh"});
    p.write(
        &p.settings_path(),
        &json!({"hooks": {"PostToolUse": [{"matcher": "*", "hooks": [theirs.clone()]}]}}).to_string(),
    );
    for (args, bridge_everywhere) in
        [(&["--http"][..], Some(false)), (&["--command"], Some(true)), (&[], None), (&["--command"], Some(true))]
    {
        p.ok(args);
        let settings = read_json(&p.settings_path());
        for event in keys(&settings["hooks"]) {
            let handlers = ours(&settings, &event);
            assert_eq!(handlers.len(), 1, "{args:?} {event}: {handlers:?}");
            let bridge = COMMAND_ONLY.contains(&event.as_str())
                || bridge_everywhere.unwrap_or(BRIDGED_BY_DEFAULT.contains(&event.as_str()));
            assert_eq!(handlers[0]["type"], if bridge { "command" } else { "http" }, "{args:?} {event}");
        }
        assert_eq!(settings["hooks"]["PostToolUse"][0]["hooks"], json!([theirs]), "{args:?}");
        assert_eq!(settings["hooks"]["PostToolUse"].as_array().unwrap().len(), 2, "{args:?}");
    }
}

#[test]
fn the_hooks_of_the_old_readme_are_taken_over_not_duplicated() {
    let p = Project::new();
    let old = json!({"type": "command", "command": "claudebench hook", "timeout": 10});
    let snippet = json!({"hooks": {
        "PreToolUse": [{"matcher": "*", "hooks": [old.clone()]}],
        "PostToolUse": [{"matcher": "*", "hooks": [old.clone()]}],
        "UserPromptSubmit": [{"hooks": [old.clone()]}],
        "Stop": [{"hooks": [old.clone()]}],
        "Notification": [{"hooks": [old.clone()]}],
    }});
    p.write(&p.settings_path(), &snippet.to_string());
    p.ok(&["--http"]);
    let settings = read_json(&p.settings_path());
    assert_eq!(
        keys(&settings["hooks"])[..5],
        ["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "Notification"]
    );
    for event in keys(&settings["hooks"]) {
        assert_eq!(settings["hooks"][&event].as_array().unwrap().len(), 1, "{event}");
        assert_eq!(ours(&settings, &event).len(), 1, "{event}");
        let expected = if COMMAND_ONLY.contains(&event.as_str()) { "command" } else { "http" };
        assert_eq!(ours(&settings, &event)[0]["type"], expected, "{event}");
    }
}

#[test]
fn a_dry_run_shows_the_changes_and_writes_nothing() {
    let p = Project::new();
    let run = p.ok(&["--dry-run"]);
    assert_eq!(tree(&p.dir), Vec::<String>::new(), "not even .claude/ is created");
    assert!(
        run.stdout.contains("--- /dev/null") && run.stdout.contains("+      \"url\": \"http://127.0.0.1:3000/mcp\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Dry run: nothing was written."), "{}", run.stdout);

    let text = "{\"model\": \"opus\"}";
    p.write(&p.settings_path(), text);
    let run = p.ok(&["--dry-run", "--http"]);
    assert_eq!(fs::read_to_string(p.settings_path()).unwrap(), text);
    assert!(!p.mcp_path().exists());
    assert!(run.stdout.contains(&format!("{} (hooks): updated", p.settings_path().display())), "{}", run.stdout);
    assert!(run.stdout.contains("-{\"model\": \"opus\"}"), "{}", run.stdout);
}

#[test]
fn invalid_json_is_refused_with_its_position_and_nothing_is_written() {
    let p = Project::new();
    let text = "{\n  \"permissions\": {\"allow\": [\"Bash(ls)\",]}\n}\n";
    p.write(&p.settings_path(), text);
    let run = p.run(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let place = format!("{}:2:", p.settings_path().display());
    assert!(run.stderr.contains(&place) && run.stderr.contains("not valid JSON"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(p.settings_path()).unwrap(), text);
    assert!(!p.mcp_path().exists(), "the other file is not written either");

    for text in ["", "\u{feff}{}", "  \n"] {
        p.write(&p.settings_path(), text);
        p.ok(&["--dry-run"]);
    }
    fs::write(p.settings_path(), b"{\"a\": \"\xff\"}").unwrap();
    let run = p.run(&[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(":1:8: the file is not UTF-8 text"), "{}", run.stderr);
}

#[test]
fn hooks_of_the_wrong_shape_are_refused_and_left_untouched() {
    let p = Project::new();
    for (text, place, path) in [
        ("{\"hooks\": [\"PreToolUse\"]}", ":1:11:", "`hooks`"),
        ("{\"hooks\": {\n  \"Stop\": {\"hooks\": []}\n}}", ":2:11:", "`hooks.Stop`"),
        ("{\"hooks\": {\"Stop\": [{\"hooks\": \"claudebench hook\"}]}}", ":1:", "`hooks.Stop[0].hooks`"),
        ("[1, 2]", ":1:1:", "`the top level`"),
        ("\"hooks\"", ":1:", "`the top level`"),
    ] {
        p.write(&p.settings_path(), text);
        let run = p.run(&[]);
        assert_eq!(run.code, 1, "{text}: {}", run.stderr);
        assert!(run.stderr.contains(place) && run.stderr.contains(path), "{text}: {}", run.stderr);
        assert_eq!(fs::read_to_string(p.settings_path()).unwrap(), text);
        assert!(!p.mcp_path().exists());
    }
    fs::remove_file(p.settings_path()).unwrap();
    let servers = "{\"mcpServers\": [{\"claudebench\": {}}]}";
    p.write(&p.mcp_path(), servers);
    let run = p.run(&[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(".mcp.json:1:") && run.stderr.contains("`mcpServers`"), "{}", run.stderr);
    assert!(!p.settings_path().exists(), "a bad MCP file stops the settings too");
    assert_eq!(fs::read_to_string(p.mcp_path()).unwrap(), servers);
}

/// Whether this process runs as root (who may write into a read-only directory).
fn privileged(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = dir.join("probe");
    fs::write(&probe, "").unwrap();
    let uid = fs::metadata(&probe).unwrap().uid();
    fs::remove_file(probe).unwrap();
    uid == 0
}

#[test]
fn a_read_only_directory_fails_with_a_clear_message_and_leaves_no_trace() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    let mode = |path: &Path, mode| fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    p.write(&p.settings_path(), "{\"model\": \"opus\"}");
    let claude_dir = p.dir.join(".claude");
    mode(p._root.path(), 0o755);
    mode(&claude_dir, 0o555);
    let mut command = p.command(&[]);
    if privileged(&p.dir) {
        // Root writes anywhere: run setup as `nobody`, for whom the directory is read-only.
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: running as root without setpriv to drop privileges");
            mode(&claude_dir, 0o755);
            return;
        }
        let mut dropped = Command::new("setpriv");
        dropped.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(command.get_program());
        dropped.args(command.get_args()).current_dir(&p.dir).env("HOME", &p.home).env_remove("CLAUDEBENCH_TOKEN");
        command = dropped;
    }
    let run = run(command);
    mode(&claude_dir, 0o755);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let message = format!("error: cannot write {}: Permission denied", p.settings_path().display());
    assert!(run.stderr.contains(&message), "{}", run.stderr);
    assert_eq!(fs::read_to_string(p.settings_path()).unwrap(), "{\"model\": \"opus\"}");
    assert_eq!(tree(&claude_dir), ["settings.json"], "no temporary file is left behind");
    assert!(!p.mcp_path().exists());
}

#[test]
fn a_file_where_a_directory_belongs_is_an_io_error() {
    let p = Project::new();
    fs::write(p.dir.join(".claude"), "not a directory").unwrap();
    let run = p.run(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("cannot read {}", p.settings_path().display())), "{}", run.stderr);
    assert!(!p.mcp_path().exists());
}

#[test]
fn permissions_and_symlinks_of_existing_files_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    p.write(&p.settings_path(), "{}");
    fs::set_permissions(p.settings_path(), fs::Permissions::from_mode(0o600)).unwrap();
    let real = p.dir.join("shared-mcp.json");
    p.write(&real, "{\"mcpServers\": {}}");
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("shared-mcp.json", p.mcp_path()).unwrap();
    p.ok(&[]);
    assert_eq!(fs::metadata(p.settings_path()).unwrap().permissions().mode() & 0o7777, 0o600);
    assert!(fs::symlink_metadata(p.mcp_path()).unwrap().file_type().is_symlink(), "the link stays a link");
    assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o7777, 0o640);
    assert!(read_json(&real)["mcpServers"]["claudebench"].is_object(), "the file it points to is updated");

    fs::remove_file(&real).unwrap();
    let run = p.run(&[]);
    assert_eq!(run.code, 1, "a dangling link is not replaced by a file: {}", run.stderr);
    assert!(run.stderr.contains(&format!("cannot follow the symlink {}", p.mcp_path().display())), "{}", run.stderr);
    assert!(fs::symlink_metadata(p.mcp_path()).unwrap().file_type().is_symlink());
}

#[test]
fn user_scope_writes_under_home_and_keeps_the_rest_of_claude_json() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    let state = json!({
        "numStartups": 12,
        "projects": {"/src/app": {"mcpServers": {"local": {"command": "x"}}, "allowedTools": []}},
        "mcpServers": {"mine": {"type": "stdio", "command": "mine"}},
        "oauthAccount": {"emailAddress": "a@b.c"},
    });
    let claude_json = p.home.join(".claude.json");
    p.write(&claude_json, &serde_json::to_string_pretty(&state).unwrap());
    fs::set_permissions(&claude_json, fs::Permissions::from_mode(0o600)).unwrap();
    let run = p.ok(&["--scope", "user", "--command"]);
    assert!(run.stdout.contains("(user MCP servers): updated"), "{}", run.stdout);
    let settings = read_json(&p.home.join(".claude/settings.json"));
    assert_eq!(ours(&settings, "SessionStart")[0]["command"], "claudebench hook");
    let after = read_json(&claude_json);
    assert_eq!(keys(&after), keys(&state));
    for key in ["numStartups", "projects", "oauthAccount"] {
        assert_eq!(after[key], state[key], "{key}");
    }
    assert_eq!(keys(&after["mcpServers"]), ["mine", "claudebench"]);
    assert_eq!(fs::metadata(&claude_json).unwrap().permissions().mode() & 0o7777, 0o600);
    assert_eq!(tree(&p.dir), Vec::<String>::new(), "the project is not touched");
}

#[test]
fn another_server_url_reaches_every_entry_and_switching_back_leaves_no_trace() {
    let p = Project::new();
    p.ok(&["--url", "http://10.0.0.7:4000/"]);
    let settings = read_json(&p.settings_path());
    assert_eq!(ours_any(&settings, "PreToolUse")["command"], "claudebench hook --url http://10.0.0.7:4000");
    assert_eq!(ours(&settings, "Stop")[0]["url"], "http://10.0.0.7:4000/hooks/claude-code");
    assert_eq!(read_json(&p.mcp_path())["mcpServers"]["claudebench"]["url"], "http://10.0.0.7:4000/mcp");

    let mut command = p.command(&[]);
    command.env("CLAUDEBENCH_URL", "https://cb.example");
    let run = run(command);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let settings = read_json(&p.settings_path());
    assert_eq!(ours_any(&settings, "PreToolUse")["command"], "claudebench hook --url https://cb.example");

    p.ok(&[]);
    let text = fs::read_to_string(p.settings_path()).unwrap() + &fs::read_to_string(p.mcp_path()).unwrap();
    assert!(!text.contains("10.0.0.7") && !text.contains("cb.example"), "{text}");
    let settings = read_json(&p.settings_path());
    for event in keys(&settings["hooks"]) {
        assert_eq!(settings["hooks"][&event].as_array().unwrap().len(), 1, "{event}");
    }
}

/// The one handler of `event` (in a file with no other hooks).
fn ours_any(settings: &Value, event: &str) -> Value {
    let groups = settings["hooks"][event].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    groups[0]["hooks"][0].clone()
}

#[test]
fn a_token_is_named_by_its_variable_and_never_written() {
    let p = Project::new();
    let mut command = p.command(&["--http"]);
    command.env("CLAUDEBENCH_TOKEN", "s3cret-value");
    let run = run(command);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = fs::read_to_string(p.settings_path()).unwrap() + &fs::read_to_string(p.mcp_path()).unwrap();
    assert!(!text.contains("s3cret-value") && !run.stdout.contains("s3cret-value"));
    let settings = read_json(&p.settings_path());
    let handler = &ours(&settings, "Stop")[0];
    assert_eq!(handler["headers"], json!({"Authorization": "Bearer $CLAUDEBENCH_TOKEN"}));
    assert_eq!(handler["allowedEnvVars"], json!(["CLAUDEBENCH_TOKEN"]));
    let server = &read_json(&p.mcp_path())["mcpServers"]["claudebench"];
    assert_eq!(server["headers"], json!({"Authorization": "Bearer ${CLAUDEBENCH_TOKEN}"}));
}

/// Every produced file has the shape Claude Code's references document: hook events among the
/// reference's, `"*"` matchers on the tool events only, handlers with the documented fields of
/// their type, header variables listed in `allowedEnvVars`; an MCP entry of type http.
#[test]
fn the_produced_settings_have_the_documented_shape_in_every_mode() {
    for (args, token) in [(&[][..], false), (&["--http"], true), (&["--command"], false), (&["--command"], true)] {
        let p = Project::new();
        let mut command = p.command(args);
        if token {
            command.env("CLAUDEBENCH_TOKEN", "t");
        }
        assert_eq!(run(command).code, 0);
        let settings = read_json(&p.settings_path());
        assert_eq!(keys(&settings), ["hooks"]);
        for (event, groups) in settings["hooks"].as_object().unwrap() {
            assert!(REFERENCE_EVENTS.contains(&event.as_str()) && !LEFT_OUT.contains(&event.as_str()), "{event}");
            for group in groups.as_array().unwrap() {
                let group = group.as_object().unwrap();
                if TOOL_EVENTS.contains(&event.as_str()) {
                    assert_eq!(group.keys().collect::<Vec<_>>(), ["matcher", "hooks"], "{event}");
                    assert_eq!(group["matcher"], "*");
                } else {
                    assert_eq!(group.keys().collect::<Vec<_>>(), ["hooks"], "{event}");
                }
                for handler in group["hooks"].as_array().unwrap() {
                    assert_documented_handler(handler);
                }
            }
        }
        let server = read_json(&p.mcp_path());
        let entry = server["mcpServers"]["claudebench"].as_object().unwrap();
        assert_eq!(entry["type"], "http");
        assert!(entry["url"].as_str().unwrap().starts_with("http://"));
        for key in entry.keys() {
            assert!(["type", "url", "headers"].contains(&key.as_str()), "{key}");
        }
    }
}

fn assert_documented_handler(handler: &Value) {
    let h = handler.as_object().unwrap();
    assert!(h["timeout"].as_u64().is_some_and(|t| t > 0), "{handler}");
    match h["type"].as_str().unwrap() {
        "command" => {
            assert!(h.keys().all(|k| ["type", "command", "timeout"].contains(&k.as_str())), "{handler}");
            assert!(h["command"].as_str().unwrap().starts_with("claudebench hook"));
        }
        "http" => {
            assert!(
                h.keys().all(|k| ["type", "url", "timeout", "headers", "allowedEnvVars"].contains(&k.as_str())),
                "{handler}"
            );
            assert!(h["url"].as_str().unwrap().starts_with("http"));
            let allowed: Vec<_> = h.get("allowedEnvVars").and_then(Value::as_array).cloned().unwrap_or_default();
            for value in h.get("headers").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
                let value = value.as_str().unwrap();
                let var = value.split('$').nth(1).unwrap().trim_matches(['{', '}']);
                assert!(allowed.contains(&json!(var)), "{var} must be in allowedEnvVars: {handler}");
            }
        }
        other => panic!("setup writes command and http hooks only, not {other}"),
    }
}

#[test]
fn bad_usage_exits_2_and_writes_nothing() {
    let p = Project::new();
    for args in [
        &["--http", "--command"][..],
        &["--scope", "user", "--dir", "."],
        &["--scope", "team"],
        &["--url", "ftp://h"],
        &["--url", "http://h/?x=1"],
        &["--dry"],
    ] {
        let run = p.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
    }
    let run = p.run(&["--dir", "does-not-exist"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("does-not-exist is not a directory"), "{}", run.stderr);
    assert_eq!(tree(&p.dir), Vec::<String>::new());
    assert_eq!(tree(&p.home), Vec::<String>::new());
}

#[test]
fn setup_warns_when_the_bridge_it_configures_is_not_on_path() {
    let p = Project::new();
    let bin = p.home.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let warned = |path: &Path, args: &[&str]| {
        let mut command = p.command(&[&["--dry-run"][..], args].concat());
        command.env("PATH", path);
        let run = run(command);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stderr.contains("warning: `claudebench` is not on PATH")
    };
    assert!(warned(&bin, &[]));
    assert!(warned(&bin, &["--command"]));
    // Even with --http, SessionStart and Setup run the bridge: Claude Code runs no HTTP hooks there.
    assert!(warned(&bin, &["--http"]));
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_claudebench"), bin.join("claudebench")).unwrap();
    assert!(!warned(&bin, &[]));
}

/// A settings file that is a FIFO or a link to a device (`/dev/zero`) is refused at once: reading
/// one blocks forever or never ends, and setup must neither hang nor eat memory.
#[test]
fn a_settings_file_that_is_not_a_regular_file_is_refused_without_hanging() {
    use std::time::{Duration, Instant};
    for kind in ["fifo", "device"] {
        let p = Project::new();
        fs::create_dir_all(p.settings_path().parent().unwrap()).unwrap();
        match kind {
            "fifo" => {
                let made = Command::new("mkfifo").arg(p.settings_path()).status().unwrap();
                assert!(made.success());
            }
            _ => std::os::unix::fs::symlink("/dev/zero", p.settings_path()).unwrap(),
        }
        let mut child =
            p.command(&[]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let status = status.unwrap_or_else(|| panic!("{kind}: setup still running after 20 s"));
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(1), "{kind}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{kind}: {stderr}");
        assert!(!p.mcp_path().exists(), "{kind}: nothing is written");
    }
}
