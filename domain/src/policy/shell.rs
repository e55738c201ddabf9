//! Bash text → a small command model: every simple command that may run — in lists, pipelines,
//! subshells, groups, loops, ifs, cases, function bodies, command and process substitutions and
//! expanding here-docs — with its words normalised (quotes removed, escapes and `$'…'` decoded,
//! literal variables substituted), its redirections, and what feeds its standard input.
//!
//! The grammar is brush-parser's (the parser of a bash-compatible shell). It is a backtracking
//! PEG, and we measured it exponential on unclosed `(` and overflowing the stack on deep
//! nesting, so [`prescan`] rejects both in one linear pass before it sees the text, and the
//! calls are wrapped in `catch_unwind` as a last resort. Anything that cannot be parsed is
//! reported in [`Script::unknowns`]: the guard answers `ask`, never a silent allow.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use brush_parser::ast;
use brush_parser::word::{Parameter, ParameterExpr, TildeExpr, WordPiece, WordPieceWithSource};

use super::paths::{Anchor, Loc, has_glob};

/// Stands for a part of a word only known at run time (shown in reasons).
pub const UNKNOWN: char = '…';

/// Deepest nesting of `(`, `{`, quotes and compound commands the parser is given.
const MAX_NESTING: usize = 16;

/// Most alternatives a brace expansion (`/{etc,usr}`) is unfolded into.
const MAX_ALTERNATIVES: usize = 64;

/// One word, normalised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Word {
    /// The word after quote removal and expansion of what is known; [`UNKNOWN`] marks the rest.
    pub text: String,
    /// Whether part of it is only known at run time (a variable, a substitution).
    pub dynamic: bool,
    /// Whether it has unquoted glob characters.
    pub glob: bool,
    /// Brace expansions of `text` (empty when there are none).
    pub alternatives: Vec<String>,
    /// Char offset in the hook's command (top-level words only; used to strip `sudo`).
    pub start: Option<usize>,
    /// Commands of the substitutions inside it (indices into [`Script::cmds`]).
    pub subs: Vec<usize>,
    /// Whether the word is a process substitution (`<( … )`): a file made by `subs`.
    pub process: bool,
}

impl Word {
    fn unknown() -> Word {
        Word { text: UNKNOWN.to_string(), dynamic: true, ..Word::default() }
    }

    /// Every value the word may take once braces are expanded.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let own = self.alternatives.is_empty().then_some(self.text.as_str());
        own.into_iter().chain(self.alternatives.iter().map(String::as_str))
    }
}

/// What flows into a command's standard input.
#[derive(Debug, Clone, PartialEq)]
pub enum Stdin {
    /// The output of the previous pipeline stage (indices into [`Script::cmds`]).
    Pipe(Vec<usize>),
    /// A here-doc or here-string.
    Text(Word),
}

/// A simple command.
#[derive(Debug, Clone, PartialEq)]
pub struct Cmd {
    /// argv, program first (empty for a bare assignment or redirection).
    pub words: Vec<Word>,
    pub assigns: Vec<(String, Word)>,
    /// Targets the command's redirections write to.
    pub writes: Vec<Word>,
    pub stdin: Vec<Stdin>,
    /// Part of a pipeline of several commands.
    pub piped: bool,
    /// Run in the background (`&`).
    pub background: bool,
    /// The working directory it runs in, as far as `cd` can be followed.
    pub cwd: Loc,
    /// Nesting level (0 = the hook's own text).
    pub depth: usize,
}

/// A function definition and the commands of its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub body: std::ops::Range<usize>,
}

/// Everything that may run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    pub cmds: Vec<Cmd>,
    pub functions: Vec<Function>,
    /// Why some part could not be understood (each one makes the decision `ask`).
    pub unknowns: Vec<String>,
    /// Per command: whether it, or what feeds it, fetches or decodes data (computed once, by
    /// the judge, so long pipelines stay linear).
    pub fed: std::cell::OnceCell<Vec<bool>>,
}

/// Parse `text`, run from `cwd`, nested `depth` levels deep (0 for the hook's own command).
pub fn parse(text: &str, cwd: &Loc, depth: usize, max_depth: usize) -> Script {
    let mut script = Script::default();
    let mut builder = Builder { out: &mut script, max_depth, options: brush_parser::ParserOptions::default() };
    let mut scope = Scope { cwd: cwd.clone(), vars: Rc::new(HashMap::new()) };
    builder.text(text, &mut scope, Ctx { depth, top: depth == 0, upstream: None, background: false, piped: false });
    script
}

