//! Paths as the guard sees them: lexically normalised (`.`, `..`, `//`), anchored at the root, a
//! home directory, a Windows drive, or the project (the hook's working directory when it is not
//! known), and compared with path patterns from the rules.
//!
//! Nothing here touches the file system: symlinks are not followed, which is why the rules
//! protect the directories themselves rather than rely on where a link leads.

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// `/`.
    Root,
    /// A home directory: `~`, `$HOME`, or a directory matching the rules' `homeDirs`.
    Home,
    /// A Windows drive, lower-cased (`c` for `C:\`).
    Drive(char),
    /// The working directory of a hook whose `cwd` is unknown.
    Project,
    /// A directory only known at run time (after `cd "$X"`).
    Unknown,
}

/// A normalised path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    pub anchor: Anchor,
    /// Components below the anchor (lower-cased for drives: Windows paths ignore case).
    pub parts: Vec<String>,
    /// `..` steps above the anchor: out of the project, or above a home directory. Above `/`
    /// they are dropped, as the kernel does.
    pub climbs: usize,
}

impl Loc {
    pub fn root() -> Self {
        Loc { anchor: Anchor::Root, parts: Vec::new(), climbs: 0 }
    }

    pub fn project() -> Self {
        Loc { anchor: Anchor::Project, parts: Vec::new(), climbs: 0 }
    }

    /// `self` joined with `text` (absolute `text` replaces it), normalised.
    pub fn join(&self, text: &str) -> Loc {
        if let Some(rest) = text.strip_prefix('~') {
            // `~` and `~/…` only: `~user` is another home, still a home.
            let rest = rest.find(['/', '\\']).map_or("", |i| &rest[i..]);
            return Loc { anchor: Anchor::Home, parts: Vec::new(), climbs: 0 }.push(rest, false);
        }
        let b = text.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            let drive = (b[0] as char).to_ascii_lowercase();
            return Loc { anchor: Anchor::Drive(drive), parts: Vec::new(), climbs: 0 }.push(&text[2..], true);
        }
        if text.starts_with('/') {
            return Loc::root().push(text, false);
        }
        let windows = matches!(self.anchor, Anchor::Drive(_));
        self.clone().push(text, windows)
    }

    fn push(mut self, text: &str, windows: bool) -> Loc {
        let seps: &[char] = if windows { &['/', '\\'] } else { &['/'] };
        for part in text.split(seps) {
            match part {
                "" | "." => {}
                ".." => {
                    if self.parts.pop().is_none() && self.anchor != Anchor::Root {
                        self.climbs += 1;
                    }
                }
                p if windows => self.parts.push(p.to_lowercase()),
                p => self.parts.push(p.to_string()),
            }
        }
        self
    }

    /// The same path, with a directory matching one of `home_dirs` (`/home/*`, `/root`)
    /// re-anchored at [`Anchor::Home`], so `~/.ssh` patterns also protect `/home/dev/.ssh`.
    pub fn canonical(&self, home_dirs: &[Pattern]) -> Loc {
        if self.anchor == Anchor::Root && self.climbs == 0 {
            for home in home_dirs {
                if home.anchor == Anchor::Root && home.matches_prefix_of(&self.parts) {
                    let parts = self.parts[home.parts.len()..].to_vec();
                    return Loc { anchor: Anchor::Home, parts, climbs: 0 };
                }
            }
        }
        self.clone()
    }

    /// Whether this is a prefix-or-equal of what `pattern` names (deleting it deletes that).
    pub fn contains(&self, pattern: &Pattern) -> bool {
        if self.anchor != pattern.anchor {
            return false;
        }
        if self.climbs > 0 {
            // Above a home (or drive): contains every home, so everything home-anchored.
            return true;
        }
        self.parts.len() <= pattern.parts.len()
            && self.parts.iter().zip(&pattern.parts).all(|(p, pat)| glob_match(pat, p) || glob_match(p, pat))
    }

    /// Whether this is `pattern`'s path or below it.
    pub fn within(&self, pattern: &Pattern) -> bool {
        self.anchor == pattern.anchor && self.climbs == 0 && pattern.matches_prefix_of(&self.parts)
    }

    /// For display in reasons.
    pub fn display(&self) -> String {
        let mut s = match self.anchor {
            Anchor::Root => String::new(),
            Anchor::Home => "~".to_string(),
            Anchor::Drive(d) => format!("{}:", d.to_ascii_uppercase()),
            Anchor::Project => ".".to_string(),
            Anchor::Unknown => "…".to_string(),
        };
        for _ in 0..self.climbs {
            s.push_str("/..");
        }
        for p in &self.parts {
            s.push('/');
            s.push_str(p);
        }
        if s.is_empty() { "/".to_string() } else { s }
    }
}

