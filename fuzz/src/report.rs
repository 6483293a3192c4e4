//! How a violation report shows its input.

/// `bytes` as an escaped, length-capped string for a panic message.
pub fn excerpt(bytes: &[u8]) -> String {
    const SHOWN: usize = 400;
    let shown = &bytes[..bytes.len().min(SHOWN)];
    let mut text: String = String::from_utf8_lossy(shown).escape_debug().collect();
    if bytes.len() > SHOWN {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    format!("\"{text}\"")
}
