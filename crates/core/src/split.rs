//! Splitting a SQL migration script into statements.
//!
//! Migrations are run one statement at a time so that each can be sent to the
//! server on its own and a server error can be mapped back to a position in the
//! file. The splitting follows psql: a `;` ends a statement only when it is
//! outside every string, quoted identifier, dollar quote, comment, parenthesis
//! and `BEGIN ... END` block body. PostgreSQL is the reference dialect; SQLite
//! and MySQL/MariaDB scripts work as long as they stay within the rules below.
//!
//! Choices worth knowing about:
//!
//! - A backslash is an ordinary character in a plain `'...'` string (PostgreSQL's
//!   `standard_conforming_strings`, and SQLite). It escapes the next character
//!   only in `E'...'` strings. MySQL treats it as an escape everywhere, so MySQL
//!   scripts must write `''` rather than `\'` inside strings.
//! - Block bodies (`BEGIN ATOMIC`, SQLite triggers, MySQL procedures) are found by
//!   keyword counting, not parsing. A `BEGIN` opens a block unless it is the first
//!   token of a statement (a transaction start). `CASE` and `END` only count inside a
//!   block, and no keyword counts inside parentheses or right after a `.`. An
//!   unquoted column named `begin`, `case` or `end` at those places can therefore
//!   confuse the split; quote such names.
//! - As in psql, a `;` inside parentheses does not end a statement, which keeps
//!   multi-action `CREATE RULE ... DO (...; ...)` whole.
//! - Characters outside ASCII are identifier characters, as in PostgreSQL, so
//!   `é$$` is an identifier and `$é$` is a valid dollar-quote tag.
//! - Something left unterminated at the end of input (string, quoted identifier,
//!   dollar quote, block comment) runs to the end and is kept in the last
//!   statement, so the server reports the mistake instead of it being hidden.
//! - MySQL/MariaDB scripts are split with [`split_mysql`], which follows MySQL's
//!   lexical rules instead: a backslash escapes the next character in `'...'` and
//!   `"..."` strings, `#` starts a line comment, and there are no dollar quotes.
//!   `DELIMITER` is a command of the mysql client, not SQL: write procedure bodies as
//!   `BEGIN ... END;`, which the block counting keeps whole.
//! - Not supported: psql backslash meta-commands.

/// One statement of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text: from its first token to its last token, without the terminating `;`
    /// and without leading/trailing whitespace or comments (comments *inside* the statement are kept).
    ///
    /// Trailing comments are left out so that appending `;` always gives a complete
    /// statement: a trailing `-- comment` would otherwise swallow the `;`.
    pub sql: &'a str,
    /// Byte offset of `sql` in the script.
    pub offset: usize,
}

/// Splits `script` into statements, in order. Whitespace- or comment-only pieces are not statements.
///
/// Each `sql` is a subslice of `script`, so `script[offset..offset + sql.len()] == sql`,
/// which is what lets server errors be mapped back to file positions.
pub fn split(script: &str) -> Vec<Statement<'_>> {
    split_with(script, Syntax::Standard)
}

/// Whether text sent after `script` (after a `;` and a new line) is read as statements of
/// its own: false when the script ends inside a string, quoted identifier, dollar quote,
/// block comment, parentheses or block body, which would take that text in.
pub fn ends_cleanly(script: &str) -> bool {
    split_checked(script).1
}

/// [`split`] and [`ends_cleanly`] from one pass over the script.
pub fn split_checked(script: &str) -> (Vec<Statement<'_>>, bool) {
    const PROBE: &str = "SELECT 1";
    let probed = format!("{script}\n;\n{PROBE}");
    let mut statements = split(&probed);
    let clean = statements
        .last()
        .is_some_and(|last| last.sql == PROBE && last.offset == script.len() + 3);
    if !clean {
        return (split(script), false);
    }
    statements.pop();
    // Ended cleanly, the script's statements are the probe's but the last, at the same
    // offsets.
    let statements = statements
        .into_iter()
        .map(|s| statement(script, (s.offset, s.offset + s.sql.len())))
        .collect();
    (statements, true)
}

/// Splits a MySQL/MariaDB script: as [`split`], with MySQL's strings and comments.
pub fn split_mysql(script: &str) -> Vec<Statement<'_>> {
    split_with(script, Syntax::MySql)
}

/// The lexical rules a script follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// PostgreSQL (and SQLite): standard strings, dollar quotes, nested comments.
    Standard,
    /// MySQL/MariaDB: backslash escapes in strings, `#` comments.
    MySql,
}

fn split_with(script: &str, syntax: Syntax) -> Vec<Statement<'_>> {
    let mut statements = Vec::new();
    // Byte range from the current statement's first token to its latest token.
    let mut span: Option<(usize, usize)> = None;
    let mut nesting = Nesting::default();

    for token in Lexer::new(script, syntax) {
        let text = &script.as_bytes()[token.start..token.end];
        nesting.observe(token.kind, text, span.is_none());
        if token.kind == Kind::Semicolon && nesting.at_top_level() {
            statements.extend(span.take().map(|range| statement(script, range)));
            nesting = Nesting::default();
            continue;
        }
        let start = span.map_or(token.start, |(start, _)| start);
        span = Some((start, token.end));
    }
    statements.extend(span.map(|range| statement(script, range)));
    statements
}

