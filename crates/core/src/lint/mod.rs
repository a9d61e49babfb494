//! `skein lint`: destructive and lock-unsafe statements in migrations, found before they
//! reach a fleet. Statements come from skein's splitter (so each finding has its
//! file:line:column) and are parsed with sqlparser in the database's dialect; a statement
//! it cannot read is reported as not checked, never passed over in silence.
//!
//! What a rule knows of the database: the tables the same migrations create (a lock on a
//! table that has no rows yet is harmless), and, when the database answers, each table's
//! estimated row count (a lock on a large table is an error that names its size).

pub mod rules;

use crate::Version;
use crate::dialect::Dialect;
use crate::migration::Migration;
use crate::position::line_column;
use rules::{Rule, Severity};
use schemars::JsonSchema;
use serde::Serialize;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, ObjectName, ObjectType, Statement,
    TableConstraint,
};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// A table with at least this many rows (estimated) makes a lock finding an error.
pub const LARGE_TABLE_ROWS: u64 = 100_000;

/// What to lint, and what is known of the database.
pub struct Lint<'a> {
    pub dialect: Dialect,
    /// The migrations to check, in order (the pending ones, or those since a version).
    pub migrations: Vec<&'a Migration>,
    /// Every migration of the database, to tell a missing down from the usual.
    pub all: &'a [Migration],
    /// The session sets `lock_timeout` already (the database's `init_sql`).
    pub session_lock_timeout: bool,
    /// What the database says of its tables, when it answers.
    pub live: Live,
}

/// What a live database says of its tables.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Estimated rows of each table (lower-case name without its schema).
    pub rows: HashMap<String, u64>,
    /// Each column's type as the server writes it (`character varying(20)`), by table and
    /// column (lower case).
    pub columns: HashMap<(String, String), String>,
}

/// One finding.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    #[schemars(with = "String")]
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub version: Version,
    /// The table the statement changes, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Its estimated row count, when the database told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// What was found, in a sentence.
    pub message: String,
    pub why: &'static str,
    pub fix: &'static str,
}

/// What linting found.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Statements looked at.
    pub statements: usize,
    /// Statements the parser could not read (each is also a `not-checked` finding).
    pub unchecked: usize,
    /// Findings left out by `-- skein:lint-ignore`.
    pub ignored: usize,
}

