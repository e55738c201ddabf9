//! Reading, rendering and atomically replacing one JSON configuration file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::SetupError;
use super::shape::{self, Shape};

/// A configuration file as found: its content and how it is written.
#[derive(Debug, Clone)]
pub struct JsonFile {
    /// The path as shown to the user.
    pub path: PathBuf,
    /// Where the bytes live: `path`, or the file a symlink at `path` points to (replacing the
    /// link with a regular file would cut it from, say, a dotfiles repository).
    target: PathBuf,
    /// The text found, `None` when there is no file.
    pub text: Option<String>,
    /// The top-level object (empty for a missing or empty file).
    pub root: Map<String, Value>,
    style: Style,
}

/// How the existing file is laid out, so a rewrite changes only what `setup` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Style {
    indent: String,
    bom: bool,
    crlf: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style { indent: "  ".into(), bom: false, crlf: false }
    }
}

impl JsonFile {
    /// Read `path`, refusing (with line and column) text that is not JSON of `shape`. A missing
    /// file, or one holding only whitespace, reads as an empty object.
    pub fn read(path: &Path, shape: Shape) -> Result<JsonFile, SetupError> {
        let io_error = |doing: &'static str| move |error| SetupError::Io { path: path.to_path_buf(), doing, error };
        let target = match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                fs::canonicalize(path).map_err(io_error("follow the symlink"))?
            }
            _ => path.to_path_buf(),
        };
        // Only a regular file is read: a FIFO would block the read forever and a device
        // (`/dev/zero`) never ends.
        if let Ok(meta) = fs::metadata(&target)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let error = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
            return Err(io_error("read")(error));
        }
        let bytes = match fs::read(&target) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(JsonFile {
                    path: path.into(),
                    target,
                    text: None,
                    root: Map::new(),
                    style: Style::default(),
                });
            }
            Err(e) => return Err(io_error("read")(e)),
        };
        let invalid = |line, column, message| SetupError::Invalid { path: path.into(), line, column, message };
        let text = String::from_utf8(bytes).map_err(|e| {
            let before = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = before.len() - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
            invalid(line, column, "the file is not UTF-8 text".into())
        })?;
        let (bom, json) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let root = if json.trim().is_empty() {
            Map::new()
        } else {
            let value: Value = serde_json::from_str(json).map_err(|e| {
                let (line, column) = (e.line(), e.column());
                let full = e.to_string();
                let message = full.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&full);
                invalid(line, column, format!("not valid JSON: {message}"))
            })?;
            shape::check(json, shape).map_err(|m| {
                invalid(m.line, m.column, format!("`{}` is not what Claude Code reads there: {}", m.path, m.message))
            })?;
            match value {
                Value::Object(root) => root,
                // The shape check refuses anything but an object.
                _ => return Err(invalid(1, 1, "the top level is not a JSON object".into())),
            }
        };
        let style = Style { indent: indent_of(json), bom, crlf: json.contains("\r\n") };
        Ok(JsonFile { path: path.into(), target, text: Some(text), root, style })
    }

    /// `root` as this file would hold it: the file's own indentation and line ends, a final
    /// newline.
    pub fn render(&self, root: &Map<String, Value>) -> String {
        let mut out = Vec::new();
        if self.style.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        let formatter = serde_json::ser::PrettyFormatter::with_indent(self.style.indent.as_bytes());
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        // Serializing a `Map` into a `Vec` cannot fail: keys are strings, there is no I/O.
        let _ = root.serialize(&mut serializer);
        out.push(b'\n');
        let text = String::from_utf8(out).unwrap_or_default();
        // JSON strings escape their line breaks, so every raw `\n` is a line end.
        if self.style.crlf { text.replace('\n', "\r\n") } else { text }
    }

    /// Replace the file with `text` atomically: a temporary file in the same directory, flushed,
    /// given the old file's permissions, then renamed over it. Creates missing directories.
    pub fn write(&self, text: &str) -> Result<(), SetupError> {
        let error = |error| SetupError::Io { path: self.path.clone(), doing: "write", error };
        let dir = self.target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(error)?;
        let existing = fs::metadata(&self.target).ok().map(|m| m.permissions());
        let name = self.target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // A new file gets what any new file gets (0666 less the umask).
            builder.permissions(existing.clone().unwrap_or_else(|| fs::Permissions::from_mode(0o666)));
        }
        let mut temp = builder.tempfile_in(dir).map_err(error)?;
        if let Some(permissions) = existing {
            // Exactly the old mode: creation is narrowed by the umask, this is not.
            temp.as_file().set_permissions(permissions).map_err(error)?;
        }
        temp.write_all(text.as_bytes()).map_err(error)?;
        temp.as_file().sync_all().map_err(error)?;
        temp.persist(&self.target).map_err(|e| error(e.error))?;
        Ok(())
    }
}

/// The indentation of the first indented line (the unit of a pretty-printed file), else two
/// spaces.
fn indent_of(json: &str) -> String {
    json.lines()
        .skip(1)
        .map(|line| &line[..line.len() - line.trim_start_matches([' ', '\t']).len()])
        .find(|indent| !indent.is_empty())
        .unwrap_or("  ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_keeps_the_files_indentation_line_ends_and_byte_order_mark() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("s.json");
        fs::write(&path, "\u{feff}{\r\n\t\"a\": \"x\\ny\"\r\n}\r\n").unwrap();
        let file = JsonFile::read(&path, Shape::Settings).unwrap();
        let mut root = file.root.clone();
        root.insert("b".into(), Value::from(vec![1]));
        assert_eq!(file.render(&root), "\u{feff}{\r\n\t\"a\": \"x\\ny\",\r\n\t\"b\": [\r\n\t\t1\r\n\t]\r\n}\r\n");
        assert_eq!(file.render(&file.root), file.text.clone().unwrap());
    }

    #[test]
    fn the_indentation_of_the_file_is_kept() {
        assert_eq!(indent_of("{\n    \"a\": 1\n}"), "    ");
        assert_eq!(indent_of("{\n\t\"a\": 1\n}"), "\t");
        assert_eq!(indent_of("{\"a\": 1}"), "  ");
        assert_eq!(indent_of("{\n\"a\": {\n  \"b\": 1}\n}"), "  ");
    }
}