/// One linear pass over the text that refuses what would make the parser slow or overflow
/// its stack: an unclosed `(` (the grammar backtracks exponentially on it), nesting deeper
/// than [`MAX_NESTING`], and unterminated quotes. It follows quotes, escapes, comments and
/// here-doc bodies well enough for that purpose; it is not a parser.
pub fn prescan(text: &str) -> Result<(), &'static str> {
    #[derive(PartialEq)]
    enum Frame {
        Paren,
        Brace,
        Double,
        Backtick,
    }
    let b = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let (mut keywords, mut i, mut word_start) = (0usize, 0usize, true);
    let mut heredocs: Vec<(Vec<u8>, bool)> = Vec::new();
    let boundary = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>');
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if stack.last() == Some(&Frame::Double) {
            match (c, next) {
                (b'\\', _) => i += 1,
                (b'"', _) => {
                    stack.pop();
                }
                (b'$', Some(b'(')) => {
                    stack.push(Frame::Paren);
                    i += 1;
                }
                (b'$', Some(b'{')) => {
                    stack.push(Frame::Brace);
                    i += 1;
                }
                (b'`', _) => stack.push(Frame::Backtick),
                _ => {}
            }
            i += 1;
            word_start = false;
        } else {
            if word_start && !boundary(c) {
                let end = (i..b.len()).find(|&j| boundary(b[j])).unwrap_or(b.len());
                match &b[i..end] {
                    b"if" | b"case" | b"for" | b"while" | b"until" | b"select" | b"{" => keywords += 1,
                    b"fi" | b"esac" | b"done" | b"}" => keywords = keywords.saturating_sub(1),
                    _ => {}
                }
            }
            match (c, next) {
                (b'\\', _) => i += 1,
                (b'\'', _) => match b[i + 1..].iter().position(|&x| x == b'\'') {
                    Some(n) => i += n + 1,
                    None => return Err("an unterminated quote"),
                },
                (b'$', Some(b'\'')) => {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    if i >= b.len() {
                        return Err("an unterminated quote");
                    }
                }
                (b'$', Some(b'{')) => {
                    stack.push(Frame::Brace);
                    i += 1;
                }
                (b'"', _) => stack.push(Frame::Double),
                (b'`', _) => {
                    if stack.last() == Some(&Frame::Backtick) {
                        stack.pop();
                    } else {
                        stack.push(Frame::Backtick);
                    }
                }
                (b'(', _) => stack.push(Frame::Paren),
                // An unmatched `)` is a case pattern's.
                (b')', _) if stack.last() == Some(&Frame::Paren) => {
                    stack.pop();
                }
                (b'}', _) if stack.last() == Some(&Frame::Brace) => {
                    stack.pop();
                }
                (b'#', _) if word_start => {
                    i = (i..b.len()).find(|&j| b[j] == b'\n').unwrap_or(b.len()).saturating_sub(1);
                }
                // A here-string, not a here-doc.
                (b'<', Some(b'<')) if b.get(i + 2) == Some(&b'<') => i += 2,
                (b'<', Some(b'<')) => {
                    i += 2;
                    let strip = b.get(i) == Some(&b'-');
                    if strip {
                        i += 1;
                    }
                    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                        i += 1;
                    }
                    let start = i;
                    while i < b.len() && !boundary(b[i]) {
                        i += 1;
                    }
                    let delimiter: Vec<u8> =
                        b[start..i].iter().copied().filter(|c| !matches!(c, b'\'' | b'"' | b'\\')).collect();
                    heredocs.push((delimiter, strip));
                    word_start = true;
                    continue;
                }
                (b'\n', _) => {
                    // Here-doc bodies start on the next line; their text is data to this scan.
                    for (delimiter, strip) in std::mem::take(&mut heredocs) {
                        loop {
                            let start = i + 1;
                            if start >= b.len() {
                                i = b.len();
                                break;
                            }
                            let end = (start..b.len()).find(|&j| b[j] == b'\n').unwrap_or(b.len());
                            let mut line = &b[start..end];
                            if strip {
                                while let [b'\t', rest @ ..] = line {
                                    line = rest;
                                }
                            }
                            i = end;
                            if line == delimiter.as_slice() {
                                break;
                            }
                        }
                    }
                }
                _ => {}
            }
            word_start = boundary(c);
            i += 1;
        }
        if stack.len() + keywords > MAX_NESTING {
            return Err("too deeply nested");
        }
    }
    match stack.last() {
        None => Ok(()),
        Some(Frame::Paren) => Err("an unclosed `(`"),
        Some(_) => Err("an unterminated quote or substitution"),
    }
}

/// Variables and directory in effect at one point of the script.
#[derive(Clone)]
struct Scope {
    cwd: Loc,
    /// Variables assigned a literal value earlier in the script.
    /// Shared until written: every subshell and substitution copies the scope, which must
    /// not cost the number of variables each time.
    vars: Rc<HashMap<String, String>>,
}