/// A path pattern from the rules: `/etc`, `/lib*`, `~/.ssh`, `/home/*`, `C:/Windows`,
/// `/dev/fd/*`. `*` and `?` match within one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub text: String,
    pub anchor: Anchor,
    pub parts: Vec<String>,
}

impl Pattern {
    /// `None` for a pattern that is not anchored (relative patterns would depend on the cwd).
    pub fn parse(text: &str) -> Option<Pattern> {
        let loc = Loc::project().join(text);
        (loc.anchor != Anchor::Project && loc.climbs == 0).then(|| Pattern {
            text: text.to_string(),
            anchor: loc.anchor,
            parts: loc.parts,
        })
    }

    /// Whether `parts` start with what the pattern names; a glob in `parts` (`/e?c/passwd`)
    /// counts as naming what it may match.
    fn matches_prefix_of(&self, parts: &[String]) -> bool {
        parts.len() >= self.parts.len()
            && self.parts.iter().zip(parts).all(|(pat, p)| glob_match(pat, p) || has_glob(p) && glob_match(p, pat))
    }
}

/// Shell-style wildcard match of one component (`*`, `?`, everything else literal), in
/// O(|pattern| × |text|) without backtracking blow-ups.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Whether a word contains unquoted glob characters that the shell would expand.
pub fn has_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(cwd: &Loc, text: &str) -> String {
        cwd.join(text).display()
    }

    #[test]
    fn paths_normalise_dots_slashes_and_climbs() {
        let root = Loc::root();
        assert_eq!(at(&root, "/tmp/../etc//passwd"), "/etc/passwd");
        assert_eq!(at(&root, "/../../etc/./hosts"), "/etc/hosts");
        assert_eq!(at(&Loc::project(), "a/../../b"), "./../b");
        assert_eq!(at(&Loc::project(), "~/../x"), "~/../x");
        assert_eq!(at(&root.join("/home/dev/p"), "../../.."), "/");
        assert_eq!(at(&root, "C:\\Windows\\System32"), "C:/windows/system32");
        assert_eq!(at(&root, "c:/WINDOWS/x/../y"), "C:/windows/y");
    }

    #[test]
    fn patterns_match_within_and_contain() {
        let etc = Pattern::parse("/etc").unwrap();
        let lib = Pattern::parse("/lib*").unwrap();
        let ssh = Pattern::parse("~/.ssh").unwrap();
        let homes = vec![Pattern::parse("/home/*").unwrap(), Pattern::parse("/root").unwrap()];
        let root = Loc::root();
        assert!(root.join("/etc/passwd").within(&etc));
        assert!(!root.join("/etcetera").within(&etc));
        assert!(root.join("/lib64/x.so").within(&lib));
        assert!(root.join("/").contains(&etc));
        assert!(root.join("/home/dev/.ssh/authorized_keys").canonical(&homes).within(&ssh));
        assert!(root.join("/home/dev").canonical(&homes).contains(&ssh));
        assert!(Loc::project().join("~/..").contains(&ssh));
        assert!(!root.join("/home/dev/project").canonical(&homes).contains(&ssh));
        assert!(Pattern::parse("relative").is_none());
    }

    #[test]
    fn globs_match_one_component() {
        assert!(glob_match("mkfs.*", "mkfs.ext4"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "ac"));
        assert!(glob_match("?sr", "usr"));
    }
}
