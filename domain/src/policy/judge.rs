//! Judging the command model: each command's real program (after wrappers) with its argv, every
//! path it writes or deletes, what it feeds to shells, interpreters and database clients. One
//! place per rule; the rules' data (protected paths, program lists, per-program rules) comes
//! from [`super::rules`].

use std::sync::LazyLock;

use regex::Regex;

use super::code;
use super::paths::{Anchor, Loc};
use super::resolve::{Invocation, Opt, options, resolve};
use super::rules::{RuleDecision, SudoPolicy, named};
use super::shell::{self, Cmd, Script, Stdin, UNKNOWN, Word, shorten};
use super::{Guard, Outcome};

/// What a command's standard input (or a `-c` string) is, for the program reading it.
#[derive(Clone, Copy, PartialEq)]
enum Lang {
    Shell,
    Interpreter,
    Data,
}

pub(crate) struct Judge<'g> {
    pub g: &'g Guard,
    pub out: Outcome,
    /// Files written by a fetcher earlier in the command (`curl -o x.sh`): running one is
    /// running downloaded code. A set: a command line of thousands of fetches and runs must
    /// cost linear time, not fetches × runs.
    pub downloaded: std::collections::HashSet<Loc>,
}

impl Judge<'_> {
    /// Judge shell code run from `cwd`, `depth` levels deep.
    pub fn text(&mut self, text: &str, cwd: &Loc, depth: usize) {
        let max = self.g.rules.max_depth;
        if depth > max {
            return self.out.ask("nested", format!("commands nested more than {max} levels deep"));
        }
        let script = shell::parse(text, cwd, depth, max);
        self.script(&script);
    }

    fn script(&mut self, script: &Script) {
        for why in &script.unknowns {
            self.out.ask("unparsed", format!("{why}: it cannot be checked"));
        }
        for f in &script.functions {
            let recursive = script.cmds[f.body.clone()]
                .iter()
                .any(|c| (c.piped || c.background) && c.words.first().is_some_and(|w| w.text == f.name));
            if recursive {
                self.out.deny("fork_bomb", format!("`{}` starts copies of itself without end (a fork bomb)", f.name));
            }
        }
        for cmd in &script.cmds {
            self.command(cmd, script);
        }
    }

    fn command(&mut self, cmd: &Cmd, script: &Script) {
        for target in &cmd.writes {
            self.write(target, &cmd.cwd, "a redirection");
        }
        if cmd.words.is_empty() {
            return;
        }
        let inv = resolve(&cmd.words);
        if self.fetched(
            &cmd.stdin
                .iter()
                .flat_map(|s| match s {
                    Stdin::Pipe(up) => up.clone(),
                    Stdin::Text(w) => w.subs.clone(),
                })
                .collect::<Vec<_>>(),
            script,
        ) || named(&self.g.rules.fetchers, &inv.program)
        {
            for target in cmd.writes.iter().filter(|w| !w.dynamic) {
                self.downloaded.insert(cmd.cwd.join(&target.text));
            }
        }
        if named(&self.g.rules.fetchers, &inv.program) {
            self.sent_away(cmd, script, &inv.program);
        }
        if inv.unknown_args && inv.via.iter().any(|w| w == "xargs") {
            // `echo / | xargs rm -rf`: the arguments are known after all.
            let input = cmd.stdin.iter().find_map(|s| match s {
                Stdin::Pipe(up) => literal_output(up, script),
                Stdin::Text(w) => (!w.dynamic).then(|| w.text.clone()),
            });
            if let Some(input) = input {
                let mut words = cmd.words.clone();
                words.extend(input.split_whitespace().map(|t| Word { text: t.to_string(), ..Word::default() }));
                let mut known = resolve(&words);
                known.unknown_args = false;
                return self.invocation(&known, cmd, script);
            }
        }
        self.invocation(&inv, cmd, script);
    }

    /// A network program fed the output of a command that reads a protected file
    /// (`cat ~/.ssh/id_rsa | curl -d @- …`).
    fn sent_away(&mut self, cmd: &Cmd, script: &Script, program: &str) {
        for input in &cmd.stdin {
            let Stdin::Pipe(up) = input else { continue };
            for source in up.iter().filter_map(|&i| script.cmds.get(i)) {
                for w in source.words.iter().skip(1).filter(|w| !w.dynamic && !w.text.starts_with('-')) {
                    let loc = source.cwd.join(&w.text).canonical(&self.g.homes);
                    if let Some(at) = self.g.protected_hit(&loc) {
                        self.out.ask(
                            "exfiltration",
                            format!("`{program}` sends what `{}` reads from the protected `{at}`", loc.display()),
                        );
                    }
                }
            }
        }
    }

    fn invocation(&mut self, inv: &Invocation, cmd: &Cmd, script: &Script) {
        // `env -C / rm -rf *`: the program runs in another directory.
        let moved;
        let cmd = match &inv.chdir {
            Some(dir) => {
                let cwd = if dir.dynamic {
                    Loc { anchor: Anchor::Unknown, parts: Vec::new(), climbs: 0 }
                } else {
                    cmd.cwd.join(&dir.text)
                };
                moved = Cmd { cwd, ..cmd.clone() };
                &moved
            }
            None => cmd,
        };
        for why in &inv.asks {
            self.out.ask("interactive_shell", why.clone());
        }
        for code in &inv.code {
            self.code_word(code, Lang::Shell, cmd, script, &inv.program);
        }
        if inv.dynamic {
            let shown = inv.word.map_or(String::new(), |w| shorten(&w.text));
            self.out.ask("dynamic_command", format!("the program `{shown}` is only known at run time"));
        }
        self.elevation(inv, cmd);
        if inv.program.is_empty() {
            return;
        }
        if let Some(word) = inv.word.filter(|w| w.text.contains('/')) {
            self.script_file(word, &inv.program, cmd, script);
        }
        self.program_rules(inv);
        let p = inv.program.as_str();
        let rules = &self.g.rules;
        match p {
            "rm" | "unlink" | "rmdir" | "del" | "erase" | "rd" | "remove-item" | "rimraf" | "trash" | "srm" => {
                self.delete(inv, cmd)
            }
            "cp" | "mv" | "install" | "ln" | "rsync" | "link" | "gcp" | "gmv" | "scp" => self.copy(inv, cmd),
            "make" | "gmake" | "bmake" | "remake" => self.make(inv, cmd, script),
            "tee" => {
                let parsed = Args::parse(inv.args, "", &["output-error"]);
                for target in parsed.operands {
                    self.write(target, &cmd.cwd, "`tee`");
                }
            }
            "sed" | "gsed" => self.sed(inv, cmd),
            "truncate" | "touch" | "shred" | "mkdir" | "sudoedit" | "mknod" | "mkfifo" | "fallocate" => {
                let parsed = Args::parse(
                    inv.args,
                    "sdtrmnlo",
                    &[
                        "size",
                        "reference",
                        "date",
                        "time",
                        "mode",
                        "iterations",
                        "random-source",
                        "context",
                        "length",
                        "offset",
                    ],
                );
                for target in parsed.operands {
                    self.write(target, &cmd.cwd, &format!("`{p}`"));
                }
            }
            "vi" | "vim" | "nvim" | "nano" | "emacs" | "ed" | "ex" | "pico" | "micro" | "joe" | "code" | "subl" => {
                let parsed = Args::parse(inv.args, "cSuT", &["cmd"]);
                for target in parsed.operands.iter().filter(|w| !w.text.starts_with('+')) {
                    self.write(target, &cmd.cwd, &format!("`{p}`"));
                }
            }
            "dd" => {
                for arg in inv.args {
                    if let Some(target) = arg.text.strip_prefix("of=") {
                        let word = Word { text: target.to_string(), ..arg.clone() };
                        self.write(&word, &cmd.cwd, "`dd`");
                    }
                }
            }
            "chmod" | "chown" | "chgrp" | "chattr" | "setfacl" => self.permissions(inv, cmd),
            "tar" | "bsdtar" | "unzip" | "7z" | "cpio" => self.extract(inv, cmd),
            "find" => self.find(inv, cmd, script),
            "git" => self.git(inv, cmd, script),
            "curl" | "wget" => self.download(inv, cmd),
            "eval" => {
                let word = joined(inv.args);
                self.code_word(&word, Lang::Shell, cmd, script, "eval");
            }
            "source" | "." => self.run_file(inv, Lang::Shell, cmd, script),
            "at" | "batch" => {
                if let Some(text) = self.stdin_text(cmd, script, p, Lang::Shell) {
                    self.text(&text, &cmd.cwd, cmd.depth + 1);
                }
            }
            // Code that runs later or elsewhere: `trap 'cmd' EXIT`, `alias ls='cmd'`.
            "trap" => {
                if let Some(code) = inv.args.iter().find(|w| !w.text.starts_with('-')) {
                    self.code_word(code, Lang::Shell, cmd, script, "trap");
                }
            }
            "alias" => {
                for arg in inv.args {
                    if let Some((_, value)) = arg.text.split_once('=') {
                        let code = Word { text: value.to_string(), ..arg.clone() };
                        self.code_word(&code, Lang::Shell, cmd, script, "alias");
                    }
                }
            }
            "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => {
                // The program is the first operand unless `-f` names a file.
                let parsed = Args::parse(inv.args, "Ffv", &["field-separator", "file", "assign"]);
                if !parsed.has('f')
                    && !parsed.has_long("file")
                    && let Some(program) = parsed.operands.first()
                {
                    self.code_word(program, Lang::Interpreter, cmd, script, p);
                }
            }
            "cmd" => {
                // `cmd /c rd /s /q C:\`: the rest of the line is a command.
                if let Some(k) =
                    inv.args.iter().position(|w| w.text.eq_ignore_ascii_case("/c") || w.text.eq_ignore_ascii_case("/k"))
                {
                    // cmd's syntax, not bash's: backslashes separate paths there.
                    let mut code = joined(&inv.args[k + 1..]);
                    code.text = code.text.replace('\\', "/");
                    self.code_word(&code, Lang::Shell, cmd, script, "cmd");
                }
            }
            _ if named(&rules.shells, p) => self.shell(inv, cmd, script),
            _ if rules.interpreters.iter().any(|i| named(&i.programs, p)) => self.interpreter(inv, cmd, script),
            _ if named(&rules.data_clients, p) => {
                // `psql -c"DROP …"`: an option's value glued to it is a statement of its own.
                let mut statements = inv
                    .args
                    .iter()
                    .map(|w| match w.text.get(..2) {
                        Some(flag) if flag.starts_with('-') && flag != "--" && w.text.len() > 2 => {
                            format!("{flag} {}", &w.text[2..])
                        }
                        _ => w.text.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some(text) = self.stdin_text(cmd, script, p, Lang::Data) {
                    statements.push('\n');
                    statements.push_str(&text);
                }
                let sql = named(&rules.sql_clients, p);
                self.data(&statements, sql);
            }
            _ => {}
        }
    }

    /// The rules' per-program rules, on the resolved argv.
    fn program_rules(&mut self, inv: &Invocation) {
        let mut argv = inv.program.clone();
        for a in inv.args {
            argv.push(' ');
            argv.push_str(&a.text);
        }
        for rule in &self.g.program_rules {
            if rule.matches(&inv.program, &argv) {
                let message = rule.rule.message.replace("{{argv}}", &shorten(&argv));
                match rule.rule.decision {
                    RuleDecision::Deny => self.out.deny(&rule.rule.name, message),
                    RuleDecision::Ask => self.out.ask(&rule.rule.name, message),
                    RuleDecision::Warn => self.out.warn(message),
                }
            }
        }
    }

    /// `sudo`, `doas`, `su`: strip a plain one (when the rules say so), else ask.
    fn elevation(&mut self, inv: &Invocation, cmd: &Cmd) {
        for e in &inv.elevation {
            let strip = self.g.rules.sudo == SudoPolicy::Strip && e.plain && !inv.program.is_empty();
            match e.span {
                Some(span) if strip => self.out.strip.push(span),
                _ => {
                    let what =
                        if inv.program.is_empty() { "a shell".to_string() } else { format!("`{}`", inv.program) };
                    let depth = if cmd.depth > 0 { " inside a nested command" } else { "" };
                    self.out.ask("privileges", format!("runs {what} as `{}`{depth}", e.how));
                }
            }
        }
    }

    // --- deleting and writing ------------------------------------------------------------------

    fn delete(&mut self, inv: &Invocation, cmd: &Cmd) {
        let windows = matches!(inv.program.as_str(), "del" | "erase" | "rd" | "remove-item");
        let (recursive, targets): (bool, Vec<&Word>) = if windows {
            let switch = |w: &&Word| w.text.starts_with('/') && w.text.len() <= 3 || w.text.starts_with('-');
            let recursive = inv.args.iter().any(|w| {
                let t = w.text.to_ascii_lowercase();
                t == "/s" || t.starts_with("-r")
            });
            (recursive, inv.args.iter().filter(|w| !switch(w)).collect())
        } else {
            let parsed = Args::parse(inv.args, "", &["interactive", "one-file-system"]);
            if parsed.has_long("no-preserve-root") {
                self.out.deny("recursive_delete", "`--no-preserve-root` removes the protection of `/`".into());
            }
            let recursive = match inv.program.as_str() {
                "rimraf" | "trash" => true,
                "rmdir" | "unlink" => false,
                _ => parsed.has('r') || parsed.has('R') || parsed.has_long("recursive"),
            };
            (recursive, parsed.operands)
        };
        if recursive && inv.unknown_args {
            self.out
                .ask("recursive_delete", format!("`{}` deletes recursively paths only known at run time", inv.program));
        }
        let what = format!("`{}` deletes", inv.program);
        for target in targets {
            self.remove(target, &cmd.cwd, recursive, &what);
        }
    }

    /// Remove (`what` = "deletes") or recursively change (`chmod -R`) `target`.
    fn remove(&mut self, target: &Word, cwd: &Loc, recursive: bool, what: &str) {
        let here = cwd.canonical(&self.g.homes);
        if let Some(dir) = known_dir(target) {
            let loc = cwd.join(dir).canonical(&self.g.homes);
            if let Some(p) = self.g.protected_hit(&loc) {
                return self
                    .out
                    .deny("protected_path", format!("{what} `{}`, inside the protected `{p}`", target.text));
            }
        }
        if target.dynamic || cwd.anchor == Anchor::Unknown {
            if recursive {
                let shown = shorten(&target.text);
                self.out
                    .ask("recursive_delete", format!("{what} `{shown}` recursively, a path only known at run time"));
            }
            return;
        }
        for value in target.values() {
            let loc = cwd.join(value).canonical(&self.g.homes);
            let shown = loc.display();
            if let Some(p) = self.g.protected_hit(&loc) {
                self.out.deny("protected_path", format!("{what} `{shown}`, inside the protected `{p}`"));
                continue;
            }
            if !recursive {
                continue;
            }
            if let Some(p) = self.g.protected_inside(&loc) {
                self.out
                    .deny("recursive_delete", format!("{what} `{shown}` recursively, which holds the protected `{p}`"));
            } else if self.g.is_broad(&loc) || loc.climbs > 0 && loc.anchor != Anchor::Project {
                self.out.deny("recursive_delete", format!("{what} `{shown}` recursively: far too broad"));
            } else if target.glob && self.glob_of_broad(&loc) {
                self.out.ask("recursive_delete", format!("{what} everything in `{shown}`"));
            } else if loc.anchor == Anchor::Project && loc.climbs > 0 {
                self.out.ask("outside_project", format!("{what} `{value}` recursively, outside the working directory"));
            } else if loc.parts.last().is_some_and(|p| p == ".git") {
                self.out.ask("recursive_delete", format!("{what} `{shown}`: the repository's whole history"));
            } else if loc.anchor == Anchor::Root
                && !TEMP_DIRS.iter().any(|t| {
                    let t: Vec<&str> = t.split('/').collect();
                    loc.parts.len() > t.len() && loc.parts.iter().zip(&t).all(|(p, t)| p == t)
                })
                && !(here.anchor == Anchor::Root && loc.parts.starts_with(&here.parts) && !here.parts.is_empty())
            {
                self.out.ask("system_directory", format!("{what} `{shown}` recursively, a system directory"));
            } else if what.contains("delete")
                && loc.anchor == here.anchor
                && loc.climbs == here.climbs
                && here.parts.starts_with(&loc.parts)
            {
                self.out.ask("recursive_delete", format!("{what} the working directory `{shown}` itself"));
            }
        }
    }

    /// A glob whose directory is a broad one (`/tmp/*`).
    fn glob_of_broad(&self, loc: &Loc) -> bool {
        let mut parent = loc.clone();
        // Everything in it (`/tmp/*`, `~/.*`), not a name pattern (`/tmp/cb-*`).
        let everything = parent.parts.pop().is_some_and(|last| last.chars().all(|c| matches!(c, '*' | '?' | '.')));
        everything && self.g.is_broad(&parent)
    }

    /// A write to `target` (`by` says what writes, for the reason).
    fn write(&mut self, target: &Word, cwd: &Loc, by: &str) {
        // A target only known at run time is not judged, but a known directory part is.
        let values: Vec<&str> = match known_dir(target) {
            Some(dir) if target.dynamic => vec![dir],
            _ if target.dynamic => return,
            _ => target.values().collect(),
        };
        for value in values {
            if value == "-" || cwd.anchor == Anchor::Unknown && !value.starts_with(['/', '~']) {
                continue;
            }
            if !target.dynamic && !target.glob {
                self.out.wrote(&cwd.join(value));
            }
            let loc = cwd.join(value).canonical(&self.g.homes);
            if let Some(p) = self.g.protected_hit(&loc) {
                self.out.deny("protected_path", format!("{by} writes `{}`, inside the protected `{p}`", loc.display()));
            } else if loc.anchor == Anchor::Project && loc.climbs > 0 {
                self.out.ask("outside_project", format!("{by} writes `{value}`, outside the working directory"));
            } else if git_internals(&loc) {
                self.out
                    .ask("git_hooks", format!("{by} writes `{value}`: git runs what it says on later git commands"));
            }
        }
    }

    fn copy(&mut self, inv: &Invocation, cmd: &Cmd) {
        let p = inv.program.as_str();
        let (short, long): (&str, &[&str]) = match p {
            "install" => ("gmoStT", &["group", "mode", "owner", "suffix", "target-directory"]),
            "scp" => ("cFiJlLoPS", &[]),
            "rsync" => (
                "eBfTM",
                &[
                    "rsh",
                    "exclude",
                    "include",
                    "filter",
                    "temp-dir",
                    "compare-dest",
                    "copy-dest",
                    "link-dest",
                    "files-from",
                    "exclude-from",
                    "include-from",
                    "chmod",
                    "chown",
                    "rsync-path",
                    "log-file",
                    "partial-dir",
                    "backup-dir",
                    "suffix",
                ],
            ),
            _ => ("St", &["suffix", "target-directory", "backup"]),
        };
        let parsed = Args::parse(inv.args, short, long);
        let explicit = parsed.value('t', "target-directory");
        let operands = &parsed.operands;
        let dest: Option<Word> = match explicit.clone() {
            Some(dir) => Some(Word { text: dir, ..Word::default() }),
            None if operands.len() >= 2 || p == "ln" && operands.len() == 2 => operands.last().map(|w| (*w).clone()),
            None => None,
        };
        let sources = match (&explicit, operands.split_last()) {
            (Some(_), _) => &operands[..],
            (None, Some((_, rest))) => rest,
            (None, None) => &[][..],
        };
        if p == "mv" || p == "gmv" {
            // Moving something away removes it from where it was.
            // Moving a directory away removes everything in it, like deleting it.
            for source in sources {
                self.remove(source, &cmd.cwd, !source.dynamic, "`mv` moves away (deletes)");
            }
        }
        let Some(dest) = dest else { return };
        if matches!(p, "rsync" | "scp") && remote(&dest.text) {
            // Copying a protected file to another machine (`scp ~/.ssh/id_rsa host:`).
            for source in sources.iter().filter(|w| !w.dynamic) {
                let loc = cmd.cwd.join(&source.text).canonical(&self.g.homes);
                if let Some(at) = self.g.protected_hit(&loc) {
                    self.out.deny(
                        "exfiltration",
                        format!("`{p}` sends `{}` (under the protected `{at}`) away", loc.display()),
                    );
                }
            }
            return;
        }
        if p == "ln" && operands.len() < 2 {
            return;
        }
        self.write(&dest, &cmd.cwd, &format!("`{p}`"));
        if p == "rsync" && parsed.opts.iter().any(|(o, _)| o.starts_with("delete")) {
            self.remove(&dest, &cmd.cwd, true, "`rsync --delete` deletes in");
        }
    }

    fn sed(&mut self, inv: &Invocation, cmd: &Cmd) {
        let parsed = Args::parse(inv.args, "efl", &["expression", "file", "line-length"]);
        if !(parsed.has('i') || parsed.opts.iter().any(|(o, _)| o == "in-place")) {
            return;
        }
        let script_given =
            parsed.has('e') || parsed.has('f') || parsed.has_long("expression") || parsed.has_long("file");
        let files = if script_given { &parsed.operands[..] } else { parsed.operands.get(1..).unwrap_or(&[]) };
        for file in files {
            self.write(file, &cmd.cwd, "`sed -i`");
        }
    }

    fn permissions(&mut self, inv: &Invocation, cmd: &Cmd) {
        // `chmod -x file`: a mode, not an option.
        let mode = |w: &Word| inv.program == "chmod" && is_mode(&w.text);
        let args: Vec<Word> = inv
            .args
            .iter()
            .map(|w| if mode(w) { Word { text: format!("={}", w.text), ..w.clone() } } else { w.clone() })
            .collect();
        let parsed = Args::parse(&args, "", &["reference", "from"]);
        let recursive = parsed.has('R') || parsed.has_long("recursive");
        let skip = usize::from(parsed.value('\0', "reference").is_none() && inv.program != "chattr");
        let what = format!("`{}{}` changes", inv.program, if recursive { " -R" } else { "" });
        for target in parsed.operands.iter().skip(skip) {
            if recursive {
                self.remove(target, &cmd.cwd, true, &what);
            } else {
                self.write(target, &cmd.cwd, &format!("`{}`", inv.program));
                let loc = cmd.cwd.join(&target.text).canonical(&self.g.homes);
                if !target.dynamic
                    && loc.anchor == Anchor::Root
                    && let Some(p) = self.g.protected_inside(&loc)
                {
                    self.out
                        .deny("protected_path", format!("{what} `{}`, which holds the protected `{p}`", loc.display()));
                }
            }
        }
    }

    fn extract(&mut self, inv: &Invocation, cmd: &Cmd) {
        let mut args = inv.args.to_vec();
        if let Some(first) = args.first_mut().filter(|w| inv.program == "tar" && !w.text.starts_with('-')) {
            // Old-style `tar xzf file`.
            first.text.insert(0, '-');
        }
        let parsed = Args::parse(&args, "CfbFgHILKNTVXd", &["directory", "file", "exclude", "files-from"]);
        let extracting = match inv.program.as_str() {
            "tar" | "bsdtar" => parsed.has('x') || parsed.has_long("extract") || parsed.has_long("get"),
            _ => true,
        };
        if !extracting {
            return;
        }
        let dir = match inv.program.as_str() {
            "unzip" => parsed.value('d', "\0"),
            _ => parsed.value('C', "directory"),
        };
        if let Some(dir) = dir {
            let word = Word { text: dir, ..Word::default() };
            self.write(&word, &cmd.cwd, &format!("`{}` extracting into it", inv.program));
            let loc = cmd.cwd.join(&word.text).canonical(&self.g.homes);
            if let Some(p) = self.g.protected_inside(&loc) {
                self.out.ask(
                    "protected_path",
                    format!("`{}` extracts into `{}`, over the protected `{p}`", inv.program, loc.display()),
                );
            }
        }
    }

    fn find(&mut self, inv: &Invocation, cmd: &Cmd, script: &Script) {
        let args = inv.args;
        let start_end = args.iter().position(|w| w.text.starts_with(['-', '(', '!'])).unwrap_or(args.len());
        let starts: Vec<&Word> = if start_end == 0 { Vec::new() } else { args[..start_end].iter().collect() };
        let dot = Word { text: ".".into(), ..Word::default() };
        let starts = if starts.is_empty() { vec![&dot] } else { starts };
        const NOT_FILTERS: [&str; 9] =
            ["-delete", "-depth", "-maxdepth", "-mindepth", "-xdev", "-mount", "-print", "-print0", "-follow"];
        let rest = &args[start_end..];
        let filtered = rest.iter().any(|w| {
            w.text.starts_with('-')
                && !NOT_FILTERS.contains(&w.text.as_str())
                && !w.text.starts_with("-exec")
                && !w.text.starts_with("-ok")
        });
        let mut i = 0;
        while i < rest.len() {
            let t = rest[i].text.as_str();
            match t {
                "-delete" => {
                    for start in &starts {
                        self.found_under(start, &cmd.cwd, "`find -delete` deletes");
                        if filtered {
                            let found = Word { text: format!("{}/*", start.text), glob: true, ..(*start).clone() };
                            self.remove(&found, &cmd.cwd, false, "`find -delete` deletes");
                        } else {
                            self.remove(start, &cmd.cwd, true, "`find -delete` deletes");
                        }
                    }
                }
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let end = rest[i + 1..]
                        .iter()
                        .position(|w| w.text == ";" || w.text == "+")
                        .map_or(rest.len(), |k| i + 1 + k);
                    for start in &starts {
                        // `{}` is each file found under the start path.
                        let words: Vec<Word> = rest[i + 1..end]
                            .iter()
                            .map(|w| {
                                if w.text.contains("{}") {
                                    let text = w.text.replace("{}", &format!("{}/*", start.text));
                                    Word { text, glob: true, ..w.clone() }
                                } else {
                                    w.clone()
                                }
                            })
                            .collect();
                        let sub = resolve(&words);
                        self.invocation(&sub, cmd, script);
                        if DESTRUCTIVE.contains(&sub.program.as_str()) {
                            self.found_under(start, &cmd.cwd, &format!("`find` runs `{}` on", sub.program));
                        }
                    }
                    i = end;
                }
                "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                    if let Some(target) = rest.get(i + 1) {
                        self.write(target, &cmd.cwd, "`find`");
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Files found under `start` get deleted or changed: asked when protected paths are
    /// among them (`find / -name '*.log' -delete`).
    fn found_under(&mut self, start: &Word, cwd: &Loc, what: &str) {
        if start.dynamic {
            return;
        }
        let loc = cwd.join(&start.text).canonical(&self.g.homes);
        if let Some(p) = self.g.protected_inside(&loc) {
            self.out
                .ask("find_delete", format!("{what} files found anywhere under `{}`, `{p}` included", loc.display()));
        }
    }

    fn git(&mut self, inv: &Invocation, cmd: &Cmd, script: &Script) {
        let parsed = Args::parse(inv.args, "Cc", &["git-dir", "work-tree"]);
        // Settings whose value git runs: `-c core.pager=…`, `git config alias.x '!…'`.
        for (o, v) in &parsed.opts {
            if let (Some(value), true) = (v, o == "c")
                && let Some((key, value)) = value.split_once('=')
            {
                self.git_setting(key, value, cmd, script);
            }
        }
        if let Some(k) = inv.args.iter().position(|w| w.text == "config")
            && parsed.operands.first().is_some_and(|w| w.text == "config")
        {
            let config = Args::parse(&inv.args[k + 1..], "f", &["file", "blob", "type", "default", "comment"]);
            let reads = config.opts.iter().any(|(o, _)| {
                o.starts_with("get") || o.starts_with("unset") || o.contains("section") || o == "list" || o == "l"
            });
            let mut ops: Vec<&Word> = config.operands.clone();
            if ops.first().is_some_and(|w| w.text == "set") {
                ops.remove(0);
            }
            if !reads && ops.len() >= 2 {
                let value = ops[1..].iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
                self.git_setting(&ops[0].text, &value, cmd, script);
            }
        }
        if parsed.operands.first().is_some_and(|w| w.text == "clean") && (parsed.has('f') || parsed.has_long("force")) {
            let cwd = cmd.cwd.canonical(&self.g.homes);
            if self.g.is_broad(&cwd) || self.g.protected_inside(&cwd).is_some() {
                self.out.deny(
                    "git_clean",
                    format!("`git clean` deletes untracked files everywhere under `{}`", cwd.display()),
                );
            } else if parsed.has('x') {
                self.out.warn("Warning: `git clean -x` also deletes ignored files (builds, .env)".into());
            }
        }
    }

    /// A git setting `key = value`: a value git runs as a command is judged as one; hooks
    /// taken from outside the working directory are asked.
    fn git_setting(&mut self, key: &str, value: &str, cmd: &Cmd, script: &Script) {
        let key = key.to_ascii_lowercase();
        let dynamic = value.contains(shell::UNKNOWN);
        if key == "core.hookspath" {
            let loc = cmd.cwd.join(value).canonical(&self.g.homes);
            let here = cmd.cwd.canonical(&self.g.homes);
            let inside = loc.anchor == here.anchor && loc.climbs == here.climbs && loc.parts.starts_with(&here.parts);
            if dynamic || !inside {
                self.out.ask("git_hooks", format!("git would run hooks from `{value}`, outside the working directory"));
            }
            return;
        }
        let code = if key.starts_with("alias.") {
            value.strip_prefix('!')
        } else if GIT_COMMAND_KEYS.contains(&key.as_str())
            || key.starts_with("pager.")
            || [".command", ".cmd", ".textconv", ".clean", ".smudge", ".process", ".helper", ".program", ".tool"]
                .iter()
                .any(|s| key.ends_with(s))
        {
            Some(value.strip_prefix('!').unwrap_or(value))
        } else {
            None
        };
        if let Some(code) = code {
            let word = Word { text: code.to_string(), dynamic, ..Word::default() };
            self.code_word(&word, Lang::Shell, cmd, script, "git");
        }
    }

    /// `make -f -`: a makefile read from the input runs its recipes (and `--eval` text).
    fn make(&mut self, inv: &Invocation, cmd: &Cmd, script: &Script) {
        let parsed = Args::parse(
            inv.args,
            "fCIjlowWE",
            &["file", "makefile", "directory", "include-dir", "jobs", "load-average", "old-file", "eval"],
        );
        for (o, v) in &parsed.opts {
            let Some(v) = v else { continue };
            match o.as_str() {
                "f" | "file" | "makefile" if matches!(v.as_str(), "-" | "/dev/stdin" | "/dev/fd/0") => {
                    match self.stdin_text(cmd, script, &inv.program, Lang::Shell) {
                        Some(text) => self.recipes(&text, cmd),
                        None => self
                            .out
                            .ask("dynamic_code", format!("`{}` runs a makefile read from its input", inv.program)),
                    }
                }
                "f" | "file" | "makefile" => {
                    let word = Word { text: v.clone(), dynamic: v.contains(shell::UNKNOWN), ..Word::default() };
                    self.script_file(&word, &inv.program, cmd, script);
                }
                "E" | "eval" => self.recipes(v, cmd),
                _ => {}
            }
        }
    }

    /// The recipes of makefile text, judged as shell commands.
    fn recipes(&mut self, text: &str, cmd: &Cmd) {
        for line in text.lines() {
            let recipe = match line.strip_prefix('\t') {
                Some(r) => r,
                // `target: prerequisites ; recipe`
                None => match (line.find(':'), line.find(';')) {
                    (Some(colon), Some(semi)) if colon < semi => &line[semi + 1..],
                    _ => continue,
                },
            };
            let recipe = recipe.trim_start_matches(['@', '-', '+', ' ']).replace("$(shell ", "$(").replace("$$", "$");
            self.text(&recipe, &cmd.cwd, cmd.depth + 1);
        }
    }

    fn download(&mut self, inv: &Invocation, cmd: &Cmd) {
        const LONG: [&str; 17] = [
            "output",
            "output-document",
            "directory-prefix",
            "data",
            "data-binary",
            "data-raw",
            "data-urlencode",
            "form",
            "header",
            "user",
            "request",
            "user-agent",
            "referer",
            "config",
            "upload-file",
            "post-file",
            "body-file",
        ];
        let short = if inv.program == "curl" { "odHXuAeErTFKbcw" } else { "OPeTUo" };
        let parsed = Args::parse(inv.args, short, &LONG);
        let target = match inv.program.as_str() {
            "curl" => parsed.value('o', "output"),
            _ => parsed.value('O', "output-document").or_else(|| parsed.value('P', "directory-prefix")),
        };
        if let Some(target) = target {
            self.downloaded.insert(cmd.cwd.join(&target));
            self.write(&Word { text: target, ..Word::default() }, &cmd.cwd, &format!("`{}`", inv.program));
        } else if let Some(url) = parsed
            .operands
            .first()
            .filter(|_| inv.program == "wget" || parsed.has('O') || parsed.has_long("remote-name"))
        {
            // `wget URL`, `curl -O URL`: saved under the URL's last component.
            let name = url.text.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
            if !name.is_empty() && !url.dynamic {
                self.downloaded.insert(cmd.cwd.join(name));
            }
        }
        // Sending a protected file away (`-T ~/.ssh/id_rsa`, `-F f=@/etc/shadow`).
        let uploads = parsed.opts.iter().filter_map(|(o, v)| {
            let v = v.as_deref()?;
            match o.as_str() {
                "T" | "upload-file" | "post-file" | "body-file" => Some(v),
                _ => v.split_once('@').map(|(_, path)| path).filter(|p| !p.is_empty()),
            }
        });
        for upload in uploads.collect::<Vec<_>>() {
            let loc = cmd.cwd.join(upload).canonical(&self.g.homes);
            if let Some(p) = self.g.protected_hit(&loc) {
                self.out.deny(
                    "exfiltration",
                    format!("`{}` sends `{}` (under the protected `{p}`) away", inv.program, loc.display()),
                );
            }
        }
    }

    // --- code: shells, interpreters, databases -------------------------------------------------

    fn shell(&mut self, inv: &Invocation, cmd: &Cmd, script: &Script) {
        let (i, opts) = options(inv.args, 0, "oO", &["rcfile", "init-file"]);
        let runs_string = opts.iter().any(|(o, _)| o == "c" || o == "command");
        match inv.args.get(i) {
            Some(code) if runs_string => self.code_word(code, Lang::Shell, cmd, script, &inv.program),
            Some(file) if file.text != "-" && !opts.iter().any(|(o, _)| o == "s") => {
                self.script_file(file, &inv.program, cmd, script)
            }
            _ => {
                if let Some(text) = self.stdin_text(cmd, script, &inv.program, Lang::Shell) {
                    self.text(&text, &cmd.cwd, cmd.depth + 1);
                }
            }
        }
    }

    fn interpreter(&mut self, inv: &Invocation, cmd: &Cmd, script: &Script) {
        let flags = &self
            .g
            .rules
            .interpreters
            .iter()
            .find(|i| named(&i.programs, &inv.program))
            .map(|i| i.code_flags.clone())
            .unwrap_or_default();
        let args = inv.args;
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            let flag = flags.iter().find(|f| {
                t == f.as_str()
                    || t.strip_prefix('-').is_some_and(|cluster| {
                        !cluster.starts_with('-')
                            && f.len() == 2
                            && cluster.ends_with(&f[1..])
                            && cluster.chars().all(|c| c.is_ascii_alphabetic())
                    })
            });
            if let Some(_flag) = flag {
                if let Some(code) = args.get(i + 1) {
                    self.code_word(code, Lang::Interpreter, cmd, script, &inv.program);
                    if inv.program == "perl"
                        && args[..i + 1]
                            .iter()
                            .any(|w| w.text.starts_with('-') && !w.text.starts_with("--") && w.text.contains('i'))
                    {
                        for file in args[i + 2..].iter().filter(|w| !w.text.starts_with('-')) {
                            self.write(file, &cmd.cwd, "`perl -i`");
                        }
                    }
                }
                return;
            }
            if let Some((_, inline)) =
                flags.iter().find_map(|f| t.strip_prefix(f.as_str()).map(|rest| (f, rest))).filter(|(f, rest)| {
                    !rest.is_empty()
                        && (f.starts_with("--") && rest.starts_with('=')
                            || f.len() == 2 && inv.program.starts_with("python"))
                })
            {
                let code = Word { text: inline.trim_start_matches('=').to_string(), ..args[i].clone() };
                return self.code_word(&code, Lang::Interpreter, cmd, script, &inv.program);
            }
            if t == "-m" || t.starts_with("-m") && inv.program.starts_with("python") {
                return; // a module: `python -m pytest`
            }
            if !t.starts_with('-') {
                return self.script_file(&args[i], &inv.program, cmd, script);
            }
            if t == "-" {
                break;
            }
            i += 1;
        }
        if let Some(text) = self.stdin_text(cmd, script, &inv.program, Lang::Interpreter) {
            self.interpreter_code(&text, cmd, script);
        }
    }

    /// Shell code, interpreter code or statements given as one word (`-c`, `-e`, `eval`).
    fn code_word(&mut self, word: &Word, lang: Lang, cmd: &Cmd, script: &Script, program: &str) {
        if self.fetched(&word.subs, script) {
            return self
                .out
                .ask("download_exec", format!("`{program}` runs code that is downloaded or decoded at run time"));
        }
        if word.dynamic {
            return self.out.ask(
                "dynamic_code",
                format!("`{program}` runs code only known at run time: `{}`", shorten(&word.text)),
            );
        }
        match lang {
            Lang::Shell => self.text(&word.text, &cmd.cwd, cmd.depth + 1),
            Lang::Interpreter => self.interpreter_code(&word.text, cmd, script),
            Lang::Data => self.data(&word.text, false),
        }
    }

    /// A script run from a file: a process substitution of downloaded data, or a file
    /// downloaded earlier in the command, is `ask`.
    fn script_file(&mut self, file: &Word, program: &str, cmd: &Cmd, script: &Script) {
        if !file.dynamic && self.downloaded.contains(&cmd.cwd.join(&file.text)) {
            self.out.ask("download_exec", format!("`{program}` runs `{}`, downloaded by this command", file.text));
        } else if file.process && self.fetched(&file.subs, script) {
            self.out
                .ask("download_exec", format!("`{program}` runs a script that is downloaded or decoded at run time"));
        } else if file.dynamic && !file.process {
            self.out.ask(
                "dynamic_code",
                format!("`{program}` runs a script only known at run time: `{}`", shorten(&file.text)),
            );
        }
    }

    fn run_file(&mut self, inv: &Invocation, lang: Lang, cmd: &Cmd, script: &Script) {
        match inv.args.first() {
            Some(file) if !matches!(file.text.as_str(), "/dev/stdin" | "-") => {
                self.script_file(file, &inv.program, cmd, script)
            }
            _ => {
                if let Some(text) = self.stdin_text(cmd, script, &inv.program, lang) {
                    self.text(&text, &cmd.cwd, cmd.depth + 1);
                }
            }
        }
    }

    fn interpreter_code(&mut self, text: &str, cmd: &Cmd, _script: &Script) {
        let depth = cmd.depth + 1;
        if depth > self.g.rules.max_depth {
            return self.out.ask("nested", "interpreter code nested too deeply".into());
        }
        let found = code::scan(text);
        for command in &found.shell {
            self.text(command, &cmd.cwd, depth);
        }
        if found.dynamic_exec {
            self.out.ask("interpreter_code", "the code runs a shell command built at run time".into());
        }
        if found.decoded_exec {
            self.out.ask("interpreter_code", "the code decodes data and executes it".into());
        }
        if found.downloaded_exec {
            self.out.ask("download_exec", "the code downloads code and executes it".into());
        }
        for path in &found.written {
            self.write(&Word { text: path.clone(), ..Word::default() }, &cmd.cwd, "the code");
        }
        if found.recursive_delete {
            for path in &found.deleted {
                self.remove(&Word { text: path.clone(), ..Word::default() }, &cmd.cwd, true, "the code deletes");
            }
            if !found.deletes_literal {
                self.out.ask("interpreter_code", "the code deletes files recursively".into());
            }
        }
    }

    fn data(&mut self, statements: &str, sql: bool) {
        // SQL string literals are data (`… LIKE '%DROP TABLE%'`), unless the statements run
        // strings as statements (`EXECUTE 'DROP …'`).
        let stripped;
        let statements = if sql && !SQL_DYNAMIC.is_match(statements) {
            stripped = SQL_STRING.replace_all(statements, "''");
            stripped.as_ref()
        } else {
            statements
        };
        for re in &self.g.data_wipes {
            if let Some(m) = re.find(statements) {
                self.out.deny("data_wipe", format!("destroys data: `{}`", shorten(m.as_str().trim())));
                return;
            }
        }
    }

    /// The text a program reads on stdin when it is known; `ask` (and `None`) when it is
    /// downloaded, decoded or computed.
    fn stdin_text(&mut self, cmd: &Cmd, script: &Script, program: &str, lang: Lang) -> Option<String> {
        let mut texts = Vec::new();
        for input in &cmd.stdin {
            let (from, text) = match input {
                Stdin::Text(word) => (&word.subs, (!word.dynamic).then(|| word.text.clone())),
                Stdin::Pipe(upstream) => (upstream, literal_output(upstream, script)),
            };
            if self.fetched(from, script) {
                let what = if lang == Lang::Data { "statements" } else { "code" };
                self.out
                    .ask("download_exec", format!("`{program}` runs {what} that is downloaded or decoded at run time"));
                return None;
            }
            match (input, text) {
                (_, Some(text)) => texts.push(text),
                (Stdin::Text(word), None) => {
                    self.out.ask(
                        "dynamic_code",
                        format!("`{program}` reads code only known at run time: `{}`", shorten(&word.text)),
                    );
                }
                // Piped output of a local program (`cat script.sh | sh`): like running a file.
                (Stdin::Pipe(_), None) => {}
            }
        }
        (!texts.is_empty()).then(|| texts.join("\n"))
    }

    /// Whether any of `cmds`, or what feeds them, fetches or decodes data.
    fn fetched(&self, cmds: &[usize], script: &Script) -> bool {
        let fed = script.fed.get_or_init(|| self.feeds(script));
        cmds.iter().any(|&i| fed.get(i).copied().unwrap_or(false))
    }

    /// For every command of `script`: whether it fetches or decodes data, or is fed by one
    /// that does (through pipes, here-docs or substitutions). Linear: each command once.
    fn feeds(&self, script: &Script) -> Vec<bool> {
        let n = script.cmds.len();
        let rules = &self.g.rules;
        // Who each command feeds (the reverse of "is fed by").
        let mut feeds: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut fed = vec![false; n];
        let mut todo = Vec::new();
        for (i, cmd) in script.cmds.iter().enumerate() {
            let inv = resolve(&cmd.words);
            if named(&rules.fetchers, &inv.program) || named(&rules.decoders, &inv.program) {
                fed[i] = true;
                todo.push(i);
            }
            let inputs = cmd.stdin.iter().flat_map(|s| match s {
                Stdin::Pipe(up) => up.iter(),
                Stdin::Text(w) => w.subs.iter(),
            });
            for &j in inputs.chain(cmd.words.iter().flat_map(|w| w.subs.iter())) {
                if let Some(list) = feeds.get_mut(j) {
                    list.push(i);
                }
            }
        }
        while let Some(j) = todo.pop() {
            for &i in &feeds[j] {
                if !fed[i] {
                    fed[i] = true;
                    todo.push(i);
                }
            }
        }
        fed
    }
}

static SQL_STRING: LazyLock<Regex> = LazyLock::new(|| Regex::new("'(?:[^']|'')*'").expect("a constant pattern"));
static SQL_DYNAMIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(execute|exec|prepare|sp_executesql|dblink_exec|query_to_xml)\b|\$\$|\$\w+\$")
        .expect("a constant pattern")
});

