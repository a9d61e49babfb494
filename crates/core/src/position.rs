//! Maps byte offsets in a migration file to the `line:column` a person looks for.

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

/// The line and column of byte `offset` in `text` (clamped to the text's end).
pub fn line_column(text: &str, offset: usize) -> LineColumn {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    LineColumn { line, column }
}

/// Byte offset of the 1-based character position `chars` within `text`.
pub fn char_position_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let text = "ab\nçd\nef";
        assert_eq!(line_column(text, 0), LineColumn { line: 1, column: 1 });
        assert_eq!(line_column(text, 3), LineColumn { line: 2, column: 1 });
        // 'd' follows the two-byte 'ç': byte 5, character column 2.
        assert_eq!(line_column(text, 5), LineColumn { line: 2, column: 2 });
        assert_eq!(line_column(text, 7), LineColumn { line: 3, column: 1 });
    }

    #[test]
    fn character_positions_become_byte_offsets() {
        assert_eq!(char_position_to_byte("çab", 1), 0);
        assert_eq!(char_position_to_byte("çab", 2), 2);
        assert_eq!(char_position_to_byte("çab", 9), 4);
    }
}