impl Outcome {
    /// The worst severity found.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Lints `input.migrations`' up files.
pub fn lint(input: &Lint) -> Outcome {
    let mut outcome = Outcome::default();
    let mut seen = Seen::default();
    for migration in &input.migrations {
        let mut file = FileLint::new(input, migration, &mut seen);
        file.check();
        outcome.statements += file.statements;
        outcome.unchecked += file.unchecked;
        outcome.ignored += file.ignored;
        outcome.findings.extend(file.findings);
    }
    outcome
}

/// What the migrations linted so far did that later statements depend on.
#[derive(Default)]
struct Seen {
    /// Tables (and materialized views) they create: new, so without rows to lock.
    created: HashSet<String>,
    /// `CHECK (col IS NOT NULL) NOT VALID` constraints not validated yet: name -> column.
    unvalidated_checks: HashMap<String, (String, String)>,
    /// Columns with a validated `CHECK (col IS NOT NULL)`: SET NOT NULL skips its scan.
    checked_not_null: HashSet<(String, String)>,
    /// Columns whose type these migrations changed: the live type is no longer theirs.
    retyped: HashSet<(String, String)>,
}

/// What a rule looks at.
pub(crate) enum Subject<'s> {
    /// A statement, after the operations of an ALTER TABLE were looked at one by one.
    Statement(&'s Statement),
    /// One operation of an ALTER TABLE, in order.
    Operation {
        table: &'s str,
        operation: &'s AlterTableOperation,
    },
    /// A statement the parser could not read, as text.
    Unparsed(&'s str),
    /// The file as a whole, once its statements were looked at.
    File,
}

/// SQLite's rebuild of a table, seen at the rename: the table a copy is renamed to was
/// dropped earlier in the file, at `drop_offset`.
#[derive(Debug, Clone)]
pub(crate) struct Rebuilt {
    pub table: String,
    pub drop_offset: usize,
}

/// A column an ALTER TABLE adds, as the rules about new columns read it.
pub(crate) struct AddedColumn {
    pub not_null: bool,
    pub default: Option<String>,
    /// Identity, stored generated and serial columns: filled for every row.
    pub generated: bool,
}

impl AddedColumn {
    pub fn of(column: &sqlparser::ast::ColumnDef) -> Self {
        let mut added = AddedColumn {
            not_null: false,
            default: None,
            generated: matches!(
                column.data_type.to_string().to_ascii_lowercase().as_str(),
                "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
            ),
        };
        for option in &column.options {
            match &option.option {
                ColumnOption::NotNull => added.not_null = true,
                ColumnOption::Default(expr) => added.default = Some(expr.to_string()),
                ColumnOption::Generated { .. } => added.generated = true,
                _ => {}
            }
        }
        added
    }
}

/// The lint of one up file: it reads the statements, keeps what they did that later ones
/// depend on, and hands each statement (each operation of an ALTER TABLE) to every rule.
pub(crate) struct FileLint<'a, 'b> {
    input: &'a Lint<'a>,
    migration: &'a Migration,
    seen: &'b mut Seen,
    transactional: bool,
    lock_timeout: bool,
    has_ddl: bool,
    warned_lock_timeout: bool,
    /// The database's other migrations have down files.
    others_have_downs: bool,
    /// MySQL: `foreign_key_checks = 0` is set at this point of the file, so a foreign key
    /// is added in place.
    foreign_key_checks_off: bool,
    /// SQLite: tables dropped in this file, for the rebuild pattern: where the DROP is,
    /// and its finding (none when it was ignored).
    dropped: HashMap<String, (usize, Option<usize>)>,
    /// The rename being looked at is SQLite's rebuild of this table.
    rebuild: Option<Rebuilt>,
    statements: usize,
    unchecked: usize,
    ignored: usize,
    findings: Vec<Finding>,
}

impl<'a, 'b> FileLint<'a, 'b> {
    fn new(input: &'a Lint<'a>, migration: &'a Migration, seen: &'b mut Seen) -> Self {
        let text = migration.up.sql.to_ascii_lowercase();
        let pieces = split(input.dialect, &migration.up.sql);
        let has_ddl = pieces.iter().any(|s| {
            let head = first_word(s.sql);
            matches!(head.as_str(), "create" | "alter" | "drop")
        });
        let lock_timeout = input.session_lock_timeout
            || pieces.iter().any(|s| {
                first_word(s.sql) == "set" && s.sql.to_ascii_lowercase().contains("lock_timeout")
            })
            || text.contains("set_config('lock_timeout'");
        FileLint {
            input,
            migration,
            seen,
            transactional: !migration.up.no_transaction,
            lock_timeout,
            has_ddl,
            warned_lock_timeout: false,
            others_have_downs: input.all.iter().any(|m| m.down.is_some()),
            foreign_key_checks_off: false,
            dropped: HashMap::new(),
            rebuild: None,
            statements: 0,
            unchecked: 0,
            ignored: 0,
            findings: Vec::new(),
        }
    }

    fn check(&mut self) {
        let sql = &self.migration.up.sql;
        for piece in split(self.input.dialect, sql) {
            self.statements += 1;
            if first_word(piece.sql) == "set" {
                let setting = piece.sql.to_ascii_lowercase().replace(' ', "");
                if setting.contains("foreign_key_checks=0") {
                    self.foreign_key_checks_off = true;
                } else if setting.contains("foreign_key_checks=1") {
                    self.foreign_key_checks_off = false;
                }
            }
            if let Some(depth) = too_deep(self.input.dialect, piece.sql) {
                // Its syntax tree would be as deep: parsing (and dropping) it would exhaust
                // the stack. It is reported, never read.
                self.unchecked += 1;
                self.found(
                    Rule::NotChecked,
                    piece.offset,
                    None,
                    format!("not checked: the statement is too deep to read safely ({depth})"),
                );
                continue;
            }
            let parsed = sqlparser::parser::Parser::parse_sql(
                &*parser_dialect(self.input.dialect),
                piece.sql,
            );
            match parsed {
                Ok(statements) => {
                    for statement in &statements {
                        self.statement(statement, piece.offset);
                    }
                }
                Err(_) if self.unparsed(piece.sql, piece.offset) => {}
                Err(err) => {
                    self.unchecked += 1;
                    self.found(
                        Rule::NotChecked,
                        piece.offset,
                        None,
                        format!("not checked: the parser stopped at {err}"),
                    );
                }
            }
        }
        self.dispatch(&Subject::File, 0);
    }

    /// Hands `subject` to every rule; whether one read it (for an unparsed statement).
    fn dispatch(&mut self, subject: &Subject<'_>, offset: usize) -> bool {
        let mut read = false;
        for rule in rules::RULES {
            if let Some(check) = rule.check {
                read |= check(self, subject, offset);
            }
        }
        read
    }

    /// A statement the parser does not know: whether a rule read its text, or it is one
    /// no rule is about.
    fn unparsed(&mut self, sql: &str, offset: usize) -> bool {
        if self.dispatch(&Subject::Unparsed(sql), offset) {
            return true;
        }
        let lower = sql.to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        // A table (or materialized view) made by a form the parser does not read
        // (CREATE TABLE ... AS WITH ..., ... WITH DATA) is still new: nothing locks rows
        // it does not have yet.
        if let ["create", "table", rest @ ..] | ["create", "materialized", "view", rest @ ..] =
            words.as_slice()
        {
            let name = match rest {
                ["if", "not", "exists", name, ..] | [name, ..] => *name,
                [] => "",
            };
            let name = name.split('(').next().unwrap_or_default();
            let name = name
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .trim_matches('"');
            if !name.is_empty() {
                self.seen.created.insert(name.to_owned());
            }
            return false;
        }
        // Statements no rule is about, which the parser does not know in every form:
        // comments on objects, privileges, sequence settings, dropping an index,
        // statistics and a plain VACUUM (VACUUM FULL is read by `table-rewrite`).
        matches!(
            words.as_slice(),
            ["comment", "on", ..]
                | ["grant", ..]
                | ["revoke", ..]
                | ["alter", "sequence", ..]
                | ["drop", "index", ..]
                | ["vacuum", ..]
                | ["analyze", ..]
        )
    }

    fn statement(&mut self, statement: &Statement, offset: usize) {
        match statement {
            Statement::CreateTable(create) => {
                let table = table_name(&create.name);
                // `IF NOT EXISTS` on a table the database has already makes nothing new.
                if !(create.if_not_exists && self.input.live.rows.contains_key(&table)) {
                    self.seen.created.insert(table);
                }
            }
            Statement::CreateView(view) if view.materialized => {
                self.seen.created.insert(table_name(&view.name));
            }
            Statement::AlterTable(alter) => {
                let table = table_name(&alter.name);
                for operation in &alter.operations {
                    self.operation(operation, offset, &table);
                }
            }
            _ => {}
        }
        let before = self.findings.len();
        self.dispatch(&Subject::Statement(statement), offset);
        if let Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } = statement
        {
            for name in names {
                let table = table_name(name);
                let finding = (before..self.findings.len()).find(|&i| {
                    self.findings[i].rule == Rule::DropTable
                        && self.findings[i].table.as_deref() == Some(table.as_str())
                });
                self.dropped.insert(table, (offset, finding));
            }
        }
    }

    /// One operation of an ALTER TABLE: what it tells later statements, and the rules.
    fn operation(&mut self, operation: &AlterTableOperation, offset: usize, table: &str) {
        if let AlterTableOperation::AddConstraint {
            constraint: TableConstraint::Check(check),
            not_valid,
        } = operation
            && let Some(column) = not_null_column(&check.expr.to_string())
        {
            let key = (table.to_owned(), column);
            match (&check.name, not_valid) {
                (Some(name), true) => {
                    self.seen
                        .unvalidated_checks
                        .insert(name.value.to_lowercase(), key);
                }
                (_, false) => {
                    self.seen.checked_not_null.insert(key);
                }
                (None, true) => {}
            }
        }
        self.rebuild = match operation {
            AlterTableOperation::RenameTable { table_name: new }
                if self.locks().rebuilds_by_hand =>
            {
                let new = match new {
                    sqlparser::ast::RenameTableNameKind::As(name)
                    | sqlparser::ast::RenameTableNameKind::To(name) => table_name(name),
                };
                self.dropped.get(&new).map(|&(drop_offset, _)| Rebuilt {
                    table: new,
                    drop_offset,
                })
            }
            _ => None,
        };
        self.dispatch(&Subject::Operation { table, operation }, offset);
        match operation {
            AlterTableOperation::ValidateConstraint { name } => {
                if let Some(key) = self
                    .seen
                    .unvalidated_checks
                    .remove(&name.value.to_lowercase())
                {
                    self.seen.checked_not_null.insert(key);
                }
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { .. },
            } if self.locks().rewrites_on_alter => {
                self.seen
                    .retyped
                    .insert((table.to_owned(), column_name.value.to_lowercase()));
            }
            _ => {}
        }
        // The rebuild's drop is not a drop of its own.
        if let Some(rebuilt) = self.rebuild.take()
            && let Some((_, Some(at))) = self.dropped.remove(&rebuilt.table)
        {
            self.findings.remove(at);
            for (_, later) in self.dropped.values_mut() {
                if let Some(later) = later.as_mut().filter(|l| **l > at) {
                    *later -= 1;
                }
            }
        }
    }

    /// How the backend's DDL locks, as the rules ask.
    fn locks(&self) -> &'static crate::backend::Locks {
        self.input.dialect.backend().locks()
    }