/// Git settings whose value git runs as a command.
const GIT_COMMAND_KEYS: [&str; 12] = [
    "core.sshcommand",
    "core.pager",
    "core.editor",
    "core.askpass",
    "core.fsmonitor",
    "core.gitproxy",
    "sequence.editor",
    "diff.external",
    "gpg.program",
    "credential.helper",
    "ssh.variant",
    "uploadpack.packobjectshook",
];

/// Top-level directories whose contents are temporary.
const TEMP_DIRS: [&str; 7] =
    ["tmp", "var/tmp", "dev/shm", "private/tmp", "private/var/folders", "var/folders", "run/user"];

/// A path git itself runs or reads as configuration: `.git/hooks/*`, `.git/config`.
fn git_internals(loc: &Loc) -> bool {
    loc.parts.windows(2).any(|w| w[0] == ".git" && (w[1] == "hooks" || w[1] == "config"))
}

/// Programs that destroy or change the files `find -exec` hands them.
const DESTRUCTIVE: [&str; 9] = ["rm", "unlink", "shred", "rmdir", "truncate", "mv", "chmod", "chown", "dd"];

/// What `echo`/`printf` with literal arguments (or `cat` of a here-doc) prints, when the last
/// command of `upstream` is one.
fn literal_output(upstream: &[usize], script: &Script) -> Option<String> {
    let cmd = upstream.iter().rev().filter_map(|&i| script.cmds.get(i)).find(|c| !c.words.is_empty())?;
    let inv = resolve(&cmd.words);
    if inv.args.iter().any(|w| w.dynamic) {
        return None;
    }
    match inv.program.as_str() {
        "echo" => {
            let flags =
                inv.args.iter().take_while(|w| matches!(w.text.as_str(), "-n" | "-e" | "-E" | "-ne" | "-en")).count();
            let text = inv.args[flags..].iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            let decode = inv.args[..flags].iter().any(|w| w.text.contains('e'));
            Some(if decode { shell::ansi_c(&text) } else { text })
        }
        "printf" => {
            let (format, rest) = inv.args.split_first()?;
            let mut text = shell::ansi_c(&format.text);
            for arg in rest {
                text = text.replacen("%s", &arg.text, 1).replacen("%b", &shell::ansi_c(&arg.text), 1);
            }
            Some(text)
        }
        "cat" if inv.args.is_empty() => cmd.stdin.iter().find_map(|s| match s {
            Stdin::Text(w) if !w.dynamic => Some(w.text.clone()),
            _ => None,
        }),
        _ => None,
    }
}

