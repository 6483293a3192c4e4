//! Command lines for `sh`: a text as one word of it.
//!
//! Promises: [`word`] quotes any text so that `sh` reads it back as one
//! word, unchanged (`shlex` does the quoting).
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
}