    /// A lock rule on `table`: not for a table these migrations create; an error or a
    /// warning by the table's size when it is known.
    fn on_existing(&mut self, rule: Rule, offset: usize, table: &str, message: String) {
        if self.seen.created.contains(table) {
            return;
        }
        self.found(rule, offset, Some(table), message);
    }

    /// Records a finding at `offset`, unless the line before the statement ignores it.
    fn found(&mut self, rule: Rule, offset: usize, table: Option<&str>, message: String) {
        let text = &self.migration.up.sql;
        if ignored_before(text, offset, rule) {
            self.ignored += 1;
            return;
        }
        let at = line_column(text, offset);
        let rows = table.and_then(|t| self.input.live.rows.get(t).copied());
        let mut severity = rule.severity();
        let mut message = message;
        if rule.is_about_existing_rows()
            && let Some(rows) = rows
        {
            message.push_str(&format!(
                " ({} has ~{} rows)",
                table.unwrap_or_default(),
                human_count(rows)
            ));
            if rows < LARGE_TABLE_ROWS && rule.is_lock_on_existing_rows() {
                severity = Severity::Warning;
            }
        }
        self.findings.push(Finding {
            rule,
            severity,
            file: self.migration.up.path.clone(),
            line: at.line,
            column: at.column,
            version: self.migration.version,
            table: table.map(str::to_owned),
            rows,
            message,
            why: rule.why(),
            fix: rule.fix(),
        });
    }
}