/// Most variables followed: past this, a new variable is only known at run time (and a copy
/// of the scope, written in a subshell, stays cheap).
const MAX_VARS: usize = 128;

impl Scope {
    fn set(&mut self, name: &str, value: &str) {
        if self.vars.len() >= MAX_VARS && !self.vars.contains_key(name) {
            return;
        }
        Rc::make_mut(&mut self.vars).insert(name.to_string(), value.to_string());
    }

    fn forget(&mut self, name: &str) {
        if self.vars.contains_key(name) {
            Rc::make_mut(&mut self.vars).remove(name);
        }
    }
}

#[derive(Clone)]
struct Ctx {
    depth: usize,
    /// In the hook's own text (word offsets are meaningful).
    top: bool,
    upstream: Option<Vec<usize>>,
    background: bool,
    piped: bool,
}

struct Builder<'a> {
    out: &'a mut Script,
    max_depth: usize,
    options: brush_parser::ParserOptions,
}

impl Builder<'_> {
    fn unknown(&mut self, why: String) {
        if !self.out.unknowns.contains(&why) {
            self.out.unknowns.push(why);
        }
    }

    /// Parse and add a whole program.
    fn text(&mut self, text: &str, scope: &mut Scope, ctx: Ctx) {
        if ctx.depth > self.max_depth {
            return self.unknown(format!("commands nested more than {} levels deep", self.max_depth));
        }
        if let Err(why) = prescan(text) {
            return self.unknown(format!("the command has {why}"));
        }
        let options = self.options.clone();
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            brush_parser::Parser::new(std::io::Cursor::new(text.as_bytes()), &options).parse_program()
        }));
        match parsed {
            Ok(Ok(program)) => {
                for list in &program.complete_commands {
                    self.list(list, scope, &ctx);
                }
            }
            Ok(Err(e)) => self.unknown(format!("the command cannot be parsed ({e})")),
            Err(_) => self.unknown("the command cannot be parsed".to_string()),
        }
    }

    fn list(&mut self, list: &ast::CompoundList, scope: &mut Scope, ctx: &Ctx) {
        for ast::CompoundListItem(and_or, separator) in &list.0 {
            let background = matches!(separator, ast::SeparatorOperator::Async);
            let ctx = Ctx { background: ctx.background || background, ..ctx.clone() };
            self.pipeline(&and_or.first, scope, &ctx);
            for next in &and_or.additional {
                let (ast::AndOr::And(p) | ast::AndOr::Or(p)) = next;
                self.pipeline(p, scope, &ctx);
            }
        }
    }

    fn pipeline(&mut self, pipeline: &ast::Pipeline, scope: &mut Scope, ctx: &Ctx) {
        if pipeline.seq.len() == 1 {
            return self.command(&pipeline.seq[0], scope, ctx);
        }
        let mut upstream = ctx.upstream.clone();
        for command in &pipeline.seq {
            let start = self.out.cmds.len();
            // Every stage of a pipeline runs in a subshell: its `cd` does not last.
            let mut stage = scope.clone();
            self.command(command, &mut stage, &Ctx { upstream: upstream.clone(), piped: true, ..ctx.clone() });
            upstream = Some((start..self.out.cmds.len()).collect());
        }
    }

    fn command(&mut self, command: &ast::Command, scope: &mut Scope, ctx: &Ctx) {
        match command {
            ast::Command::Simple(simple) => self.simple(simple, scope, ctx),
            ast::Command::Compound(compound, redirects) => {
                self.compound(compound, scope, ctx);
                if let Some(list) = redirects {
                    self.redirect_only(&list.0, scope, ctx);
                }
            }
            ast::Command::Function(f) => {
                let start = self.out.cmds.len();
                // The body runs when (and wherever) the function is called.
                let body_ctx = Ctx { upstream: None, piped: false, background: false, ..ctx.clone() };
                self.compound(&f.body.0, &mut scope.clone(), &body_ctx);
                if let Some(list) = &f.body.1 {
                    self.redirect_only(&list.0, scope, &body_ctx);
                }
                let name = self.word(&f.fname, scope, ctx).text;
                self.out.functions.push(Function { name, body: start..self.out.cmds.len() });
            }
            ast::Command::ExtendedTest(test, redirects) => {
                self.test_expr(&test.expr, scope, ctx);
                if let Some(list) = redirects {
                    self.redirect_only(&list.0, scope, ctx);
                }
            }
        }
    }

    fn compound(&mut self, compound: &ast::CompoundCommand, scope: &mut Scope, ctx: &Ctx) {
        use ast::CompoundCommand as C;
        match compound {
            C::BraceGroup(group) => self.list(&group.list, scope, ctx),
            C::Subshell(sub) => self.list(&sub.list, &mut scope.clone(), ctx),
            C::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.word(w, scope, ctx);
                }
                self.list(&f.body.list, scope, ctx);
            }
            C::CaseClause(c) => {
                self.word(&c.value, scope, ctx);
                for item in &c.cases {
                    if let Some(list) = &item.cmd {
                        self.list(list, scope, ctx);
                    }
                }
            }
            C::IfClause(i) => {
                self.list(&i.condition, scope, ctx);
                self.list(&i.then, scope, ctx);
                for e in i.elses.iter().flatten() {
                    if let Some(condition) = &e.condition {
                        self.list(condition, scope, ctx);
                    }
                    self.list(&e.body, scope, ctx);
                }
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                self.list(&w.0, scope, ctx);
                self.list(&w.1.list, scope, ctx);
            }
            C::Arithmetic(a) => self.arithmetic(&a.expr.value, scope, ctx),
            C::ArithmeticForClause(f) => self.list(&f.body.list, scope, ctx),
            C::Coprocess(c) => self.command(&c.body, scope, ctx),
        }
    }

    fn test_expr(&mut self, expr: &ast::ExtendedTestExpr, scope: &mut Scope, ctx: &Ctx) {
        use ast::ExtendedTestExpr as E;
        match expr {
            E::And(a, b) | E::Or(a, b) => {
                self.test_expr(a, scope, ctx);
                self.test_expr(b, scope, ctx);
            }
            E::Not(a) | E::Parenthesized(a) => self.test_expr(a, scope, ctx),
            E::UnaryTest(_, w) => {
                self.word(w, scope, ctx);
            }
            E::BinaryTest(_, a, b) => {
                self.word(a, scope, ctx);
                self.word(b, scope, ctx);
            }
        }
    }

    /// Substitutions inside an arithmetic expression still run.
    fn arithmetic(&mut self, expr: &str, scope: &mut Scope, ctx: &Ctx) {
        if expr.contains("$(") || expr.contains('`') {
            self.word_text(expr, None, scope, ctx);
        }
    }

    /// Redirections of a compound command: a command without words that writes.
    fn redirect_only(&mut self, redirects: &[ast::IoRedirect], scope: &mut Scope, ctx: &Ctx) {
        let mut cmd = self.new_cmd(scope, ctx);
        for r in redirects {
            self.redirect(r, &mut cmd, scope, ctx);
        }
        self.out.cmds.push(cmd);
    }

    fn new_cmd(&self, scope: &Scope, ctx: &Ctx) -> Cmd {
        Cmd {
            words: Vec::new(),
            assigns: Vec::new(),
            writes: Vec::new(),
            stdin: ctx.upstream.clone().map(Stdin::Pipe).into_iter().collect(),
            piped: ctx.piped,
            background: ctx.background,
            cwd: scope.cwd.clone(),
            depth: ctx.depth,
        }
    }

    fn simple(&mut self, simple: &ast::SimpleCommand, scope: &mut Scope, ctx: &Ctx) {
        let mut cmd = self.new_cmd(scope, ctx);
        let prefix = simple.prefix.iter().flat_map(|p| p.0.iter());
        let suffix = simple.suffix.iter().flat_map(|s| s.0.iter());
        let mut items: Vec<Item> = prefix.map(Item::Part).collect();
        if let Some(w) = &simple.word_or_name {
            items.push(Item::Word(w));
        }
        items.extend(suffix.map(Item::Part));
        for item in items {
            use ast::CommandPrefixOrSuffixItem as P;
            match item {
                Item::Word(w) | Item::Part(P::Word(w)) => {
                    let word = self.word(w, scope, ctx);
                    cmd.words.push(word);
                }
                Item::Part(P::IoRedirect(r)) => self.redirect(r, &mut cmd, scope, ctx),
                // After the program, `of=/dev/sda` is an argument (the grammar still calls it an
                // assignment, for `export X=1`).
                Item::Part(P::AssignmentWord(_, w)) if !cmd.words.is_empty() => {
                    let word = self.word(w, scope, ctx);
                    cmd.words.push(word);
                }
                Item::Part(P::AssignmentWord(assignment, _)) => {
                    let name = match &assignment.name {
                        ast::AssignmentName::VariableName(n) => n.clone(),
                        ast::AssignmentName::ArrayElementName(n, index) => {
                            // `a[$(cmd)]=1`: the subscript is evaluated, its substitutions run.
                            self.arithmetic(index, scope, ctx);
                            n.clone()
                        }
                    };
                    let value = match &assignment.value {
                        ast::AssignmentValue::Scalar(w) => self.word(w, scope, ctx),
                        ast::AssignmentValue::Array(items) => {
                            for (k, v) in items {
                                if let Some(k) = k {
                                    self.word(k, scope, ctx);
                                }
                                self.word(v, scope, ctx);
                            }
                            Word::unknown()
                        }
                    };
                    cmd.assigns.push((name, value));
                }
                Item::Part(P::ProcessSubstitution(_, sub)) => {
                    let word = self.process_substitution(sub, scope, ctx);
                    cmd.words.push(word);
                }
            }
        }
        if cmd.words.iter().any(|w| !w.alternatives.is_empty()) {
            // Brace expansion makes several words (`{rm,-rf,/}`, `r{m,} -rf /`).
            cmd.words = cmd.words.into_iter().flat_map(split_alternatives).collect();
        }
        self.track(&cmd, scope);
        self.out.cmds.push(cmd);
    }

    /// Follow what later commands depend on: literal assignments and `cd`.
    fn track(&mut self, cmd: &Cmd, scope: &mut Scope) {
        if cmd.words.is_empty() {
            for (name, value) in &cmd.assigns {
                // Only values that stay one word once unquoted are substituted later.
                if value.dynamic || value.glob || value.text.contains(char::is_whitespace) {
                    scope.forget(name);
                } else {
                    scope.set(name, &value.text);
                }
            }
            return;
        }
        if matches!(cmd.words[0].text.as_str(), "export" | "declare" | "typeset" | "local" | "readonly") {
            // `export X=/`: an assignment like `X=/`.
            for w in cmd.words[1..].iter().filter(|w| !w.text.starts_with('-')) {
                let Some((name, value)) = w.text.split_once('=') else { continue };
                let name = name.trim_end_matches('+');
                if w.dynamic || w.glob || value.contains(char::is_whitespace) || w.text.contains("+=") {
                    scope.forget(name);
                } else {
                    scope.set(name, value);
                }
            }
        }
        if matches!(cmd.words[0].text.as_str(), "cd" | "pushd") {
            let target = cmd.words[1..].iter().find(|w| !w.text.starts_with('-') || w.text == "-");
            scope.cwd = match target {
                None => Loc { anchor: Anchor::Home, parts: Vec::new(), climbs: 0 },
                Some(w) if w.dynamic || w.text == "-" => Loc { anchor: Anchor::Unknown, parts: Vec::new(), climbs: 0 },
                Some(w) => scope.cwd.join(&w.text),
            };
        }
    }

    fn redirect(&mut self, r: &ast::IoRedirect, cmd: &mut Cmd, scope: &mut Scope, ctx: &Ctx) {
        use ast::{IoFileRedirectKind as K, IoFileRedirectTarget as T, IoRedirect as R};
        match r {
            R::File(_, kind, target) => match target {
                T::Filename(w) | T::Duplicate(w) => {
                    let word = self.word(w, scope, ctx);
                    let writes = match kind {
                        K::Write | K::Append | K::Clobber | K::ReadAndWrite => true,
                        // `>&file` (not a descriptor number) writes stdout and stderr there.
                        K::DuplicateOutput => !word.text.chars().all(|c| c.is_ascii_digit() || c == '-'),
                        K::Read | K::DuplicateInput => false,
                    };
                    if writes {
                        cmd.writes.push(word);
                    }
                }
                T::Fd(_) => {}
                T::ProcessSubstitution(_, sub) => {
                    let word = self.process_substitution(sub, scope, ctx);
                    if matches!(kind, K::Read) {
                        cmd.stdin.push(Stdin::Pipe(word.subs));
                    }
                }
            },
            R::HereDocument(fd, doc) => {
                let text = if doc.requires_expansion {
                    self.heredoc(&doc.doc.value, scope, ctx)
                } else {
                    Word { text: doc.doc.value.clone(), ..Word::default() }
                };
                if fd.is_none_or(|fd| fd == 0) {
                    cmd.stdin.push(Stdin::Text(text));
                }
            }
            R::HereString(fd, w) => {
                let word = self.word(w, scope, ctx);
                if fd.is_none_or(|fd| fd == 0) {
                    cmd.stdin.push(Stdin::Text(word));
                }
            }
            R::OutputAndError(w, _) => {
                let word = self.word(w, scope, ctx);
                cmd.writes.push(word);
            }
        }
    }

    fn process_substitution(&mut self, sub: &ast::SubshellCommand, scope: &Scope, ctx: &Ctx) -> Word {
        let start = self.out.cmds.len();
        let inner = Ctx { depth: ctx.depth + 1, upstream: None, piped: false, background: false, ..ctx.clone() };
        if inner.depth > self.max_depth {
            self.unknown(format!("commands nested more than {} levels deep", self.max_depth));
        } else {
            self.list(&sub.list, &mut scope.clone(), &inner);
        }
        Word {
            text: "/dev/fd/63".into(),
            dynamic: true,
            process: true,
            subs: (start..self.out.cmds.len()).collect(),
            ..Word::default()
        }
    }

    fn heredoc(&mut self, body: &str, scope: &mut Scope, ctx: &Ctx) -> Word {
        let options = self.options.clone();
        let pieces = catch_unwind(AssertUnwindSafe(|| brush_parser::word::parse_heredoc(body, &options)));
        let mut word = Word::default();
        match pieces {
            Ok(Ok(pieces)) => self.pieces(&pieces, body, true, &mut word, scope, ctx),
            _ => {
                self.unknown("a here-document cannot be parsed".into());
                word = Word::unknown();
            }
        }
        word
    }

    fn word(&mut self, w: &ast::Word, scope: &mut Scope, ctx: &Ctx) -> Word {
        let start = if ctx.top { w.loc.as_ref().map(|l| l.start.index) } else { None };
        self.word_text(&w.value, start, scope, ctx)
    }

    fn word_text(&mut self, raw: &str, start: Option<usize>, scope: &mut Scope, ctx: &Ctx) -> Word {
        let options = self.options.clone();
        let pieces = catch_unwind(AssertUnwindSafe(|| brush_parser::word::parse(raw, &options)));
        let mut word = Word { start, ..Word::default() };
        match pieces {
            Ok(Ok(pieces)) => {
                self.pieces(&pieces, raw, false, &mut word, scope, ctx);
                if word.glob || raw.contains('{') {
                    word.alternatives = brace_expand(&word.text, &mut word.dynamic);
                }
            }
            _ => {
                self.unknown(format!("the word `{}` cannot be parsed", shorten(raw)));
                word.text = raw.to_string();
                word.dynamic = true;
            }
        }
        word
    }

    fn pieces(
        &mut self,
        pieces: &[WordPieceWithSource],
        raw: &str,
        quoted: bool,
        word: &mut Word,
        scope: &mut Scope,
        ctx: &Ctx,
    ) {
        for piece in pieces {
            match &piece.piece {
                WordPiece::Text(s) => {
                    if !quoted && has_glob(s) {
                        word.glob = true;
                    }
                    word.text.push_str(s);
                }
                WordPiece::SingleQuotedText(s) => word.text.push_str(s),
                WordPiece::AnsiCQuotedText(s) => word.text.push_str(&ansi_c(s)),
                WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    self.pieces(inner, raw, true, word, scope, ctx)
                }
                WordPiece::TildeExpansion(t) => match t {
                    TildeExpr::Home | TildeExpr::UserHome(_) => word.text.push('~'),
                    TildeExpr::WorkingDir => word.text.push('.'),
                    _ => unknown_part(word),
                },
                WordPiece::ParameterExpansion(expr) => {
                    let source = raw.get(piece.start_index..piece.end_index).unwrap_or(raw);
                    if source.contains("$(") || source.contains('`') || source.contains("<(") {
                        // `${x:-$(cmd)}` runs `cmd`; the grammar keeps it as text: the operand is
                        // parsed again as a word, so its commands are judged like any other.
                        let inner = source.strip_prefix("${").and_then(|t| t.strip_suffix('}'));
                        match inner {
                            Some(inner) if inner.len() < source.len() => {
                                let operand = self.word_text(inner, None, scope, ctx);
                                word.subs.extend(operand.subs);
                            }
                            _ => self.unknown(format!("a command inside `{}`", shorten(source))),
                        }
                    }
                    self.parameter(expr, word, scope);
                }
                WordPiece::CommandSubstitution(s) => self.substitution(s, word, scope, ctx),
                WordPiece::BackquotedCommandSubstitution(s) => {
                    let inner =
                        s.replace("\\\\", "\u{0}").replace("\\`", "`").replace("\\$", "$").replace('\u{0}', "\\");
                    self.substitution(&inner, word, scope, ctx)
                }
                WordPiece::EscapeSequence(s) => {
                    let escaped = s.strip_prefix('\\').unwrap_or(s);
                    if escaped != "\n" {
                        word.text.push_str(escaped);
                    }
                }
                WordPiece::ArithmeticExpression(expr) => {
                    self.arithmetic(&expr.value, scope, ctx);
                    unknown_part(word);
                }
            }
        }
    }

    fn substitution(&mut self, text: &str, word: &mut Word, scope: &Scope, ctx: &Ctx) {
        let start = self.out.cmds.len();
        let inner = Ctx { depth: ctx.depth + 1, top: false, upstream: None, piped: false, background: false };
        // A substitution runs in a subshell: its `cd` and variables do not last.
        self.text(text, &mut scope.clone(), inner);
        word.subs.extend(start..self.out.cmds.len());
        unknown_part(word);
    }

    fn parameter(&mut self, expr: &ParameterExpr, word: &mut Word, scope: &Scope) {
        if let ParameterExpr::Parameter { parameter: Parameter::Named(name), indirect: false } = expr {
            if let Some(value) = scope.vars.get(name) {
                return word.text.push_str(value);
            }
            // At the start of a word or of an option's value (`--key=$HOME/.ssh/id`, `f=@$HOME/x`).
            let value_start = word.text.is_empty() || word.text.ends_with(['=', '@', ':']);
            if name == "HOME" && value_start {
                return word.text.push('~');
            }
            if name == "TMPDIR" && value_start {
                return word.text.push_str("/tmp");
            }
            if name == "PWD" && word.text.is_empty() && scope.cwd.anchor != Anchor::Unknown {
                return word.text.push('.');
            }
        }
        unknown_part(word);
    }
}

