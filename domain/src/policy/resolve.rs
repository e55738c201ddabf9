//! The program that actually runs: wrappers (`sudo`, `env`, `nice`, `timeout`, `xargs`, …) are
//! peeled off with their own options, so `sudo -u www-data env -i nice -n5 /bin/rm -rf /` is
//! judged as `rm -rf /`, run as another user. Which options take a value is each wrapper's
//! syntax, so it lives here, in code; what is dangerous lives in the rules.

use super::shell::Word;

/// How a command gains privileges.
#[derive(Debug, Clone, PartialEq)]
pub struct Elevation {
    /// `sudo`, `sudo -u www-data`, `doas`, …
    pub how: String,
    /// No option that changes the user, the shell or what runs: removing it leaves the same
    /// command, run unprivileged.
    pub plain: bool,
    /// Char offsets of the wrapper word and of the word after its options (top level only).
    pub span: Option<(usize, usize)>,
}

/// A command with its wrappers removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation<'a> {
    /// The program's basename (`/usr/bin/rm` → `rm`); empty when nothing runs.
    pub program: String,
    /// The program word itself is computed at run time.
    pub dynamic: bool,
    /// The program word, as written after wrappers.
    pub word: Option<&'a Word>,
    pub args: &'a [Word],
    /// Wrappers passed on the way, outermost first.
    pub via: Vec<String>,
    pub elevation: Vec<Elevation>,
    /// Arguments are appended at run time (`xargs`, `find -exec … {} +`).
    pub unknown_args: bool,
    /// Shell code the wrapper itself runs (`su -c`, `env -S`, `ssh host cmd`).
    pub code: Vec<Word>,
    /// What the wrapper does that needs a person to confirm (an interactive root shell).
    pub asks: Vec<String>,
    /// The directory the program runs in, when a wrapper changes it (`env -C /`, `sudo -D /`).
    pub chdir: Option<Word>,
}