/// Binary operators (and parentheses open at once) beyond which a statement is not
/// parsed: each one is a level of the syntax tree, and the parser and the tree's drop
/// recurse over them. Real migrations stay far below; generated chains of a million `OR`
/// terms do not.
const MAX_OPERATORS: usize = 1_000;
const MAX_NESTING: usize = 200;

/// Why `sql` is too deep to parse, if it is: counted on its tokens, which the tokenizer
/// reads without recursion.
fn too_deep(dialect: Dialect, sql: &str) -> Option<String> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::{Token, Tokenizer};
    // Statements this short cannot hold that many operators.
    if sql.len() < MAX_OPERATORS * 2 {
        return None;
    }
    let dialect = parser_dialect(dialect);
    let tokens = Tokenizer::new(&*dialect, sql).tokenize().ok()?;
    let (mut operators, mut open, mut deepest) = (0_usize, 0_usize, 0_usize);
    for token in &tokens {
        match token {
            Token::LParen => {
                open += 1;
                deepest = deepest.max(open);
            }
            Token::RParen => open = open.saturating_sub(1),
            Token::Word(word) if matches!(word.keyword, Keyword::AND | Keyword::OR) => {
                operators += 1;
            }
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Caret
            | Token::Ampersand
            | Token::Pipe => operators += 1,
            _ => {}
        }
    }
    if operators > MAX_OPERATORS {
        Some(format!(
            "{operators} operators in one expression chain, more than {MAX_OPERATORS}"
        ))
    } else if deepest > MAX_NESTING {
        Some(format!(
            "{deepest} nested parentheses, more than {MAX_NESTING}"
        ))
    } else {
        None
    }
}

