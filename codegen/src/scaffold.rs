//! `claudebench-codegen scaffold` (also `claudebench scaffold`): write a stub handler file for every spec event that has none.
//!
//! Layout: `<handlers_dir>/<domain>/<action>.rs`, declared by `<handlers_dir>/<domain>/mod.rs`,
//! which `<handlers_dir>/mod.rs` declares; the caller passes the folder (the `claudebench` crate's
//! is `src/handlers`, the CLI's default), and stubs name its module `crate::handlers`. Existing
//! files are never overwritten; a missing `mod` line is appended to an existing `mod.rs`, nothing
//! else in it is touched.
//!
//! It lives in the generator, not in the server binary, because the server cannot build while an
//! event has no handler: that is exactly when scaffolding is needed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::{Event, Spec};

/// What a scaffold run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Stub files written.
    pub created: Vec<PathBuf>,
    /// `mod.rs` files created or given a new `mod` line.
    pub updated: Vec<PathBuf>,
    /// Handler files that already existed (left untouched).
    pub kept: usize,
}

/// Write missing stubs under `handlers_dir` (normally `src/handlers`).
pub fn scaffold(spec: &Spec, handlers_dir: &Path) -> io::Result<Report> {
    let mut report = Report::default();
    fs::create_dir_all(handlers_dir)?;
    let root_header = format!(
        "//! Handler implementations, one file per event: `{}/<domain>/<action>.rs`.\n",
        handlers_dir.display().to_string().trim_end_matches('/')
    );
    for domain in spec.domains() {
        let dir = handlers_dir.join(domain);
        fs::create_dir_all(&dir)?;
        if ensure_mod_line(&handlers_dir.join("mod.rs"), domain, &root_header)? {
            report.updated.push(handlers_dir.join("mod.rs"));
        }
        for event in spec.events.iter().filter(|e| e.name.domain == domain) {
            let file = dir.join(format!("{}.rs", event.name.action));
            if file.exists() {
                report.kept += 1;
            } else {
                fs::write(&file, stub(event))?;
                report.created.push(file);
            }
            let header = format!("//! Handlers of the `{domain}` domain, one file per event.\n");
            if ensure_mod_line(&dir.join("mod.rs"), &event.name.action, &header)?
                && !report.updated.contains(&dir.join("mod.rs"))
            {
                report.updated.push(dir.join("mod.rs"));
            }
        }
    }
    Ok(report)
}

/// Make sure `mod.rs` declares `mod <name>;`, creating the file with `header` when missing.
/// Returns whether the file changed.
fn ensure_mod_line(mod_rs: &Path, name: &str, header: &str) -> io::Result<bool> {
    let line = format!("mod {};", rust_ident(name));
    let text = match fs::read_to_string(mod_rs) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => header.to_string(),
        Err(e) => return Err(e),
    };
    if text.lines().any(|l| l.trim() == line || l.trim() == format!("pub {line}")) {
        return Ok(false);
    }
    let mut text = text;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    fs::write(mod_rs, text)?;
    Ok(true)
}

/// `type` → `r#type`: action names are lowercase identifiers but may be keywords.
fn rust_ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
        "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
        "static", "struct", "trait", "true", "try", "type", "unsafe", "use", "where", "while", "yield",
    ];
    if KEYWORDS.contains(&name) { format!("r#{name}") } else { name.to_string() }
}

