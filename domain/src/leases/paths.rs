//! Where a lease lives: the file's canonical path and its repository.
//!
//! * **Canonical path.** The path is made absolute against the session's working directory and
//!   resolved part by part as the kernel does: `.` and `//` dropped, a symlink followed where it
//!   stands (a dangling one to its target, which a write creates), `..` taken after that (so
//!   `link/..` is the parent of the link's target); past the first part that does not exist it is
//!   only normalised. `./a.rs`, `src/../a.rs` and a link to `a.rs` are one file, and a file about
//!   to be created is named through its real directory.
//! * **Repository.** The nearest directory at or above the file that holds `.git` (a directory,
//!   or a file for worktrees and submodules), so one file has one repository whichever session
//!   names it; a file in no repository belongs to the session's own root (the nearest `.git`
//!   at or above its working directory, else the working directory itself) when it lies inside
//!   it, else to its own directory.
//!
//! This reads the file system of the machine the server runs on, as the hooks' paths are that
//! machine's; paths that do not exist there are only normalised. Every input problem is a
//! `validation` error with its field, never a panic.

use std::path::{Component, Path, PathBuf};

use claudebench_contract::error::Error;
use claudebench_contract::issue::{Issue, IssueCode};

/// The longest path accepted, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// A file as leases name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The canonical absolute path.
    pub path: String,
    /// The repository root the lease belongs to.
    pub root: String,
    /// The path names an existing directory (a `cp` destination, say), not a file to lease.
    pub directory: bool,
}

impl Located {
    /// The path as people read it: relative to the repository when inside it.
    pub fn display(&self) -> String {
        relative_display(&self.path, &self.root)
    }
}

/// `path` relative to `root` when it lies inside it, else `path` itself.
pub fn relative_display(path: &str, root: &str) -> String {
    match Path::new(path).strip_prefix(root) {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.display().to_string(),
        _ => path.to_string(),
    }
}

/// The canonical path and repository of `path`, named by a session working in `cwd`. Blocking
/// (file-system reads): call it off the async workers.
pub fn locate(cwd: &str, path: &str) -> Result<Located, Error> {
    let cwd = checked(cwd, "cwd")?;
    let path = checked_path(path)?;
    if !cwd.is_absolute() {
        return Err(invalid("cwd", "the working directory must be an absolute path"));
    }
    let cwd = resolve(cwd);
    let file = resolve(&cwd.join(path));
    let root = match git_root(file.parent().unwrap_or(&file)) {
        Some(repo) => repo,
        None => {
            let own = session_root(&cwd);
            if file.starts_with(&own) { own } else { file.parent().unwrap_or(&file).to_path_buf() }
        }
    };
    let directory = file.is_dir();
    Ok(Located { path: text(file, "path")?, root: text(root, "path")?, directory })
}

/// The repository of a session working in `cwd`: the nearest directory at or above it holding
/// `.git`, else `cwd` itself (canonical). Blocking.
pub fn repository(cwd: &str) -> Result<String, Error> {
    let cwd = checked(cwd, "cwd")?;
    if !cwd.is_absolute() {
        return Err(invalid("cwd", "the working directory must be an absolute path"));
    }
    text(session_root(&resolve(cwd)), "cwd")
}

/// A short, stable name of a repository root for its keys (FNV-1a, 64 bits, in hex). Two roots
/// sharing a digest would only share a hash slot and counter: leases are keyed by absolute path
/// and carry their root, which listings check.
pub fn digest(root: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in root.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn session_root(cwd: &Path) -> PathBuf {
    git_root(cwd).unwrap_or_else(|| cwd.to_path_buf())
}

/// The nearest directory at or above `dir` holding `.git`.
fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join(".git").symlink_metadata().is_ok()).map(Path::to_path_buf)
}