/// What the database says of its tables: each one's estimated row count as the server
/// keeps it (PostgreSQL: `reltuples`, or the statistics' live rows for a table not analyzed
/// yet; MySQL: `TABLE_ROWS`) and, on PostgreSQL, each column's type. SQLite keeps no
/// sizes.
pub async fn live(conn: &mut impl crate::driver::Driver) -> crate::error::Result<Live> {
    let Some((rows, columns)) = conn.dialect().backend().table_sizes() else {
        return Ok(Live::default());
    };
    let text = |cell: Option<&serde_json::Value>| cell?.as_str().map(str::to_lowercase);
    let rows = conn
        .query_rows(rows)
        .await?
        .rows
        .into_iter()
        .filter_map(|row| {
            let count = match row.get(1)? {
                serde_json::Value::Number(n) => n
                    .as_u64()
                    .or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))?,
                serde_json::Value::String(s) => s.parse().ok()?,
                _ => return None,
            };
            Some((text(row.first())?, count))
        })
        .collect();
    let columns = match columns {
        Some(sql) => conn
            .query_rows(sql)
            .await?
            .rows
            .into_iter()
            .filter_map(|row| Some(((text(row.first())?, text(row.get(1))?), text(row.get(2))?)))
            .collect(),
        None => HashMap::new(),
    };
    Ok(Live { rows, columns })
}

/// Whether the nearest non-blank line before `offset` is `-- skein:lint-ignore RULE ...`.
fn ignored_before(text: &str, offset: usize, rule: Rule) -> bool {
    let before = &text[..offset.min(text.len())];
    let Some(line) = before.lines().rev().map(str::trim).find(|l| !l.is_empty()) else {
        return false;
    };
    line.strip_prefix("--")
        .map(str::trim)
        .and_then(|c| c.strip_prefix("skein:lint-ignore"))
        .is_some_and(|rest| rest.split_whitespace().next() == Some(rule.id()))
}

fn split(dialect: Dialect, sql: &str) -> Vec<crate::split::Statement<'_>> {
    dialect.backend().split(sql)
}

fn parser_dialect(dialect: Dialect) -> Box<dyn sqlparser::dialect::Dialect> {
    dialect.backend().sql_parser()
}

