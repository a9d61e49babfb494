//! Makes text from outside skein safe to print on a terminal. File names, database object
//! names, history rows and server messages may hold control characters: an ANSI escape
//! can recolour, move the cursor or clear the screen, and a newline can forge a line of
//! skein's output. In human output every such character is shown as an escape (`\n`,
//! `\x1b`, `\u{9b}`) instead. JSON output needs none of this: serde escapes it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character escaped: C0 (newlines and tabs included), DEL, C1,
/// and the bidirectional overrides that can make text read in another order than it is.
pub fn controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Like [`controls`], but keeps the line breaks: for text whose lines skein itself put
/// together (a table, a report), so that whatever escaped field-level escaping still
/// cannot reach the terminal as anything but text.
pub fn controls_in_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_control(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(controls)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_as_escapes() {
        assert!(matches!(controls("plain text, ünïcode"), Cow::Borrowed(_)));
        assert_eq!(
            controls("a\x1b[31mred\x1b[0m\nb\tc\rd\x07\x7f"),
            "a\\x1b[31mred\\x1b[0m\\nb\\tc\\rd\\x07\\x7f"
        );
        assert_eq!(
            controls("\u{9b}2J \u{202e}txt.exe"),
            "\\u{9b}2J \\u{202e}txt.exe"
        );
        assert_eq!(
            controls_in_lines("line one \x1b[2J\nline two\r\n"),
            "line one \\x1b[2J\nline two\\r\n"
        );
        assert!(matches!(controls_in_lines("a\nb"), Cow::Borrowed(_)));
    }
}