/// The directory part of a word known before its first unknown part (`/etc/` of `/etc/$X`).
fn known_dir(word: &Word) -> Option<&str> {
    let end = word.text.find(UNKNOWN).unwrap_or(word.text.len());
    let cut = word.text[..end].rfind('/')?;
    Some(&word.text[..cut + 1]).filter(|d| !d.is_empty())
}

/// `host:path` (but not `C:\path`).
fn remote(text: &str) -> bool {
    match text.find(':') {
        Some(i) => i > 1 && !text[..i].contains('/'),
        None => false,
    }
}

/// `+x`, `-w`, `u=rw,go-w`, `755`.
fn is_mode(text: &str) -> bool {
    text.starts_with(['-', '+', '=']) && text.len() > 1 && text[1..].chars().all(|c| "rwxXstugoa+-=,".contains(c))
}

/// Words joined by spaces (for `eval`): dynamic if any part is.
fn joined(words: &[Word]) -> Word {
    Word {
        text: words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "),
        dynamic: words.iter().any(|w| w.dynamic),
        subs: words.iter().flat_map(|w| w.subs.iter().copied()).collect(),
        ..Word::default()
    }
}

/// GNU-style arguments: options anywhere (`rm build -rf`), `--` ends them.
struct Args<'a> {
    opts: Vec<Opt>,
    operands: Vec<&'a Word>,
}

impl<'a> Args<'a> {
    fn parse(args: &'a [Word], short_value: &str, long_value: &[&str]) -> Args<'a> {
        let (mut opts, mut operands) = (Vec::new(), Vec::new());
        let mut i = 0;
        loop {
            let (next, seen) = options(args, i, short_value, long_value);
            opts.extend(seen);
            if next > i && args.get(next - 1).is_some_and(|w| w.text == "--") {
                operands.extend(&args[next..]);
                break;
            }
            match args.get(next) {
                Some(w) => operands.push(w),
                None => break,
            }
            i = next + 1;
        }
        Args { opts, operands }
    }

    fn has(&self, short: char) -> bool {
        let s = short.to_string();
        self.opts.iter().any(|(o, _)| *o == s)
    }

    fn has_long(&self, long: &str) -> bool {
        self.opts.iter().any(|(o, _)| o == long)
    }

    fn value(&self, short: char, long: &str) -> Option<String> {
        let s = short.to_string();
        self.opts.iter().rev().find(|(o, _)| *o == s || o == long).and_then(|(_, v)| v.clone())
    }
}