/// A table's name as rows are keyed: the last part, unquoted, lower case.
fn table_name(name: &ObjectName) -> String {
    let text = name.to_string();
    let last = text.rsplit('.').next().unwrap_or(&text);
    last.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']')
        .to_lowercase()
}

fn first_word(sql: &str) -> String {
    sql.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn first_line(sql: &str) -> &str {
    sql.lines().next().unwrap_or_default().trim()
}

/// The column of a `col IS NOT NULL` check, lower case and unquoted.
fn not_null_column(expr: &str) -> Option<String> {
    let lower = expr
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_lowercase();
    let column = lower.strip_suffix(" is not null")?.trim();
    let column = column.rsplit('.').next()?.trim_matches('"');
    (!column.is_empty() && !column.contains(' ')).then(|| column.to_owned())
}

/// 1234567 -> `1.2M`, 12000 -> `12k`, 950 -> `950`.
fn human_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Checksum;
    use crate::migration::Script;
    use rules::rewrites;

    fn migration(version: Version, up: &str, down: Option<&str>) -> Migration {
        let name = format!("{version}_m");
        let up_path = PathBuf::from(format!("m/{name}.up.sql"));
        Migration {
            version,
            description: "m".to_owned(),
            up: Script::new(up_path, up.to_owned()).unwrap(),
            down: down.map(|d| {
                Script::new(PathBuf::from(format!("m/{name}.down.sql")), d.to_owned()).unwrap()
            }),
            checksum: Checksum::of_normalised(up),
            repeatable: false,
        }
    }

    /// The findings of linting `up` (as a pending migration after one that created
    /// `trades`), as `rule line:column`.
    fn found_in(dialect: Dialect, up: &str, rows: &[(&str, u64)]) -> Vec<String> {
        let all = vec![
            migration(
                1,
                "CREATE TABLE trades (id INT);",
                Some("DROP TABLE trades;"),
            ),
            migration(2, up, Some("SELECT 1;")),
        ];
        let input = Lint {
            dialect,
            migrations: vec![&all[1]],
            all: &all,
            session_lock_timeout: false,
            live: Live {
                rows: rows.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect(),
                ..Live::default()
            },
        };
        lint(&input)
            .findings
            .iter()
            .map(|f| format!("{} {}:{}", f.rule.id(), f.line, f.column))
            .collect()
    }

    fn pg(up: &str) -> Vec<String> {
        found_in(
            Dialect::Postgres,
            &format!("SET lock_timeout = '5s';\n{up}"),
            &[],
        )
    }

    #[test]
    fn postgres_rules_fire_where_expected_and_not_on_the_safe_form() {
        let cases: &[(&str, &[&str])] = &[
            (
                "CREATE INDEX t_id ON trades (id);",
                &["index-not-concurrent 2:1"],
            ),
            (
                "CREATE INDEX CONCURRENTLY t_id ON trades (id);",
                &["concurrent-in-transaction 2:1"],
            ),
            (
                "ALTER TABLE trades ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES x (id);",
                &["constraint-not-validated 2:1"],
            ),
            (
                "ALTER TABLE trades ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES x (id) NOT VALID;",
                &[],
            ),
            (
                "ALTER TABLE trades ADD CONSTRAINT c CHECK (id > 0);",
                &["constraint-not-validated 2:1"],
            ),
            (
                "ALTER TABLE trades ALTER COLUMN id SET NOT NULL;",
                &["set-not-null 2:1"],
            ),
            (
                "ALTER TABLE trades ALTER COLUMN id TYPE bigint;",
                &["column-type-change 2:1"],
            ),
            (
                "ALTER TABLE trades ADD COLUMN k uuid DEFAULT gen_random_uuid();",
                &["volatile-default 2:1"],
            ),
            ("ALTER TABLE trades ADD COLUMN k int DEFAULT 0;", &[]),
            (
                "ALTER TABLE trades ADD COLUMN k int NOT NULL;",
                &["not-null-without-default 2:1"],
            ),
            (
                "ALTER TABLE trades ADD COLUMN k int NOT NULL DEFAULT 0;",
                &[],
            ),
            (
                "ALTER TABLE trades ADD CONSTRAINT u UNIQUE (id);",
                &["constraint-without-index 2:1"],
            ),
            (
                "ALTER TABLE trades ADD CONSTRAINT u UNIQUE USING INDEX trades_id;",
                &[],
            ),
            ("VACUUM FULL trades;", &["table-rewrite 2:1"]),
            ("CLUSTER trades USING trades_pkey;", &["table-rewrite 2:1"]),
            ("DROP TABLE trades;", &["drop-table 2:1"]),
            ("ALTER TABLE trades DROP COLUMN id;", &["drop-column 2:1"]),
            (
                "ALTER TABLE trades RENAME COLUMN id TO trade_id;",
                &["rename 2:1"],
            ),
            ("ALTER TABLE trades RENAME TO deals;", &["rename 2:1"]),
            (
                "CREATE TABLE fresh (id INT);\nCREATE INDEX f_id ON fresh (id);",
                &[],
            ),
            (
                "CREATE MATERIALIZED VIEW mv AS SELECT id FROM trades WITH DATA;\nCREATE INDEX mv_id ON mv (id);",
                // The view is not read by the parser, but it is new: its index is fine.
                &["not-checked 2:1"],
            ),
            (
                "CREATE TABLE copy AS WITH a AS (SELECT id FROM trades) SELECT id FROM a WITH DATA;\nCREATE INDEX copy_id ON copy (id);",
                &[],
            ),
            (
                "COMMENT ON CONSTRAINT c ON trades IS 'x';\nGRANT SELECT ON trades TO r;",
                &[],
            ),
            ("SELECT 1;", &[]),
        ];
        for (up, expected) in cases {
            assert_eq!(pg(up), *expected, "{up}");
        }
    }

    #[test]
    fn lock_timeout_unbounded_writes_and_unparsed_statements() {
        assert_eq!(
            found_in(
                Dialect::Postgres,
                "ALTER TABLE trades ADD COLUMN k int;",
                &[]
            ),
            ["no-lock-timeout 1:1"]
        );
        assert_eq!(
            pg("ALTER TABLE trades ADD COLUMN k int;\nUPDATE trades SET k = 1;"),
            ["unbounded-write-with-ddl 3:1"]
        );
        assert_eq!(
            pg("ALTER TABLE trades ADD COLUMN k int;\nUPDATE trades SET k = 1 WHERE id < 10;"),
            Vec::<String>::new()
        );
        assert_eq!(pg("CREATE FOO BAR;"), ["not-checked 2:1"]);
    }

    #[test]
    fn table_sizes_raise_or_lower_a_finding_and_ignore_comments_suppress_one() {
        let big = found_in(
            Dialect::Postgres,
            "SET lock_timeout = '1s';\nCREATE INDEX t_id ON trades (id);",
            &[("trades", 1_000_000)],
        );
        assert_eq!(big, ["index-not-concurrent 2:1"]);
        let all = [migration(1, "CREATE INDEX t_id ON trades (id);", None)];
        let rows = |n| {
            lint(&Lint {
                dialect: Dialect::Postgres,
                migrations: vec![&all[0]],
                all: &all,
                session_lock_timeout: true,
                live: Live {
                    rows: [("trades".to_owned(), n)].into(),
                    ..Live::default()
                },
            })
            .findings
        };
        let large = rows(1_000_000);
        assert_eq!(large[0].severity, Severity::Error);
        assert!(
            large[0].message.contains("trades has ~1.0M rows"),
            "{}",
            large[0].message
        );
        assert_eq!(
            rows(12).first().map(|f| f.severity),
            Some(Severity::Warning)
        );
        assert_eq!(
            pg(
                "-- skein:lint-ignore index-not-concurrent built at night\nCREATE INDEX t_id ON trades (id);"
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            pg("-- skein:lint-ignore drop-table wrong rule\nCREATE INDEX t_id ON trades (id);"),
            ["index-not-concurrent 3:1"]
        );
    }

    #[test]
    fn a_type_change_rewrites_unless_it_only_widens() {
        for (old, new, rewrites_table) in [
            ("character varying(20)", "VARCHAR(40)", false),
            ("character varying(20)", "CHARACTER VARYING(10)", true),
            ("character varying(20)", "TEXT", false),
            ("character varying(20)", "VARCHAR", false),
            ("text", "VARCHAR(10)", true),
            ("numeric(10,2)", "NUMERIC(12,2)", false),
            ("numeric(10,2)", "NUMERIC(12,3)", true),
            ("numeric(10,2)", "NUMERIC", false),
            ("integer", "BIGINT", true),
            ("bigint", "BIGINT", false),
            ("character varying(20)[]", "VARCHAR(10)[]", true),
            ("character varying(20)[]", "VARCHAR(40)[]", false),
            (
                "timestamp(6) with time zone",
                "TIMESTAMP(6) WITHOUT TIME ZONE",
                true,
            ),
        ] {
            assert_eq!(rewrites(old, new), rewrites_table, "{old} -> {new}");
        }
        let all = [migration(
            1,
            "SET lock_timeout = '1s';\nALTER TABLE trades ALTER COLUMN ref TYPE varchar(64);",
            None,
        )];
        let with = |old: &str| {
            lint(&Lint {
                dialect: Dialect::Postgres,
                migrations: vec![&all[0]],
                all: &all,
                session_lock_timeout: false,
                live: Live {
                    columns: [(("trades".to_owned(), "ref".to_owned()), old.to_owned())].into(),
                    ..Live::default()
                },
            })
            .findings
            .len()
        };
        assert_eq!(with("character varying(32)"), 0);
        assert_eq!(with("character varying(128)"), 1);
        assert_eq!(with("integer"), 1);
    }

    #[test]
    fn mysql_and_every_backend() {
        assert_eq!(
            found_in(
                Dialect::MySql,
                "ALTER TABLE trades ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES x (id);",
                &[]
            ),
            ["foreign-key-on-existing 1:1"]
        );
        assert_eq!(
            found_in(
                Dialect::MySql,
                "ALTER TABLE trades MODIFY COLUMN id BIGINT;",
                &[]
            ),
            ["column-type-change 1:1"]
        );
        assert_eq!(
            found_in(Dialect::MySql, "RENAME TABLE trades TO deals;", &[]),
            ["rename 1:1"]
        );
        assert_eq!(
            found_in(Dialect::Sqlite, "ALTER TABLE trades DROP COLUMN id;", &[]),
            ["drop-column 1:1"]
        );
        assert_eq!(
            found_in(
                Dialect::Sqlite,
                "CREATE TABLE trades_new (id INTEGER NOT NULL);\n\
                 INSERT INTO trades_new SELECT id FROM trades;\n\
                 DROP TABLE trades;\n\
                 ALTER TABLE trades_new RENAME TO trades;",
                &[]
            ),
            ["table-rebuild 3:1"]
        );
        assert_eq!(
            found_in(Dialect::Sqlite, "ALTER TABLE trades RENAME TO deals;", &[]),
            ["rename 1:1"]
        );
        // An up without a down, where the others have one.
        let all = [
            migration(1, "CREATE TABLE a (id INT);", Some("DROP TABLE a;")),
            migration(2, "CREATE TABLE b (id INT);", None),
        ];
        let outcome = lint(&Lint {
            dialect: Dialect::Sqlite,
            migrations: vec![&all[1]],
            all: &all,
            session_lock_timeout: false,
            live: Live::default(),
        });
        assert_eq!(outcome.findings[0].rule, Rule::MissingDown);
    }
}