fn statement(script: &str, (start, end): (usize, usize)) -> Statement<'_> {
    Statement {
        sql: &script[start..end],
        offset: start,
    }
}

/// What the splitter needs to know about a token; everything opaque
/// (strings, quoted identifiers, dollar quotes, operators) is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Semicolon,
    OpenParen,
    CloseParen,
    Dot,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Tracks whether a `;` would end the statement: parenthesis depth and
/// `BEGIN ... END` block depth, both per statement.
#[derive(Debug, Default)]
struct Nesting {
    parens: u32,
    blocks: u32,
    /// An `END` inside a block was just seen; whether it closes the block
    /// depends on the next token (`END IF` does not, `END;` does).
    after_end: bool,
    /// The previous token was `.`, so a following word is a qualified name
    /// (`t.end`), never a keyword.
    after_dot: bool,
    /// The statement started with `BEGIN`: a transaction start, unless `NOT ATOMIC`
    /// follows (MariaDB's compound statement outside a routine).
    leading_begin: bool,
}

impl Nesting {
    fn at_top_level(&self) -> bool {
        self.parens == 0 && self.blocks == 0
    }

    fn observe(&mut self, kind: Kind, text: &[u8], first_in_statement: bool) {
        let keyword = match kind {
            Kind::Word if !self.after_dot && self.parens == 0 => Keyword::parse(text),
            _ => None,
        };
        self.after_dot = kind == Kind::Dot;
        if std::mem::take(&mut self.leading_begin)
            && kind == Kind::Word
            && text.eq_ignore_ascii_case(b"not")
        {
            self.blocks += 1;
        }

        if std::mem::take(&mut self.after_end) {
            match keyword {
                // Their openers were never counted, so they must not close anything.
                Some(Keyword::If | Keyword::Loop | Keyword::While | Keyword::Repeat) => return,
                // `END CASE` is one closer, not a closer followed by an opener.
                Some(Keyword::Case) => return self.close_block(),
                _ => self.close_block(),
            }
        }

        match kind {
            Kind::OpenParen => self.parens += 1,
            Kind::CloseParen => self.parens = self.parens.saturating_sub(1),
            _ => {}
        }

        match keyword {
            // A statement starting with BEGIN is a transaction start (`BEGIN;`,
            // `BEGIN ISOLATION LEVEL ...;`). A nested BEGIN is never first, so it opens.
            Some(Keyword::Begin) if first_in_statement => self.leading_begin = true,
            Some(Keyword::Begin) => self.blocks += 1,
            // Outside a block, CASE ... END is a plain expression that holds no `;`.
            Some(Keyword::Case) if self.blocks > 0 => self.blocks += 1,
            Some(Keyword::End) if self.blocks > 0 => self.after_end = true,
            _ => {}
        }
    }

    fn close_block(&mut self) {
        self.blocks = self.blocks.saturating_sub(1);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Begin,
    Case,
    End,
    If,
    Loop,
    While,
    Repeat,
}

impl Keyword {
    fn parse(word: &[u8]) -> Option<Self> {
        const KEYWORDS: [(&[u8], Keyword); 7] = [
            (b"begin", Keyword::Begin),
            (b"case", Keyword::Case),
            (b"end", Keyword::End),
            (b"if", Keyword::If),
            (b"loop", Keyword::Loop),
            (b"while", Keyword::While),
            (b"repeat", Keyword::Repeat),
        ];
        KEYWORDS
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .map(|&(_, keyword)| keyword)
    }
}

/// Identifier characters. Bytes of multi-byte UTF-8 characters count too (as in
/// PostgreSQL), which also guarantees a word never ends inside a character.
fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_dollar_tag_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Yields the tokens of a script, skipping whitespace and complete comments.
///
/// Works on bytes: every syntax character is ASCII, and every token boundary
/// is either next to an ASCII byte or at the end of input, so boundaries are
/// always char boundaries of the original `str`.
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    syntax: Syntax,
}

