//! Spec errors, reported like rustc: what is wrong, where (`--> file:line:col` plus the YAML path),
//! the offending source line, and how to fix it. All of them at once, never just the first.

use std::fmt;
use std::path::Path;

/// A location in a spec file (1-based line and column) plus the YAML path to the node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// e.g. `events[0].input.properties.text.max_length`
    pub yaml_path: String,
}

/// Declares [`DiagnosticKind`] from one list, so a variant, its doc line and its kebab-case name
/// are written once and `ALL` cannot miss a variant.
macro_rules! diagnostic_kinds {
    ($($(#[doc = $doc:literal])+ $variant:ident => $name:literal,)+) => {
        /// What is wrong with the spec. Its [`as_str`](DiagnosticKind::as_str) name is shown as
        /// `error[unknown-key]` and is stable: tests, snapshots and tools match on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum DiagnosticKind {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl DiagnosticKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [DiagnosticKind] = &[$(DiagnosticKind::$variant,)+];

            /// The stable kebab-case name, e.g. `unknown-key`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(DiagnosticKind::$variant => $name,)+
                }
            }
        }
    };
}

diagnostic_kinds! {
    /// A spec file or folder could not be read.
    Io => "io",
    /// The spec folder holds no `*.yaml` file.
    NoSpecFiles => "no-spec-files",
    /// The file is not valid YAML.
    YamlSyntax => "yaml-syntax",
    /// A key the spec language does not know at this place.
    UnknownKey => "unknown-key",
    /// A required key is absent.
    MissingKey => "missing-key",
    /// A value of the wrong YAML type, or a number with no JSON form.
    WrongType => "wrong-type",
    /// A string outside the key's fixed set of choices (e.g. `unknown_keys`).
    WrongValue => "wrong-value",
    /// A whole number below the key's minimum.
    OutOfRange => "out-of-range",
    /// A key that is only valid elsewhere (`optional` or `default` outside an object property).
    MisplacedKey => "misplaced-key",
    /// An event name or alias that is not dotted lowercase.
    BadEventName => "bad-event-name",
    /// An event whose MCP tool name would be longer than clients accept.
    BadToolName => "bad-tool-name",
    /// A definition name that is not PascalCase.
    BadDefinitionName => "bad-definition-name",
    /// A property name that cannot become a Rust field.
    BadPropertyName => "bad-property-name",
    /// An enum value that cannot name a Rust variant.
    BadEnumValue => "bad-enum-value",
    /// A `one_of` variant that is not a usable object, or whose tag value cannot name a variant.
    BadVariant => "bad-variant",
    /// A cross-field rule that is malformed or names unknown or required properties.
    BadRule => "bad-rule",
    /// An event declared twice.
    DuplicateEvent => "duplicate-event",
    /// A definition declared twice.
    DuplicateDefinition => "duplicate-definition",
    /// An alias used twice, or naming an existing event.
    DuplicateAlias => "duplicate-alias",
    /// Two events that become the same MCP tool name.
    DuplicateToolName => "duplicate-tool-name",
    /// A name listed twice in one event's `publishes`.
    DuplicatePublishedName => "duplicate-published-name",
    /// A `publishes` entry that is an event of the spec (a request) rather than a notification.
    PublishesSpecEvent => "publishes-spec-event",
    /// Two properties that become the same Rust field.
    DuplicateField => "duplicate-field",
    /// An enum value listed twice.
    DuplicateEnumValue => "duplicate-enum-value",
    /// An enum with no values.
    EmptyEnum => "empty-enum",
    /// A name the generated code or the server already uses.
    ReservedName => "reserved-name",
    /// A `ref` or `replaced_by` that names nothing.
    DanglingRef => "dangling-ref",
    /// A definition that refers to itself.
    RecursiveDefinition => "recursive-definition",
    /// An event `input` or `output` that is not a non-nullable object.
    RootNotObject => "root-not-object",
    /// A schema with both `type` and `ref`.
    TypeAndRef => "type-and-ref",
    /// A `type` the spec language does not have.
    UnknownType => "unknown-type",
    /// A string `format` the validators do not check.
    UnknownFormat => "unknown-format",
    /// A `pattern` that is not a valid regex.
    InvalidRegex => "invalid-regex",
    /// A lower bound above its upper bound, so no value fits.
    MinGreaterThanMax => "min-greater-than-max",
    /// Both the inclusive and the exclusive form of one bound.
    ConflictingBounds => "conflicting-bounds",
    /// `persist: true` on an event declared `mutates: false`.
    PersistWithoutMutates => "persist-without-mutates",
    /// `cache_ttl_s` on an event that changes state.
    CacheOnMutatingEvent => "cache-on-mutating-event",
    /// `mcp.read_only: true` on an event that changes state.
    ReadOnlyMutates => "read-only-mutates",
    /// `mcp.toolset` that is not a lowercase identifier (or is `all`).
    BadToolset => "bad-toolset",
    /// An exposed event without `mcp.description`, or one that is empty or too long.
    McpDescription => "mcp-description",
    /// A `default` that its own schema refuses.
    InvalidDefault => "invalid-default",
    /// An example value or example request/response that its schema refuses.
    InvalidExample => "invalid-example",
    /// A circuit breaker fallback that the event's output schema refuses.
    FallbackMismatch => "fallback-mismatch",
    /// A `claude_code` route that is malformed, names input properties the event lacks, leaves a
    /// required one unfilled, or serves a hook another route serves too.
    BadHookRoute => "bad-hook-route",
}