/// Resolve `words` (argv, program first).
pub fn resolve(words: &[Word]) -> Invocation<'_> {
    let mut inv = Invocation {
        program: String::new(),
        dynamic: false,
        word: None,
        args: &[],
        via: Vec::new(),
        elevation: Vec::new(),
        unknown_args: false,
        code: Vec::new(),
        asks: Vec::new(),
        chdir: None,
    };
    let mut i = 0;
    // Each wrapper consumes at least its own word, so this ends.
    while let Some(word) = words.get(i) {
        if word.dynamic || program_glob(word) {
            // `$X -rf /`, `/bin/r? -rf /`: which program runs is only known at run time.
            inv.dynamic = true;
            inv.word = Some(word);
            inv.program = basename(&word.text);
            inv.args = &words[i + 1..];
            return inv;
        }
        let name = basename(&word.text);
        let next = match name.as_str() {
            "sudo" | "doas" => {
                let (j, opts) = options(words, i + 1, if name == "sudo" { "ugCDhprtTUR" } else { "uC" }, &SUDO_LONG);
                // Removing `sudo` keeps its `VAR=value` words: they stay the command's environment.
                let program_at = j;
                let j = skip_assignments(words, j);
                let plain = opts.iter().all(|(o, _)| PLAIN_SUDO.contains(&o.as_str()));
                let user = opts.iter().find(|(o, _)| o == "u" || o == "user").and_then(|(_, v)| v.clone());
                let how = match &user {
                    Some(u) => format!("{name} -u {u}"),
                    None => name.clone(),
                };
                let span = word.start.zip(words.get(program_at).and_then(|w| w.start));
                if let Some((_, Some(dir))) = opts.iter().find(|(o, _)| o == "D" || o == "chdir") {
                    inv.chdir = Some(option_word(dir));
                }
                inv.elevation.push(Elevation { how, plain, span });
                if opts.iter().any(|(o, _)| o == "e" || o == "edit") {
                    // `sudo -e FILE` edits files as root: judged like `sudoedit`.
                    inv.program = "sudoedit".into();
                    inv.args = &words[j..];
                    return inv;
                }
                if j >= words.len() && opts.iter().any(|(o, _)| matches!(o.as_str(), "i" | "s" | "login" | "shell")) {
                    inv.asks.push(format!("`{name}` opens an interactive root shell"));
                }
                j
            }
            "su" => {
                // `su [options] [-] [user] -c CODE`: options and the user come in any order.
                let mut code = None;
                for (k, w) in words.iter().enumerate().skip(i + 1) {
                    if w.text == "-c" || w.text == "--command" {
                        code = words.get(k + 1).cloned();
                        break;
                    }
                    if let Some(v) = w.text.strip_prefix("--command=") {
                        code = Some(Word { text: v.to_string(), dynamic: w.dynamic, ..Word::default() });
                        break;
                    }
                }
                inv.elevation.push(Elevation { how: "su".into(), plain: false, span: None });
                match code {
                    Some(code) => inv.code.push(code),
                    None => inv.asks.push("`su` opens an interactive shell as another user".into()),
                }
                inv.program = "su".into();
                return inv;
            }
            "env" => {
                let (j, opts) = options(words, i + 1, "uCSP", &["unset", "chdir", "split-string", "default-signal"]);
                for (o, v) in &opts {
                    if o == "S" || o == "split-string" {
                        // `env -S 'rm -rf /'` splits a string into a command line.
                        let mut line = v.clone().unwrap_or_default();
                        for w in &words[j..] {
                            line.push(' ');
                            line.push_str(&w.text);
                        }
                        let dynamic = words[j..].iter().any(|w| w.dynamic);
                        inv.code.push(Word { text: line, dynamic, ..Word::default() });
                        inv.program = "env".into();
                        return inv;
                    }
                    if o == "C" || o == "chdir" {
                        inv.chdir = Some(option_word(v.as_deref().unwrap_or_default()));
                    }
                }
                skip_assignments(words, j)
            }
            "nice" => options(words, i + 1, "n", &["adjustment"]).0,
            "nohup" | "builtin" | "unbuffer" | "caffeinate" | "catchsegv" | "proxychains" | "proxychains4"
            | "torsocks" | "fakeroot" => options(words, i + 1, "", &[]).0,
            "time" => options(words, i + 1, "fo", &["format", "output"]).0,
            "timeout" => {
                let (j, _) = options(words, i + 1, "sk", &["signal", "kill-after"]);
                j + 1 // the duration
            }
            "command" => {
                let (j, opts) = options(words, i + 1, "", &[]);
                if opts.iter().any(|(o, _)| o == "v" || o == "V") {
                    // `command -v x` only looks x up.
                    inv.program = "command".into();
                    inv.args = &words[i + 1..];
                    return inv;
                }
                j
            }
            "exec" => options(words, i + 1, "a", &[]).0,
            "stdbuf" => options(words, i + 1, "ioe", &["input", "output", "error"]).0,
            "ionice" => {
                let (j, opts) = options(words, i + 1, "cnpPu", &["class", "classdata", "pid", "pgid", "uid"]);
                if opts.iter().any(|(o, _)| matches!(o.as_str(), "p" | "P" | "u" | "pid" | "pgid" | "uid")) {
                    inv.program = "ionice".into();
                    return inv;
                }
                j
            }
            "chrt" | "taskset" => {
                let (j, opts) = options(words, i + 1, "", &[]);
                if opts.iter().any(|(o, _)| o == "p" || o == "pid") {
                    inv.program = name;
                    return inv;
                }
                j + 1 // the priority or mask
            }
            "setsid" | "chronic" | "ifne" => options(words, i + 1, "", &[]).0,
            // Tracers run the command they are given.
            "strace" | "ltrace" => options(words, i + 1, "abeEIoOpPsSuUX", &["output", "signal", "trace", "user"]).0,
            "pkexec" | "run0" => {
                let (j, opts) = options(words, i + 1, "uDgM", &["user", "chdir", "group", "machine", "unit"]);
                let user = opts.iter().find(|(o, _)| o == "u" || o == "user").and_then(|(_, v)| v.clone());
                let how = match user {
                    Some(u) => format!("{name} --user {u}"),
                    None => name.clone(),
                };
                inv.elevation.push(Elevation { how, plain: false, span: None });
                if j >= words.len() {
                    inv.asks.push(format!("`{name}` opens an interactive root shell"));
                }
                j
            }
            // `gosu USER cmd`, `su-exec USER cmd`.
            "gosu" | "su-exec" => {
                inv.elevation.push(Elevation { how: name.clone(), plain: false, span: None });
                i + 2
            }
            // `parallel cmd ::: args`: the arguments come after the command.
            "parallel" | "rush" => {
                inv.unknown_args = true;
                options(words, i + 1, "jSaIdEX", &["jobs", "sshlogin", "arg-file", "delimiter", "joblog"]).0
            }
            "nsenter" | "unshare" | "systemd-run" | "firejail" | "prlimit" | "sandbox-exec" => {
                let short = match name.as_str() {
                    "nsenter" => "tSG",
                    "systemd-run" => "puEMH",
                    "prlimit" => "p",
                    "sandbox-exec" => "fpD",
                    _ => "",
                };
                options(words, i + 1, short, &["target", "setuid", "setgid", "unit", "property", "uid", "gid", "pid"]).0
            }
            "runuser" | "sg" | "script" | "flock" | "watch" | "at" | "batch" => {
                // These run shell code: `runuser -u bob -- cmd`, `script -c cmd`, `flock f -c cmd`,
                // `watch cmd …` (joined and given to `sh -c`).
                let short = match name.as_str() {
                    "runuser" => "ugGcs",
                    "script" => "cEIOoBT",
                    "flock" => "cwE",
                    "watch" => "n",
                    "at" | "batch" => "qft",
                    _ => "c",
                };
                let (j, opts) = options(words, i + 1, short, &["command", "user", "group", "interval", "timeout"]);
                if let Some((_, Some(code))) = opts.iter().find(|(o, _)| o == "c" || o == "command") {
                    let dynamic = words[i + 1..].iter().any(|w| w.dynamic && w.text.contains(code.as_str()));
                    inv.code.push(Word { text: code.clone(), dynamic, ..Word::default() });
                } else if name == "watch" && j < words.len() {
                    let rest = &words[j..];
                    let text = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
                    inv.code.push(Word { text, dynamic: rest.iter().any(|w| w.dynamic), ..Word::default() });
                } else if name == "runuser" || name == "flock" && j + 1 < words.len() {
                    // `runuser -u bob -- cmd`, `flock FILE cmd`.
                    if name == "runuser" {
                        inv.elevation.push(Elevation { how: "runuser".into(), plain: false, span: None });
                    }
                    inv.via.push(name.clone());
                    i = if name == "flock" { j + 1 } else { j };
                    continue;
                }
                inv.program = name;
                return inv;
            }
            "chroot" => {
                let (j, _) = options(words, i + 1, "", &["userspec", "groups"]);
                if j + 1 >= words.len() {
                    // No command: an interactive shell in the new root.
                    inv.program = "chroot".into();
                    inv.args = &words[i + 1..];
                    return inv;
                }
                j + 1
            }
            "xargs" => {
                inv.unknown_args = true;
                let (j, _) = options(
                    words,
                    i + 1,
                    "adEILnPs",
                    &[
                        "arg-file",
                        "delimiter",
                        "eof",
                        "replace",
                        "max-lines",
                        "max-args",
                        "max-procs",
                        "max-chars",
                        "process-slot-var",
                    ],
                );
                if j >= words.len() {
                    inv.program = "echo".into();
                    return inv;
                }
                j
            }
            "busybox" | "toybox" => i + 1,
            "doas-keepenv" => i + 1,
            "docker" | "podman" | "nerdctl" if words.get(i + 1).is_some_and(|w| w.text == "exec") => {
                let (j, _) = options(words, i + 2, "euw", &["env", "env-file", "user", "workdir", "detach-keys"]);
                j + 1 // the container
            }
            "kubectl" | "oc" if words.get(i + 1).is_some_and(|w| w.text == "exec") => {
                match words[i + 2..].iter().position(|w| w.text == "--") {
                    Some(k) => i + 2 + k + 1,
                    None => break,
                }
            }
            "ssh" => {
                // The remote command is shell code, run on another machine but still run.
                let (j, _) = options(words, i + 1, "bcDEeFIiJLlmOopQRSWw", &[]);
                if words.len() > j + 1 {
                    let dynamic = words[j + 1..].iter().any(|w| w.dynamic);
                    let text = words[j + 1..].iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
                    inv.code.push(Word { text, dynamic, ..Word::default() });
                }
                break;
            }
            _ => break,
        };
        inv.via.push(name);
        i = next;
    }
    if let Some(word) = words.get(i) {
        inv.program = basename(&word.text);
        inv.dynamic = word.dynamic;
        inv.word = Some(word);
        inv.args = &words[i + 1..];
    }
    inv
}