impl<'a> Lexer<'a> {
    fn new(script: &'a str, syntax: Syntax) -> Self {
        Lexer {
            bytes: script.as_bytes(),
            pos: 0,
            syntax,
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn skip_trivia(&mut self) {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(b), _) if b.is_ascii_whitespace() => self.pos += 1,
                (Some(b'-'), Some(b'-')) if self.dashes_start_a_comment() => {
                    self.skip_line_comment()
                }
                (Some(b'#'), _) if self.syntax == Syntax::MySql => self.skip_line_comment(),
                // MySQL runs `/*! ... */` and `/*M! ... */`, and reads `/*+ ... */` as
                // optimizer hints: they are statement text, not comments.
                (Some(b'/'), Some(b'*')) if self.is_executable_comment() => return,
                (Some(b'/'), Some(b'*')) => match self.block_comment_end() {
                    Some(end) => self.pos = end,
                    // Left for `lex_token`, so that it stays in the statement.
                    None => return,
                },
                _ => return,
            }
        }
    }

    /// `--` starts a comment; in MySQL only when a space or control character (or the
    /// end) follows, so that `5--1` is arithmetic.
    fn dashes_start_a_comment(&self) -> bool {
        self.syntax == Syntax::Standard || self.peek(2).is_none_or(|b| b <= b' ')
    }

    fn is_executable_comment(&self) -> bool {
        self.syntax == Syntax::MySql
            && matches!(
                (self.peek(2), self.peek(3)),
                (Some(b'!' | b'+'), _) | (Some(b'M'), Some(b'!'))
            )
    }

    fn skip_line_comment(&mut self) {
        while let Some(b) = self.peek(0) {
            if b == b'\n' || b == b'\r' {
                return;
            }
            self.pos += 1;
        }
    }

    /// End of the block comment starting at `pos`, or `None` if it is unterminated.
    /// Comments nest, as in PostgreSQL; in MySQL they do not.
    fn block_comment_end(&self) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = self.pos;
        while i + 1 < self.bytes.len() {
            match (self.bytes[i], self.bytes[i + 1]) {
                (b'/', b'*') if depth == 0 || self.syntax == Syntax::Standard => {
                    depth += 1;
                    i += 2;
                }
                (b'*', b'/') => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => i += 1,
            }
        }
        None
    }

    /// Lexes one token at `pos` (not whitespace or a complete comment) and
    /// advances past it. Always advances by at least one byte.
    fn lex_token(&mut self) -> Kind {
        let single = |lexer: &mut Self, kind| {
            lexer.pos += 1;
            kind
        };
        match self.bytes[self.pos] {
            b';' => single(self, Kind::Semicolon),
            b'(' => single(self, Kind::OpenParen),
            b')' => single(self, Kind::CloseParen),
            b'.' => single(self, Kind::Dot),
            quote @ (b'\'' | b'"') if self.syntax == Syntax::MySql => {
                self.skip_quoted(quote, true);
                Kind::Other
            }
            quote @ (b'\'' | b'"' | b'`') => {
                self.skip_quoted(quote, false);
                Kind::Other
            }
            b'$' if self.syntax == Syntax::Standard => self.lex_dollar(),
            b'/' if self.peek(1) == Some(b'*') => {
                // Executable comments and unterminated comments reach here (see
                // `skip_trivia`); either runs to its end.
                self.pos = self.block_comment_end().unwrap_or(self.bytes.len());
                Kind::Other
            }
            b if is_ident_byte(b) => self.lex_word(),
            _ => single(self, Kind::Other),
        }
    }

    fn lex_word(&mut self) -> Kind {
        let start = self.pos;
        self.skip_word();
        let is_escape_prefix = self.syntax == Syntax::Standard
            && self.pos - start == 1
            && matches!(self.bytes[start], b'e' | b'E');
        if is_escape_prefix && self.peek(0) == Some(b'\'') {
            self.skip_quoted(b'\'', true);
            return Kind::Other;
        }
        Kind::Word
    }

    fn skip_word(&mut self) {
        while self.peek(0).is_some_and(is_ident_byte) {
            self.pos += 1;
        }
    }

    /// Skips a quoted string or identifier starting at `pos`, where a doubled
    /// quote stands for itself. Unterminated: runs to the end of input.
    fn skip_quoted(&mut self, quote: u8, backslash_escapes: bool) {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if b == b'\\' && backslash_escapes {
                // May land inside a multi-byte character; harmless, since its
                // remaining bytes are not syntax characters.
                self.pos = (self.pos + 1).min(self.bytes.len());
            } else if b == quote {
                if self.peek(0) != Some(quote) {
                    return;
                }
                self.pos += 1;
            }
        }
    }

    /// A `$` at the start of a token: a dollar quote if a `$tag$` delimiter
    /// follows, otherwise a word such as the parameter `$1`.
    fn lex_dollar(&mut self) -> Kind {
        let Some(delimiter_len) = self.dollar_delimiter_len() else {
            self.pos += 1;
            self.skip_word();
            return Kind::Word;
        };
        let delimiter = &self.bytes[self.pos..self.pos + delimiter_len];
        let body_start = self.pos + delimiter_len;
        self.pos = find(self.bytes, delimiter, body_start)
            .map_or(self.bytes.len(), |close| close + delimiter_len);
        Kind::Other
    }

    /// Length of the `$tag$` delimiter at `pos`, if there is one. A tag may not
    /// start with a digit, which is what keeps `$1` a parameter.
    fn dollar_delimiter_len(&self) -> Option<usize> {
        let rest = &self.bytes[self.pos + 1..];
        if rest.first().is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let tag_len = rest.iter().take_while(|&&b| is_dollar_tag_byte(b)).count();
        (rest.get(tag_len) == Some(&b'$')).then_some(tag_len + 2)
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.skip_trivia();
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let kind = self.lex_token();
        Some(Token {
            kind,
            start,
            end: self.pos,
        })
    }
}

