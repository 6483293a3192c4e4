//! Command lines for `sh`: a text as one word of it, and the words of a
//! line that needs no shell.
//!
//! Promises: [`word`] quotes any text so that `sh` reads it back as one
//! word, unchanged (`shlex` does the quoting). [`words`] gives the words
//! of a line `sh` would run as one plain command, as `sh` would split
//! them, and `None` for any other line: one that expands, redirects,
//! lists or pipes anything, assigns a variable, or starts with a builtin
//! or a reserved word (the words may be bare, single-quoted or
//! backslash-escaped; a leading `exec` is dropped). Running such a line's
//! words with execvp(3) is running the line, without the shell's own
//! start (an exec of a dynamically linked program, which the traced
//! suites pay at every replay). [`program`] is a line for after a
//! tracer's `--`: the words of `line` when there are, else `sh -c line`.
//!
//! Does not promise: a NUL byte, which no command line can carry.

/// `text` as one word of `sh`. A NUL byte, which no word of `sh` can hold,
/// is dropped: a command line cannot carry one either.
pub fn word(text: &str) -> String {
    let text = text.replace('\0', "");
    match shlex::try_quote(&text) {
        Ok(word) => word.into_owned(),
        // Only a NUL makes try_quote fail, and there is none left.
        Err(_) => String::from("''"),
    }
}

/// The reserved words and builtins of `sh` (POSIX, and dash's and
/// bash's common ones): a line that starts with one needs the shell.
const SHELL_OWN: &[&str] = &[
    "!",
    "{",
    "}",
    "case",
    "do",
    "done",
    "elif",
    "else",
    "esac",
    "fi",
    "for",
    "if",
    "in",
    "then",
    "until",
    "while",
    ".",
    ":",
    "[",
    "alias",
    "bg",
    "break",
    "cd",
    "command",
    "continue",
    "echo",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "getopts",
    "hash",
    "jobs",
    "kill",
    "local",
    "printf",
    "pwd",
    "read",
    "readonly",
    "return",
    "set",
    "shift",
    "source",
    "test",
    "times",
    "trap",
    "true",
    "type",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
    "[[",
    "time",
    "function",
    "select",
    "coproc",
    "builtin",
    "declare",
    "typeset",
    "let",
    "shopt",
    "enable",
    "logout",
    "disown",
    "suspend",
    "mapfile",
    "readarray",
    "caller",
    "dirs",
    "popd",
    "pushd",
    "history",
    "bind",
    "help",
];

/// The words of `line` when `sh` would run it as one plain command (see
/// the module doc), else `None`.
pub fn words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '\'' => {
                let quoted = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        inner => quoted.push(inner),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => return None,
                escaped => word.get_or_insert_with(String::new).push(escaped),
            },
            c if c.is_ascii_alphanumeric() || "_-./,+@%:=".contains(c) => {
                word.get_or_insert_with(String::new).push(c);
            }
            _ => return None,
        }
    }
    words.extend(word);
    if words.first().is_some_and(|w| w == "exec") {
        words.remove(0);
        if words.first().is_some_and(|w| w.starts_with('-')) {
            return None;
        }
    }
    let first = words.first()?;
    let assigns = first.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    (!assigns && !SHELL_OWN.contains(&first.as_str())).then_some(words)
}

/// `line` as the program of a tracer's command line (after its `--`):
/// its words, each quoted, when it has plain ones, else `sh -c line`.
pub fn program(line: &str) -> String {
    match words(line) {
        Some(words) => words.iter().map(|w| word(w)).collect::<Vec<_>>().join(" "),
        None => format!("sh -c {}", word(line)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_reads_back_from_sh_as_one_word() {
        for text in ["plain/id+x", "a b", "it's", "$HOME `x` \"q\" \\", ""] {
            let word = word(text);
            let echoed = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {word}"))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&echoed.stdout), text, "{word}");
        }
    }

    #[test]
    fn a_plain_command_line_is_split_as_sh_splits_it() {
        let owned = |ws: &[&str]| Some(ws.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        assert_eq!(
            words("exec /usr/bin/python3 -S a.py --module 'my store.py'"),
            owned(&["/usr/bin/python3", "-S", "a.py", "--module", "my store.py"])
        );
        assert_eq!(
            words("node  a\\ b.js x=1 'it'\\''s' ''"),
            owned(&["node", "a b.js", "x=1", "it's", ""])
        );
        for line in [
            "python3 a.py | tee log",
            "python3 $HOME/a.py",
            "python3 ~/a.py",
            "python3 a.py > out",
            "python3 a.py; true",
            "python3 a.py &",
            "python3 *.py",
            "python3 \"a.py\"",
            "python3 'a.py",
            "python3 a.py # a comment",
            "PYTHONPATH=x python3 a.py",
            "cd /tmp",
            "time python3 a.py",
            "exec -a name python3",
            "exec",
            "umask 022; python3 a.py",
            "python3 a.py\\\nb",
            "",
            "   ",
        ] {
            assert_eq!(words(line), None, "{line}");
        }
    }

    #[test]
    fn a_plain_command_line_runs_the_same_with_or_without_sh() {
        // `env` runs the program `printf`, not the shell's builtin.
        for (line, plain) in [
            ("env printf %s:%s: 'a b' c\\ d", true),
            ("exec env printf '%s|' it\\'s x=1", true),
            ("env printf '%s|' $HOME \"x\"", false),
        ] {
            let by_sh = std::process::Command::new("sh")
                .args(["-c", line])
                .output()
                .expect("sh runs");
            let program = program(line);
            let by_program = std::process::Command::new("sh")
                .args(["-c", &program])
                .output()
                .expect("sh runs");
            assert_eq!(by_program.stdout, by_sh.stdout, "{line} as {program}");
            assert_eq!(words(line).is_some(), plain, "{line}");
            if let Some(words) = words(line) {
                let direct = std::process::Command::new(&words[0])
                    .args(&words[1..])
                    .output()
                    .expect("the program runs");
                assert_eq!(direct.stdout, by_sh.stdout, "{line} as {words:?}");
            }
        }
    }
}