/// The words a brace-expanded word becomes.
fn split_alternatives(w: Word) -> Vec<Word> {
    if w.alternatives.is_empty() || w.process {
        return vec![w];
    }
    w.alternatives
        .iter()
        .enumerate()
        .map(|(k, alt)| Word {
            text: alt.clone(),
            dynamic: w.dynamic,
            glob: w.glob && has_glob(alt),
            alternatives: Vec::new(),
            start: if k == 0 { w.start } else { None },
            subs: if k == 0 { w.subs.clone() } else { Vec::new() },
            process: false,
        })
        .collect()
}

enum Item<'a> {
    Word(&'a ast::Word),
    Part(&'a ast::CommandPrefixOrSuffixItem),
}

fn unknown_part(word: &mut Word) {
    word.dynamic = true;
    word.text.push(UNKNOWN);
}

/// At most 80 characters of `text`, for reasons.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Decode the body of a `$'…'` string (and `printf`/`echo -e` text).
pub fn ansi_c(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let digits = |from: usize, max: usize, radix: u32| -> (u32, usize) {
        let mut value = 0u32;
        let mut n = 0;
        while n < max && from + n < chars.len() {
            match chars[from + n].to_digit(radix) {
                Some(d) => value = value.saturating_mul(radix).saturating_add(d),
                None => break,
            }
            n += 1;
        }
        (value, n)
    };
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 == chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let c = chars[i + 1];
        i += 2;
        let simple = match c {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'e' | 'E' => Some('\u{1b}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            '\\' | '\'' | '"' | '?' => Some(c),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            continue;
        }
        let (value, used) = match c {
            'x' => digits(i, 2, 16),
            'u' => digits(i, 4, 16),
            'U' => digits(i, 8, 16),
            '0'..='7' => {
                i -= 1;
                digits(i, 3, 8)
            }
            'c' if i < chars.len() => ((chars[i] as u32) & 0x1f, 1),
            _ => {
                out.push('\\');
                out.push(c);
                continue;
            }
        };
        if used == 0 {
            out.push('\\');
            out.push(c);
            continue;
        }
        i += used;
        out.push(char::from_u32(value).unwrap_or('\u{fffd}'));
    }
    out
}

/// Unfold `{a,b}` brace expansions (not `{1..9}` sequences, which mark the word dynamic).
fn brace_expand(text: &str, dynamic: &mut bool) -> Vec<String> {
    let mut done = Vec::new();
    let mut todo = vec![text.to_string()];
    while let Some(t) = todo.pop() {
        if done.len() + todo.len() > MAX_ALTERNATIVES {
            *dynamic = true;
            break;
        }
        match split_braces(&t) {
            Some((prefix, alternatives, suffix)) => {
                // In the shell's order: the stack pops the first alternative first.
                todo.extend(alternatives.into_iter().rev().map(|a| format!("{prefix}{a}{suffix}")));
            }
            None => {
                if t.contains("..") && t.contains('{') {
                    *dynamic = true;
                }
                done.push(t);
            }
        }
    }
    if done.len() == 1 && done[0] == text { Vec::new() } else { done }
}

/// The first `{…,…}` of `text`: prefix, alternatives, suffix. One pass: the leftmost `{` whose
/// matching `}` closes a group with a comma of its own (as the shell picks it).
fn split_braces(text: &str) -> Option<(&str, Vec<&str>, &str)> {
    let mut open: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut best: Option<(usize, Vec<usize>, usize)> = None;
    for (j, &c) in text.as_bytes().iter().enumerate() {
        match c {
            b'{' => open.push((j, Vec::new())),
            b',' => {
                if let Some((_, commas)) = open.last_mut() {
                    commas.push(j);
                }
            }
            b'}' => {
                if let Some((at, commas)) = open.pop()
                    && !commas.is_empty()
                    && best.as_ref().is_none_or(|(b, _, _)| at < *b)
                {
                    best = Some((at, commas, j));
                }
            }
            _ => {}
        }
    }
    let (at, commas, close) = best?;
    let mut parts = Vec::new();
    let mut from = at + 1;
    for comma in commas {
        parts.push(&text[from..comma]);
        from = comma + 1;
    }
    parts.push(&text[from..close]);
    Some((&text[..at], parts, &text[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(text: &str) -> Script {
        parse(text, &Loc::project(), 0, 8)
    }

    fn argv(s: &Script, i: usize) -> Vec<String> {
        s.cmds[i].words.iter().map(|w| w.text.clone()).collect()
    }

    #[test]
    fn quotes_escapes_and_ansi_c_strings_are_removed_from_words() {
        let s = script(r#"r''m -r"f" \/ $'\x72\x6d' "a b"'c' $'\u0041\101\n'"#);
        assert_eq!(argv(&s, 0), ["rm", "-rf", "/", "rm", "a bc", "AA\n"]);
        assert!(s.unknowns.is_empty());
    }

    #[test]
    fn every_command_that_runs_is_found() {
        let s = script("ls && echo $(whoami) `id` | (cd /tmp; rm -rf x) & f() { g; }; for i in a; do h; done");
        let programs: Vec<String> = s.cmds.iter().filter_map(|c| c.words.first()).map(|w| w.text.clone()).collect();
        assert_eq!(programs, ["ls", "whoami", "id", "echo", "cd", "rm", "g", "h"]);
        assert!(s.cmds[5].piped && s.cmds[5].background);
        assert_eq!(s.cmds[5].cwd.display(), "/tmp");
        assert_eq!(s.functions[0].name, "f");
    }

    #[test]
    fn quoted_text_is_data_not_a_command() {
        let s = script("git commit -m 'rm -rf / is dangerous' && echo \"rm -rf /\"");
        assert_eq!(s.cmds.len(), 2);
        assert_eq!(argv(&s, 0)[3], "rm -rf / is dangerous");
    }

    #[test]
    fn variables_substitutions_and_redirections_are_modelled() {
        assert_eq!(argv(&script("dd if=/dev/zero of=/dev/sda"), 0), ["dd", "if=/dev/zero", "of=/dev/sda"]);
        let s = script("X=/etc; cat x > $X/passwd; $Y -rf /; cat <<'E' | sh\nrm -rf /\nE\nbash <(curl x)");
        assert_eq!(s.cmds[1].writes[0].text, "/etc/passwd");
        assert!(s.cmds[2].words[0].dynamic);
        assert!(matches!(&s.cmds[3].stdin[0], Stdin::Text(w) if w.text == "rm -rf /\n"));
        assert!(matches!(&s.cmds[4].stdin[0], Stdin::Pipe(up) if up == &vec![3]));
        let bash = s.cmds.iter().find(|c| c.words.first().is_some_and(|w| w.text == "bash")).unwrap();
        assert!(bash.words[1].process);
    }

    #[test]
    fn braces_expand_into_alternatives() {
        let s = script("rm -rf /{etc,usr/{bin,lib}} x{1..3}");
        // Like the shell, one word per alternative, in its order.
        let values: Vec<&str> = s.cmds[0].words[2..5].iter().flat_map(Word::values).collect();
        assert_eq!(values, ["/etc", "/usr/bin", "/usr/lib"]);
        assert!(s.cmds[0].words[5].dynamic);
        assert_eq!(argv(&script("r{m,} -rf /"), 0), ["rm", "r", "-rf", "/"]);
    }

    #[test]
    fn the_prescan_refuses_what_would_make_the_parser_slow() {
        assert!(prescan("((((((((((((((((((((((((").is_err());
        assert!(prescan(&"{ ".repeat(100)).is_err());
        assert!(prescan("echo 'unterminated").is_err());
        assert!(prescan("case x in a) ls;; esac; echo \"(\" '(' \\( # (\n").is_ok());
        assert!(prescan("cat <<EOF\n(unbalanced\nEOF\necho ok").is_ok());
        assert!(prescan("echo $(( (1+2) * 3 )) \"$(ls \"a\")\"").is_ok());
    }

    #[test]
    fn unparsable_text_is_reported_not_ignored() {
        assert!(!script("echo (").unknowns.is_empty());
        assert!(!script("if then fi fi").unknowns.is_empty());
        let deep = format!("{}ls{}", "$(echo ".repeat(12), ")".repeat(12));
        assert!(!script(&deep).unknowns.is_empty());
    }

    #[test]
    fn ansi_c_decoding() {
        assert_eq!(ansi_c(r"\x72\x6d \162\155 \u00e9 \cA \q"), "rm rm é \u{1} \\q");
    }
}