const SUDO_LONG: [&str; 10] =
    ["user", "group", "close-from", "chdir", "host", "prompt", "role", "type", "command-timeout", "chroot"];

/// sudo/doas options that keep the command and the user: removing `sudo` with them only
/// removes the privilege. (Not `-S`: sudo reads the password from the input, so the command
/// would read it instead.)
const PLAIN_SUDO: [&str; 8] = ["n", "E", "H", "k", "A", "P", "preserve-env", "non-interactive"];

/// An option's value as a word (dynamic when part of it is only known at run time).
fn option_word(text: &str) -> Word {
    Word { text: text.to_string(), dynamic: text.contains(super::shell::UNKNOWN), ..Word::default() }
}

/// A program word with unquoted glob characters (`/bin/r?`, `/???/rm`): the file it names is
/// only known at run time. (`[` alone is the test command.)
fn program_glob(word: &Word) -> bool {
    word.glob
        && (word.text.contains(['*', '?']) || word.text.find('[').is_some_and(|i| word.text[i + 1..].contains(']')))
}

/// The basename of a program word: `/usr/bin/rm`, `C:\bin\rm.exe` → `rm`.
/// Lower-cased: `RM` runs `rm` on case-insensitive file systems (macOS, Windows).
pub fn basename(text: &str) -> String {
    let base = text.rsplit(['/', '\\']).next().unwrap_or(text).to_ascii_lowercase();
    match base.strip_suffix(".exe") {
        Some(stem) if !stem.is_empty() => stem.to_string(),
        _ => base,
    }
}