/// A `CHECK` clause of a `CREATE TABLE` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckClause {
    /// `CONSTRAINT name CHECK (...)`'s name.
    pub name: Option<String>,
    /// The expression inside the parentheses, tokens joined by single spaces where the
    /// text had whitespace or comments.
    pub expression: String,
}

/// The `CHECK` clauses of a `CREATE TABLE` statement, table and column ones alike, in
/// order (SQLite keeps them only in the statement's text).
pub fn check_clauses(create_table: &str) -> Vec<CheckClause> {
    let tokens: Vec<Token> = Lexer::new(create_table, Syntax::Standard).collect();
    let text = |t: &Token| &create_table[t.start..t.end];
    let is_word =
        |t: &Token, word: &str| t.kind == Kind::Word && text(t).eq_ignore_ascii_case(word);
    let mut clauses = Vec::new();
    let mut depth = 0u32;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        match token.kind {
            Kind::OpenParen => depth += 1,
            Kind::CloseParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        // In the table's body (depth 1), `CHECK (` opens a clause.
        let opens = depth == 1
            && is_word(token, "check")
            && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::OpenParen);
        if !opens {
            i += 1;
            continue;
        }
        let name = match i.checked_sub(2).map(|j| (&tokens[j], &tokens[j + 1])) {
            Some((constraint, name)) if is_word(constraint, "constraint") => {
                Some(unquoted(text(name)))
            }
            _ => None,
        };
        let (mut inner, mut j) = (0u32, i + 1);
        let mut parts: Vec<&Token> = Vec::new();
        while let Some(t) = tokens.get(j) {
            match t.kind {
                Kind::OpenParen => inner += 1,
                Kind::CloseParen => inner -= 1,
                _ => {}
            }
            if inner == 0 {
                break;
            }
            if j > i + 1 {
                parts.push(t);
            }
            j += 1;
        }
        let mut expression = String::new();
        for (k, part) in parts.iter().enumerate() {
            let spaced = k > 0 && parts[k - 1].end < part.start;
            if spaced {
                expression.push(' ');
            }
            expression.push_str(text(part));
        }
        clauses.push(CheckClause { name, expression });
        i = j + 1;
    }
    clauses
}

/// A name as written, its quotes taken off.
fn unquoted(name: &str) -> String {
    let quoted = name.len() >= 2
        && matches!(
            (name.as_bytes()[0], name.as_bytes()[name.len() - 1]),
            (b'"', b'"') | (b'`', b'`') | (b'[', b']')
        );
    if quoted {
        name[1..name.len() - 1].to_owned()
    } else {
        name.to_owned()
    }
}