impl fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One error in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong (tests match on its name).
    pub kind: DiagnosticKind,
    pub message: String,
    pub location: Option<Location>,
    /// The source line at `location`, for the excerpt.
    pub source_line: Option<String>,
    /// How many columns the caret underline covers (at least 1).
    pub span_len: usize,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with no location yet.
    pub fn new(kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Diagnostic { kind, message: message.into(), location: None, source_line: None, span_len: 1, help: None }
    }

    /// Attach a `help:` line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attach where it happened, with the source line for the excerpt.
    pub fn at(mut self, location: Location, source_line: Option<&str>, span_len: usize) -> Self {
        self.location = Some(location);
        self.source_line = source_line.map(str::to_string);
        self.span_len = span_len.max(1);
        self
    }

    /// A file or folder could not be read.
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Diagnostic::new(DiagnosticKind::Io, format!("cannot read `{}`: {err}", path.display()))
            .help("check that the spec folder exists and is readable")
    }

    /// The spec folder has no YAML files.
    pub fn no_spec_files(dir: &Path) -> Self {
        Diagnostic::new(DiagnosticKind::NoSpecFiles, format!("no `*.yaml` files in `{}`", dir.display()))
            .help("add at least one spec file, e.g. `spec/task.yaml` with an `events:` list")
    }

    /// One line for `cargo::error=`: `file:line:col: message (at path; help: …)`.
    pub fn one_line(&self) -> String {
        let mut out = String::new();
        if let Some(loc) = &self.location {
            out.push_str(&format!("{}:{}:{}: ", loc.file, loc.line, loc.column));
        }
        out.push_str(&self.message);
        let mut extra = Vec::new();
        if let Some(loc) = &self.location
            && !loc.yaml_path.is_empty()
        {
            extra.push(format!("at {}", loc.yaml_path));
        }
        if let Some(help) = &self.help {
            extra.push(format!("help: {help}"));
        }
        if !extra.is_empty() {
            out.push_str(&format!(" ({})", extra.join("; ")));
        }
        out.replace('\n', " ")
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error[{}]: {}", self.kind, self.message)?;
        let Some(loc) = &self.location else {
            if let Some(help) = &self.help {
                writeln!(f, "  = help: {help}")?;
            }
            return Ok(());
        };
        let line_no = loc.line.to_string();
        let pad = " ".repeat(line_no.len());
        writeln!(f, "{pad}--> {}:{}:{}", loc.file, loc.line, loc.column)?;
        if let Some(src) = &self.source_line {
            writeln!(f, "{pad} |")?;
            writeln!(f, "{line_no} | {src}")?;
            let indent: String =
                src.chars().take(loc.column.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            writeln!(f, "{pad} | {indent}{}", "^".repeat(self.span_len))?;
        }
        if !loc.yaml_path.is_empty() {
            writeln!(f, "{pad} = at: {}", loc.yaml_path)?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// Every diagnostic of one load, in file and line order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn single(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
    /// Sort by file, line and column, keeping the order of diagnostics at the same place.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            let key = |d: &Diagnostic| d.location.as_ref().map(|l| (l.file.clone(), l.line, l.column));
            key(a).cmp(&key(b))
        });
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(f, "error: the spec has {n} error{}", if n == 1 { "" } else { "s" })
    }
}

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1) + 1;
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_kebab_case_name() {
        let mut seen = std::collections::HashSet::new();
        for kind in DiagnosticKind::ALL {
            let name = kind.as_str();
            assert!(seen.insert(name), "`{name}` names two kinds");
            let kebab = name.split('-').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase()));
            assert!(kebab, "`{name}` is not kebab-case");
        }
    }

    #[test]
    fn suggests_the_nearest_key_only_when_close() {
        let keys = ["rate_limit", "roles", "persist", "timeout_ms"];
        assert_eq!(did_you_mean("rate_limt", keys), Some("rate_limit"));
        assert_eq!(did_you_mean("timeout", keys), Some("timeout_ms"));
        assert_eq!(did_you_mean("zzzzzz", keys), None);
    }

    #[test]
    fn renders_like_rustc() {
        let d = Diagnostic::new(DiagnosticKind::UnknownKey, "unknown key `rate_limt`")
            .at(
                Location {
                    file: "spec/task.yaml".into(),
                    line: 14,
                    column: 5,
                    yaml_path: "events[0].rate_limt".into(),
                },
                Some("    rate_limt: 10"),
                9,
            )
            .help("did you mean `rate_limit`?");
        let text = d.to_string();
        assert!(text.contains("--> spec/task.yaml:14:5"), "{text}");
        assert!(text.contains("14 |     rate_limt: 10"), "{text}");
        assert!(text.contains("   |     ^^^^^^^^^"), "{text}");
        assert!(text.contains("= help: did you mean `rate_limit`?"), "{text}");
        assert_eq!(
            d.one_line(),
            "spec/task.yaml:14:5: unknown key `rate_limt` (at events[0].rate_limt; help: did you mean `rate_limit`?)"
        );
    }
}