fn checked<'a>(value: &'a str, field: &str) -> Result<&'a Path, Error> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > MAX_PATH_BYTES {
        return Err(invalid(field, &format!("is {} bytes, over the {MAX_PATH_BYTES} a path may have", value.len())));
    }
    if value.contains('\0') {
        return Err(invalid(field, "must not contain NUL characters"));
    }
    Ok(Path::new(value))
}

fn checked_path(value: &str) -> Result<&Path, Error> {
    checked(value, "path")
}

/// Most symbolic links followed while naming one path (Linux's `MAXSYMLINKS`); past it the rest
/// of the path is taken as written.
const MAX_LINKS: u32 = 40;

/// `path` (absolute) as the kernel resolves it, part by part: a link is followed where it stands,
/// so `link/..` is the parent of the link's target, not the directory holding the link, and a
/// dangling link names its target (which a write creates). Once a part does not exist the rest
/// is only normalised (`.`, `..`, `//`), as nothing there can be a link. Link loops stop after
/// [`MAX_LINKS`].
fn resolve(path: &Path) -> PathBuf {
    let mut links = 0;
    resolve_from(PathBuf::from("/"), path, &mut links).0
}

/// `rest` resolved on top of `out` (which exists and holds no links); also whether every part
/// of the answer exists.
fn resolve_from(mut out: PathBuf, rest: &Path, links: &mut u32) -> (PathBuf, bool) {
    let mut exists = true;
    for part in rest.components() {
        match part {
            Component::Prefix(p) => out = PathBuf::from(p.as_os_str()),
            Component::RootDir => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                if !exists {
                    continue;
                }
                match out.symlink_metadata() {
                    Ok(meta) if meta.file_type().is_symlink() && *links < MAX_LINKS => {
                        *links += 1;
                        let Ok(target) = std::fs::read_link(&out) else { continue };
                        out.pop();
                        let base = if target.is_absolute() { PathBuf::from("/") } else { out.clone() };
                        (out, exists) = resolve_from(base, &target, links);
                    }
                    Ok(_) => {}
                    Err(_) => exists = false,
                }
            }
        }
    }
    (out, exists)
}

fn text(path: PathBuf, field: &str) -> Result<String, Error> {
    path.into_os_string()
        .into_string()
        .map_err(|_| invalid(field, "resolves to a file name that is not valid UTF-8, which leases cannot name"))
}

fn invalid(field: &str, message: &str) -> Error {
    Error::validation(vec![Issue { path: field.to_string(), code: IssueCode::Custom, message: message.to_string() }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_is_lexical_and_stops_at_the_root() {
        assert_eq!(resolve(Path::new("/nonexistent-cb/./b//c/../d")), PathBuf::from("/nonexistent-cb/b/d"));
        assert_eq!(resolve(Path::new("/../../nonexistent-cb")), PathBuf::from("/nonexistent-cb"));
        assert_eq!(resolve(Path::new("/")), PathBuf::from("/"));
    }

    #[test]
    fn odd_inputs_are_validation_errors() {
        for (cwd, path) in [("", "a"), ("/tmp", ""), ("relative", "a"), ("/tmp", "a\0b")] {
            let e = locate(cwd, path).unwrap_err();
            assert_eq!(e.code, claudebench_contract::ErrorCode::Validation, "{cwd:?} {path:?}");
            assert_eq!(e.issues.len(), 1);
        }
        let long = "a".repeat(MAX_PATH_BYTES + 1);
        assert_eq!(locate("/tmp", &long).unwrap_err().issues[0].path, "path");
    }

    #[test]
    fn digests_are_stable_and_short() {
        assert_eq!(digest("/home/dev/project"), digest("/home/dev/project"));
        assert_ne!(digest("/home/dev/project"), digest("/home/dev/project2"));
        assert_eq!(digest("").len(), 16);
    }

    #[test]
    fn paths_display_relative_to_their_root() {
        assert_eq!(relative_display("/r/src/lib.rs", "/r"), "src/lib.rs");
        assert_eq!(relative_display("/other/x", "/r"), "/other/x");
        assert_eq!(relative_display("/r", "/r"), "/r");
    }
}