/// Skip `NAME=value` words.
fn skip_assignments(words: &[Word], mut i: usize) -> usize {
    while words.get(i).is_some_and(|w| is_assignment(&w.text)) {
        i += 1;
    }
    i
}

fn is_assignment(text: &str) -> bool {
    match text.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// One option and its value.
pub type Opt = (String, Option<String>);

/// Parse options starting at `i`: short options in `short_value` take a value (inline,
/// `-uroot`, or the next word), as do the long options in `long_value` (`--user=x` or
/// `--user x`). Stops at `--` (consumed), `-` or the first operand. Returns the operand's
/// index and the options seen.
pub fn options(words: &[Word], mut i: usize, short_value: &str, long_value: &[&str]) -> (usize, Vec<Opt>) {
    let mut seen = Vec::new();
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if t == "--" {
            return (i + 1, seen);
        }
        if !t.starts_with('-') || t == "-" || w.dynamic {
            break;
        }
        i += 1;
        if let Some(long) = t.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, value)) => seen.push((name.to_string(), Some(value.to_string()))),
                None if long_value.contains(&long) => {
                    seen.push((long.to_string(), words.get(i).map(|w| w.text.clone())));
                    i += 1;
                }
                None => seen.push((long.to_string(), None)),
            }
            continue;
        }
        for (k, c) in t[1..].char_indices() {
            // (A value-taking option at the end leaves `i` one past the words: capped below.)
            if short_value.contains(c) {
                let rest = &t[1 + k + c.len_utf8()..];
                let value = if rest.is_empty() {
                    i += 1;
                    words.get(i - 1).map(|w| w.text.clone())
                } else {
                    Some(rest.to_string())
                };
                seen.push((c.to_string(), value));
                break;
            }
            seen.push((c.to_string(), None));
        }
    }
    (i.min(words.len()), seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::paths::Loc;
    use crate::policy::shell;

    fn run(text: &str) -> (String, Vec<String>, Vec<String>) {
        let script = shell::parse(text, &Loc::project(), 0, 8);
        let inv = resolve(&script.cmds[0].words);
        let args = inv.args.iter().map(|w| w.text.clone()).collect();
        let how = inv.elevation.iter().map(|e| e.how.clone()).collect();
        (inv.program, args, how)
    }

    #[test]
    fn wrappers_are_peeled_off_with_their_options() {
        assert_eq!(run("sudo -u www-data whoami"), ("whoami".into(), vec![], vec!["sudo -u www-data".into()]));
        assert_eq!(run("sudo -E env -i FOO=1 nice -n 5 /bin/rm -rf /").0, "rm");
        assert_eq!(run("timeout -s KILL 10 nohup stdbuf -oL command rm x").1, ["x"]);
        assert_eq!(run("xargs -0 -n1 rm -rf").0, "rm");
        assert_eq!(run("doas -u root ionice -c3 chroot /mnt sh").0, "sh");
        assert_eq!(run("\\rm -rf x").0, "rm");
        assert_eq!(run("'C:\\Windows\\cmd.exe' /c del").0, "cmd");
        assert_eq!(run("command -v rm").0, "command");
        assert_eq!(run("docker exec -it db psql -c 'x'").0, "psql");
    }

    #[test]
    fn only_plain_sudo_can_be_removed() {
        let script = shell::parse("sudo -n apt-get install jq; sudo -u bob ls", &Loc::project(), 0, 8);
        let plain = resolve(&script.cmds[0].words);
        assert!(plain.elevation[0].plain);
        assert_eq!(plain.elevation[0].span, Some((0, 8)));
        assert!(!resolve(&script.cmds[1].words).elevation[0].plain);
    }

    #[test]
    fn options_parse_clusters_inline_values_and_long_forms() {
        let script = shell::parse("x -abu root --user=me --chdir /d -- y", &Loc::project(), 0, 8);
        let (i, seen) = options(&script.cmds[0].words, 1, "u", &["chdir"]);
        assert_eq!(i, 7);
        assert_eq!(seen.len(), 5);
        assert_eq!(seen[2], ("u".into(), Some("root".into())));
        assert_eq!(seen[4], ("chdir".into(), Some("/d".into())));
    }
}