/// The stub for one event: the impl block with its signature, whose body is a `compile_error!`.
/// The server therefore cannot be built, and so cannot ship, until someone writes the handler;
/// the error points at the very line to replace.
fn stub(event: &Event) -> String {
    let pascal = event.name.pascal();
    let summary = event.description.lines().next().unwrap_or("").trim();
    format!(
        r#"//! `{name}`: {summary}
//!
//! Scaffolded by `claudebench-codegen scaffold`: the build stops at the line below until it is
//! replaced by the event's behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::{pascal};
use claudebench_generated::types::{{{pascal}Input, {pascal}Output}};

use crate::handlers::{{Ctx, Handlers}};

impl {pascal}<Ctx> for Handlers {{
    async fn handle(&self, ctx: &Ctx, input: {pascal}Input) -> Result<{pascal}Output, Error> {{
        compile_error!("write the `{name}` handler: replace this line with code that turns `input` into a `{pascal}Output`")
    }}
}}
"#,
        name = event.name.full,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Spec {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
        crate::load_dir(&dir, "spec").map(|(s, _)| s).unwrap_or_else(|d| panic!("{d}"))
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cb-scaffold-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn scaffold_writes_a_stub_and_mod_lines_for_every_event() {
        let dir = temp_dir("fresh");
        let report = scaffold(&fixture(), &dir).unwrap();
        assert_eq!(report.created.len(), 4);
        let stub = fs::read_to_string(dir.join("note/create.rs")).unwrap();
        assert!(stub.contains("impl NoteCreate<Ctx> for Handlers"), "{stub}");
        assert!(stub.contains("compile_error!(\"write the `note.create` handler"), "{stub}");
        syn::parse_file(&stub).unwrap_or_else(|e| panic!("the stub is not Rust: {e}\n{stub}"));
        let domain_mod = fs::read_to_string(dir.join("note/mod.rs")).unwrap();
        for action in ["attach", "create", "finish", "search"] {
            assert!(domain_mod.contains(&format!("mod {action};")), "{domain_mod}");
        }
        assert!(fs::read_to_string(dir.join("mod.rs")).unwrap().contains("mod note;"));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Builds a scaffolded stub with `rustc` against stand-ins for the generated crate and the
    /// handler module (the trait has the shape `emit/rust/handlers.rs` emits): the build fails at
    /// the stub's line, naming the event and nothing else, and passes once that line is replaced.
    #[test]
    fn a_stub_stops_the_build_until_its_body_is_written() {
        let dir = temp_dir("build");
        scaffold(&fixture(), &dir).unwrap();
        let stub_path = dir.join("note/create.rs");
        let root = dir.join("lib.rs");
        let stand_ins = r#"
extern crate self as claudebench_generated;
pub mod error { pub struct Error; }
pub mod types { pub struct NoteCreateInput; pub struct NoteCreateOutput; }
pub mod handlers {
    pub struct Ctx;
    pub struct Handlers;
    pub trait NoteCreate<C: ?Sized + Sync>: Send + Sync {
        fn handle(&self, ctx: &C, input: crate::types::NoteCreateInput)
            -> impl Future<Output = Result<crate::types::NoteCreateOutput, crate::error::Error>> + Send;
    }
"#;
        fs::write(&root, format!("{stand_ins}    #[path = {:?}]\n    mod create;\n}}\n", stub_path)).unwrap();
        let build = || {
            std::process::Command::new("rustc")
                .args(["--edition", "2024", "--crate-type", "lib", "--crate-name", "stand_in", "--emit", "metadata"])
                .arg("--out-dir")
                .arg(&dir)
                .arg(&root)
                .output()
                .expect("rustc runs")
        };

        let refused = build();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "a scaffolded stub must not build");
        assert!(stderr.contains("error: write the `note.create` handler"), "{stderr}");
        assert!(stderr.contains("note/create.rs:"), "the error points at the stub: {stderr}");
        assert!(!stderr.contains("error["), "no other error than the stub's own: {stderr}");

        let text = fs::read_to_string(&stub_path).unwrap();
        let line = text.lines().find(|l| l.contains("compile_error!")).unwrap();
        let written = text.replace(line, "        let _ = (ctx, input);\n        Ok(NoteCreateOutput)");
        fs::write(&stub_path, written).unwrap();
        let built = build();
        assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scaffold_never_overwrites_an_existing_handler() {
        let dir = temp_dir("keep");
        fs::create_dir_all(dir.join("note")).unwrap();
        fs::write(dir.join("note/create.rs"), "// my real handler\n").unwrap();
        fs::write(dir.join("mod.rs"), "//! mine\npub struct Handlers;\nmod note;\n").unwrap();
        let report = scaffold(&fixture(), &dir).unwrap();
        assert_eq!(report.kept, 1);
        assert_eq!(fs::read_to_string(dir.join("note/create.rs")).unwrap(), "// my real handler\n");
        assert_eq!(fs::read_to_string(dir.join("mod.rs")).unwrap(), "//! mine\npub struct Handlers;\nmod note;\n");
        let again = scaffold(&fixture(), &dir).unwrap();
        assert!(again.created.is_empty() && again.updated.is_empty(), "{again:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keyword_actions_get_raw_module_names() {
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("create"), "create");
    }
}