/// Position of the first occurrence of `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_clauses_are_found_in_a_create_table_statement() {
        let clauses = check_clauses(
            "CREATE TABLE t (\n  id INT,\n  qty INT CHECK (qty > 0), -- CHECK (not this)\n  \
             note TEXT DEFAULT 'CHECK (nor this)',\n  CONSTRAINT \"note ok\" CHECK(length(note)  <  10 AND (qty<>3))\n)",
        );
        assert_eq!(
            clauses,
            [
                CheckClause {
                    name: None,
                    expression: "qty > 0".into()
                },
                CheckClause {
                    name: Some("note ok".into()),
                    expression: "length(note) < 10 AND (qty<>3)".into()
                },
            ]
        );
        assert!(check_clauses("CREATE TABLE u (id INT)").is_empty());
    }

    /// Checks the expected statements and the invariants every result must
    /// satisfy, including that `sql` followed by `;` splits back to exactly `sql`.
    fn check(name: &str, script: &str, expected: &[&str]) {
        let statements = check_invariants(name, script);
        let actual: Vec<&str> = statements.iter().map(|s| s.sql).collect();
        assert_eq!(actual, expected, "case {name:?}: {script:?}");
    }

    fn check_invariants<'a>(name: &str, script: &'a str) -> Vec<Statement<'a>> {
        let statements = split(script);
        for s in &statements {
            assert_eq!(
                &script[s.offset..s.offset + s.sql.len()],
                s.sql,
                "case {name:?}"
            );
            assert!(!s.sql.is_empty(), "case {name:?}: empty statement");
            // Only the start: an unterminated token legitimately runs on to the end.
            assert_eq!(
                s.sql.trim_start(),
                s.sql,
                "case {name:?}: untrimmed {:?}",
                s.sql
            );
        }
        statements
    }

    fn check_roundtrip(name: &str, sql: &str) {
        let terminated = format!("{sql};");
        let again: Vec<&str> = split(&terminated).iter().map(|s| s.sql).collect();
        assert_eq!(
            again,
            [sql],
            "case {name:?}: `sql;` is not one complete statement"
        );
    }

    fn run(cases: &[(&str, &str, &[&str])]) {
        for &(name, script, expected) in cases {
            check(name, script, expected);
            for sql in expected {
                assert_eq!(sql.trim_end(), *sql, "case {name:?}: untrimmed {sql:?}");
                check_roundtrip(name, sql);
            }
        }
    }

    #[test]
    fn plain_statements() {
        run(&[
            (
                "simple",
                "SELECT 1; SELECT 2;\nSELECT 3",
                &["SELECT 1", "SELECT 2", "SELECT 3"],
            ),
            (
                "multi-line",
                "CREATE TABLE t (\n  id int\n);\n\nINSERT INTO t VALUES (1);\n",
                &["CREATE TABLE t (\n  id int\n)", "INSERT INTO t VALUES (1)"],
            ),
            ("empty statements", ";; SELECT 1;;; ;", &["SELECT 1"]),
            ("empty script", "", &[]),
            ("whitespace only", " \n\t\r\n", &[]),
            (
                "unbalanced close paren",
                "SELECT 1); SELECT 2;",
                &["SELECT 1)", "SELECT 2"],
            ),
            (
                "semicolon inside parentheses",
                "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); \
                 INSERT INTO b VALUES (2)); SELECT 1;",
                &[
                    "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); \
                     INSERT INTO b VALUES (2))",
                    "SELECT 1",
                ],
            ),
        ]);
    }

    #[test]
    fn strings_and_quoted_identifiers() {
        run(&[
            (
                "semicolon in string",
                "INSERT INTO t VALUES ('a;b'); SELECT 'it''s;';",
                &["INSERT INTO t VALUES ('a;b')", "SELECT 'it''s;'"],
            ),
            (
                "backslash is ordinary in plain strings",
                r"SELECT 'C:\'; SELECT 2;",
                &[r"SELECT 'C:\'", "SELECT 2"],
            ),
            (
                "escape strings",
                r"SELECT E'it\'s; fine'; SELECT e'\\'; SELECT E'a''\';'; SELECT 3;",
                &[
                    r"SELECT E'it\'s; fine'",
                    r"SELECT e'\\'",
                    r"SELECT E'a''\';'",
                    "SELECT 3",
                ],
            ),
            (
                "only a lone e prefix makes an escape string",
                r"SELECT x AS some'\'; SELECT 2;",
                &[r"SELECT x AS some'\'", "SELECT 2"],
            ),
            (
                "double-quoted identifiers",
                r#"CREATE TABLE "we;ird" ("a""b;" int); SELECT 1;"#,
                &[r#"CREATE TABLE "we;ird" ("a""b;" int)"#, "SELECT 1"],
            ),
            (
                "backtick identifiers",
                "CREATE TABLE `a;b` (`c``;` int); SELECT 1;",
                &["CREATE TABLE `a;b` (`c``;` int)", "SELECT 1"],
            ),
            (
                "quotes of other kinds inside a string",
                r#"SELECT '"`;'; SELECT "'`;"; SELECT `'";`;"#,
                &[r#"SELECT '"`;'"#, r#"SELECT "'`;""#, r#"SELECT `'";`"#],
            ),
        ]);
    }

    #[test]
    fn comments() {
        run(&[
            (
                "line comments",
                "SELECT 1; -- not; a statement\nSELECT 2 -- trailing; comment\n;",
                &["SELECT 1", "SELECT 2"],
            ),
            (
                "comment inside a statement is kept",
                "SELECT 1 -- one;\n + 2;",
                &["SELECT 1 -- one;\n + 2"],
            ),
            (
                "nested block comments",
                "/* a /* b; */ still comment; */ SELECT 1; SELECT /* x; */ 2;",
                &["SELECT 1", "SELECT /* x; */ 2"],
            ),
            (
                "leading and trailing comments trimmed",
                "  /* lead */ SELECT /* in */ 1 -- trail\n ; ",
                &["SELECT /* in */ 1"],
            ),
            (
                "ends with line comment, no semicolon",
                "SELECT 1;\nSELECT 2 -- last",
                &["SELECT 1", "SELECT 2"],
            ),
            (
                "ends with block comment, no semicolon",
                "SELECT 1 /* end; */\n",
                &["SELECT 1"],
            ),
            (
                "trailing comment after last semicolon",
                "SELECT 1; -- bye;\n/* really; */\n",
                &["SELECT 1"],
            ),
            (
                "comment-only script",
                "-- just a comment\n/* and; /* another; */ */\n  \n--",
                &[],
            ),
            (
                "comment markers inside strings",
                "SELECT '--;', '/*;'; SELECT 2;",
                &["SELECT '--;', '/*;'", "SELECT 2"],
            ),
            (
                "carriage return ends a line comment",
                "SELECT 1 -- c\r; SELECT 2",
                &["SELECT 1", "SELECT 2"],
            ),
        ]);
    }

    #[test]
    fn dollar_quotes() {
        run(&[
            (
                "dollar quotes",
                "SELECT $$a;b$$; SELECT $fn$ x; $$ not end; $other$; $fn$; SELECT 3;",
                &[
                    "SELECT $$a;b$$",
                    "SELECT $fn$ x; $$ not end; $other$; $fn$",
                    "SELECT 3",
                ],
            ),
            (
                "closing tag must match exactly",
                "SELECT $a$ 1; $b$ 2; $ab$ 3; $a$; SELECT 4;",
                &["SELECT $a$ 1; $b$ 2; $ab$ 3; $a$", "SELECT 4"],
            ),
            (
                "positional parameters",
                "PREPARE q(int, int) AS SELECT $1, $2; SELECT 3;",
                &["PREPARE q(int, int) AS SELECT $1, $2", "SELECT 3"],
            ),
            (
                "tag may not start with a digit",
                "SELECT $1$; SELECT 2; $1$;",
                &["SELECT $1$", "SELECT 2", "$1$"],
            ),
            (
                "dollar inside identifiers",
                "SELECT foo$bar, a$b$ FROM t; SELECT x$$; SELECT 3;",
                &["SELECT foo$bar, a$b$ FROM t", "SELECT x$$", "SELECT 3"],
            ),
            (
                "dollar quote right after punctuation",
                "SELECT ($$;$$); SELECT 2;",
                &["SELECT ($$;$$)", "SELECT 2"],
            ),
            (
                "dollar quote body is opaque",
                "SELECT $q$ '; \"; /* ; -- ;$q$; SELECT 2;",
                &["SELECT $q$ '; \"; /* ; -- ;$q$", "SELECT 2"],
            ),
        ]);
    }

    #[test]
    fn plpgsql_and_triggers() {
        let function = "CREATE OR REPLACE FUNCTION f(n int) RETURNS int AS $body$
DECLARE
  i int := 0;
BEGIN
  IF n < 0 THEN
    RETURN 0;
  END IF;
  LOOP
    i := i + 1;
    EXIT WHEN i >= n;
  END LOOP;
  RETURN i;
END;
$body$ LANGUAGE plpgsql";
        let trigger =
            "CREATE TRIGGER t_audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION audit()";
        let script = format!("{function};\n{trigger};\nSELECT 1;\n");
        run(&[(
            "plpgsql function and trigger",
            &script,
            &[function, trigger, "SELECT 1"],
        )]);

        run(&[(
            "do block",
            "DO $$ BEGIN PERFORM 1; IF true THEN PERFORM 2; END IF; END $$; SELECT 2;",
            &[
                "DO $$ BEGIN PERFORM 1; IF true THEN PERFORM 2; END IF; END $$",
                "SELECT 2",
            ],
        )]);
    }

    #[test]
    fn begin_atomic_bodies() {
        let function = "CREATE FUNCTION sign_label(x int) RETURNS text LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN x > 0 THEN 'pos' WHEN x < 0 THEN 'neg' ELSE 'zero' END;
  SELECT 'done';
END";
        let procedure = "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC
  INSERT INTO t VALUES ((CASE WHEN true THEN 1 END));
  UPDATE t SET n = t.end;
END";
        let script = format!("{function};\n{procedure};\nSELECT 2;");
        run(&[("begin atomic", &script, &[function, procedure, "SELECT 2"])]);
    }

    #[test]
    fn sqlite_trigger() {
        let trigger = "CREATE TRIGGER log_insert AFTER INSERT ON items
BEGIN
  INSERT INTO log(item_id, note) VALUES (new.id, CASE WHEN new.qty > 0 THEN 'in' END);
  UPDATE stats SET n = CASE WHEN n IS NULL THEN 1 ELSE n + 1 END;
END";
        let script = format!("{trigger};\nINSERT INTO items VALUES (1);");
        run(&[(
            "sqlite trigger",
            &script,
            &[trigger, "INSERT INTO items VALUES (1)"],
        )]);
    }

    #[test]
    fn mysql_procedure() {
        let procedure = "CREATE PROCEDURE bump(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  IF n > 0 THEN
    SET i = n;
  ELSE
    SET i = 0;
  END IF;
  WHILE i > 0 DO
    SET i = i - 1;
  END WHILE;
  REPEAT SET i = i + 1; UNTIL i > 2 END REPEAT;
  inner_block: BEGIN
    SELECT i;
  END inner_block;
  CASE i WHEN 0 THEN SELECT 'zero'; ELSE SELECT 'other'; END CASE;
END";
        let script = format!("{procedure};\nCALL bump(3);");
        run(&[("mysql procedure", &script, &[procedure, "CALL bump(3)"])]);
    }

    #[test]
    fn transactions_and_keyword_lookalikes() {
        run(&[
            (
                "transaction",
                "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;",
                &["BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"],
            ),
            (
                "transaction variants",
                "begin transaction; SELECT 1; END; BEGIN ISOLATION LEVEL SERIALIZABLE; COMMIT;",
                &[
                    "begin transaction",
                    "SELECT 1",
                    "END",
                    "BEGIN ISOLATION LEVEL SERIALIZABLE",
                    "COMMIT",
                ],
            ),
            (
                "end and case outside a block change nothing",
                "END; END; SELECT CASE WHEN true THEN 1 END; SELECT 2;",
                &["END", "END", "SELECT CASE WHEN true THEN 1 END", "SELECT 2"],
            ),
            (
                "case outside a block opens nothing",
                "SELECT CASE WHEN true THEN 1 END loop; SELECT 2;",
                &["SELECT CASE WHEN true THEN 1 END loop", "SELECT 2"],
            ),
            (
                "begin inside longer words",
                "ALTER TABLE e ADD COLUMN begin_at timestamptz; SELECT xbegin, begin$ FROM e; \
                 SELECT 3;",
                &[
                    "ALTER TABLE e ADD COLUMN begin_at timestamptz",
                    "SELECT xbegin, begin$ FROM e",
                    "SELECT 3",
                ],
            ),
            (
                "quoted begin",
                r#"ALTER TABLE e ADD COLUMN "begin" int; SELECT `begin`, 'begin' FROM e; SELECT 3;"#,
                &[
                    r#"ALTER TABLE e ADD COLUMN "begin" int"#,
                    "SELECT `begin`, 'begin' FROM e",
                    "SELECT 3",
                ],
            ),
            (
                "qualified begin",
                "SELECT e.begin FROM e; SELECT 2;",
                &["SELECT e.begin FROM e", "SELECT 2"],
            ),
            (
                "begin in parentheses",
                "CREATE TABLE e (begin int, \"end\" int); SELECT 2;",
                &["CREATE TABLE e (begin int, \"end\" int)", "SELECT 2"],
            ),
        ]);
    }

    #[test]
    fn split_checked_gives_what_split_gives() {
        for script in [
            "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1) -- one",
            "SELECT 1; /* c */ SELECT 2;\n\n",
            "DO $$ BEGIN PERFORM 1; END $$;\nSELECT 'it",
            "",
        ] {
            assert_eq!(split_checked(script).0, split(script), "{script:?}");
        }
    }

    #[test]
    fn a_script_ends_cleanly_unless_something_is_left_open() {
        for script in [
            "CREATE TABLE t (id INT);",
            "SELECT 1",
            "SELECT 1; -- a comment at the end",
            "SELECT 1 /* closed */",
            "",
        ] {
            assert!(ends_cleanly(script), "{script:?}");
        }
        for script in [
            "INSERT INTO t VALUES ('it",
            "SELECT $x$ open",
            "SELECT 1 /* open",
            "SELECT \"open",
            "SELECT (1",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;",
        ] {
            assert!(!ends_cleanly(script), "{script:?}");
        }
    }

    #[test]
    fn unterminated_input_runs_to_the_end() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "string",
                "SELECT 1; SELECT 'oops; SELECT 2;",
                &["SELECT 1", "SELECT 'oops; SELECT 2;"],
            ),
            (
                "escape string ending in backslash",
                "SELECT E'abc\\",
                &["SELECT E'abc\\"],
            ),
            ("quoted identifier", "SELECT \"a; b", &["SELECT \"a; b"]),
            ("backtick identifier", "SELECT `a; b", &["SELECT `a; b"]),
            (
                "dollar quote",
                "SELECT 1; SELECT $$ x; y",
                &["SELECT 1", "SELECT $$ x; y"],
            ),
            (
                "tagged dollar quote",
                "SELECT $a$ x; $b$;",
                &["SELECT $a$ x; $b$;"],
            ),
            (
                "block comment",
                "SELECT 1; SELECT 2 /* oops; ",
                &["SELECT 1", "SELECT 2 /* oops; "],
            ),
            (
                "nested block comment",
                "SELECT 1 /* a /* b */ c; ",
                &["SELECT 1 /* a /* b */ c; "],
            ),
            ("lone block comment", "/* oops", &["/* oops"]),
            (
                "block body",
                "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;",
                &["CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;"],
            ),
            ("lone dollar", "SELECT $", &["SELECT $"]),
        ];
        for &(name, script, expected) in cases {
            check(name, script, expected);
        }
    }

    #[test]
    fn unicode() {
        let script = "INSERT INTO t VALUES ('héllo; wörld'); SELECT \"naïve;col\" FROM t; \
                      -- ünïcode; comment\nSELECT '日本;語' /* ü; */ AS x -- é; ";
        run(&[(
            "unicode",
            script,
            &[
                "INSERT INTO t VALUES ('héllo; wörld')",
                "SELECT \"naïve;col\" FROM t",
                "SELECT '日本;語' /* ü; */ AS x",
            ],
        )]);
        let statements = split(script);
        assert_eq!(statements[1].offset, script.find("SELECT \"naïve").unwrap());
        assert_eq!(statements[2].offset, script.find("SELECT '日本").unwrap());

        run(&[
            (
                "non-ASCII identifier characters",
                "SELECT é$$; SELECT ünbegin, beginü FROM t; SELECT 3;",
                &["SELECT é$$", "SELECT ünbegin, beginü FROM t", "SELECT 3"],
            ),
            (
                "non-ASCII dollar tag",
                "SELECT $é$ a; $é$; SELECT 2;",
                &["SELECT $é$ a; $é$", "SELECT 2"],
            ),
            (
                "escape before a multi-byte character",
                "SELECT E'\\é;'; SELECT 2;",
                &["SELECT E'\\é;'", "SELECT 2"],
            ),
        ]);
    }

    #[test]
    fn offsets_are_byte_positions_of_the_first_token() {
        let script = "SELECT 1;\n  -- c\n  SELECT 2 ;\n";
        let statements = split(script);
        assert_eq!(
            statements,
            [
                Statement {
                    sql: "SELECT 1",
                    offset: 0
                },
                Statement {
                    sql: "SELECT 2",
                    offset: 19
                },
            ]
        );
    }

    /// Every truncation of a script mixing all constructs must split without
    /// panicking and keep the invariants, which covers every way input can end
    /// in the middle of something.
    #[test]
    fn every_prefix_splits_cleanly() {
        let script =
            "BEGIN; SELECT 'a''b', E'c\\'d', \"e\"\"f\", `g``h` -- x\n FROM t; /* a /* b */ */
DO $$ BEGIN NULL; END $$; SELECT $t$ ; $t$, $1, a$b;
CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; END;
CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END; SELECT 'ü日本' -- é\nCOMMIT;";
        let mut count = 0;
        for end in (0..=script.len()).filter(|&i| script.is_char_boundary(i)) {
            check_invariants("prefix", &script[..end]);
            count += 1;
        }
        assert!(count > 300);
        let first_words: Vec<&str> = split(script)
            .iter()
            .map(|s| s.sql.split_whitespace().next().unwrap())
            .collect();
        // The final comment is inside the last statement, so `COMMIT` is not one of its own.
        let expected = [
            "BEGIN", "SELECT", "DO", "SELECT", "CREATE", "CREATE", "SELECT",
        ];
        assert_eq!(first_words, expected);
    }

    #[test]
    fn large_script_is_split_linearly() {
        let one = "INSERT INTO t VALUES (1, 'x;y', $$z;$$); -- c\n";
        let script = one.repeat(50_000);
        let statements = split(&script);
        assert_eq!(statements.len(), 50_000);
        assert_eq!(statements[49_999].offset, one.len() * 49_999);
    }

    #[test]
    fn mysql_strings_escape_with_backslashes_and_hash_starts_a_comment() {
        let mysql = |script| -> Vec<&str> { split_mysql(script).iter().map(|s| s.sql).collect() };
        assert_eq!(
            mysql("INSERT INTO t VALUES ('it\\'s; fine', \"a\\\"; b\"); # done; really\nSELECT 1;"),
            [
                "INSERT INTO t VALUES ('it\\'s; fine', \"a\\\"; b\")",
                "SELECT 1"
            ]
        );
        assert_eq!(
            mysql("CREATE TABLE `a;b` (x INT); /* a /* b */ SELECT 2; -- c\n"),
            ["CREATE TABLE `a;b` (x INT)", "SELECT 2"]
        );
        // No dollar quotes in MySQL: `$` is part of a name.
        assert_eq!(mysql("SELECT $a$; SELECT 3"), ["SELECT $a$", "SELECT 3"]);
        assert_eq!(
            mysql(
                "CREATE PROCEDURE p() BEGIN DECLARE x INT; IF x THEN SELECT 1; END IF; END;\nCALL p();"
            ),
            [
                "CREATE PROCEDURE p() BEGIN DECLARE x INT; IF x THEN SELECT 1; END IF; END",
                "CALL p()"
            ]
        );
        // The same text in PostgreSQL: a backslash is an ordinary character.
        assert_eq!(split("SELECT 'a\\'; SELECT 'b'").len(), 2);
        assert_eq!(split_mysql("SELECT 'a\\'; SELECT 'b'").len(), 1);
    }

    #[test]
    fn mysql_executable_comments_and_double_dashes_are_statement_text() {
        let mysql = |script| -> Vec<&str> { split_mysql(script).iter().map(|s| s.sql).collect() };
        assert_eq!(
            mysql(
                "/*!40014 SET FOREIGN_KEY_CHECKS=0 */;\n/*!50001 CREATE VIEW v AS SELECT 1 */;\nCREATE TABLE t (id INT) /*M!100100 COMMENT 'x' */;\n/* plain */ SELECT /*+ NO_ICP(t) */ 1;"
            ),
            [
                "/*!40014 SET FOREIGN_KEY_CHECKS=0 */",
                "/*!50001 CREATE VIEW v AS SELECT 1 */",
                "CREATE TABLE t (id INT) /*M!100100 COMMENT 'x' */",
                "SELECT /*+ NO_ICP(t) */ 1"
            ]
        );
        // `--` without a space after it is two minus signs in MySQL.
        assert_eq!(
            mysql("UPDATE c SET n = n--1;\nSELECT 1 -- a comment; still\n;"),
            ["UPDATE c SET n = n--1", "SELECT 1"]
        );
        assert_eq!(mysql("SELECT 1;\n--"), ["SELECT 1"]);
        // In PostgreSQL `--` always starts a comment, and /*! is a comment.
        assert_eq!(split("SELECT 1--1\n;/*! x */").len(), 1);
    }

    #[test]
    fn begin_not_atomic_is_a_block() {
        let script = "BEGIN NOT ATOMIC\n  DECLARE x INT;\n  SET x = 1;\nEND;\nBEGIN;\nSELECT 1;";
        let statements: Vec<&str> = split_mysql(script).iter().map(|s| s.sql).collect();
        assert_eq!(
            statements,
            [
                "BEGIN NOT ATOMIC\n  DECLARE x INT;\n  SET x = 1;\nEND",
                "BEGIN",
                "SELECT 1"
            ]
        );
    }
}
