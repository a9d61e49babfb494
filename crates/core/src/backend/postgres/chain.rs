//! Steps sent to PostgreSQL as one simple query: each step's `BEGIN`, its statements, its
//! history change and `COMMIT`, one step after the other. A run then costs a round trip
//! per message, not per step, and the server spends no time waiting for skein between
//! steps.
//!
//! The server runs the statements in order and, at the first error, abandons the rest of
//! the message: the steps before the failing one stay committed, the failing one rolls
//! back, and none after it runs. So a chain is exactly-once as a step sent alone is.
//!
//! Which steps committed is told by skein's own statements, never by counting the file's:
//! each history change returns a row with a mark of its own, and the two results after
//! that row are the change's and the `COMMIT`'s. (Counting statements would trust the
//! splitter to see a file as the server does.)
//!
//! The server reads (parses) a whole message before it runs any of it, with the settings
//! it had when the message came. So a chain ends after a step that may change how SQL text
//! is read ([`changes_how_sql_is_read`]), and a message refused as a whole before anything
//! ran (a syntax error in a later step) is sent again up to the step at fault, so that the
//! steps before it are applied as they would be one by one.
//!
//! Between two steps a `DO` block raises an `INFO` message, which the server sends whatever
//! `client_min_messages` says and does not log. A message to the client makes the server
//! send at once what it holds back (it otherwise sends a message's results when its output
//! buffer fills), so each step's commit reaches skein as it happens: progress and timings
//! stay per step, even while a later step of the same message runs for minutes. The block
//! joins the next step's transaction and takes a snapshot there, so a file that must set
//! its transaction's characteristics first (`SET TRANSACTION ...`) starts a message of its
//! own, and the first step of a message begins with no query before the file's.

use crate::dialect::{Dialect, HistoryValues};
use crate::driver::StepRun;
use crate::history::HistoryTable;
use crate::plan::Direction;
use crate::position::char_position_to_byte;
use crate::split::{Statement, split_checked};
use std::hash::{BuildHasher, RandomState};

/// A chain ends before the step that would take its text past this many bytes (a step
/// larger than this goes alone). Servers that log slow statements log a message whole, so
/// this bounds the size of such a log entry; beyond it, what is saved is too little to
/// measure.
pub(super) const MESSAGE_BYTES: usize = 64 * 1024;

/// Commits a step that need not be durable yet without waiting for the disk. A `SET`
/// takes no snapshot, so a file may still begin with `SET TRANSACTION`.
const NOT_DURABLE: &str = "SET LOCAL synchronous_commit = off";
/// Begins a later step's transaction: notes the time, since `now()` is when the server
/// received the message, the same for every step in it.
const STARTED: &str = "SELECT set_config('skein.step_started', (extract(epoch FROM clock_timestamp()) * 1000)::text, true)";
/// ... for a step that need not be durable yet.
const STARTED_NOT_DURABLE: &str = "SELECT set_config('skein.step_started', (extract(epoch FROM clock_timestamp()) * 1000)::text, true), set_config('synchronous_commit', 'off', true)";
/// A later step's time, from [`STARTED`] to its history row (0 should a file reset it).
const EXECUTION_MS: &str = "coalesce((extract(epoch FROM clock_timestamp()) * 1000 - nullif(current_setting('skein.step_started', true), '')::numeric)::bigint, 0)";
/// The first step's time: since the message came.
const FIRST_EXECUTION_MS: &str = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint";

/// Sent between two steps: the message flushes the server's output (see the module's doc).
/// A `DO` block is no DDL, so no event trigger sees it.
const FLUSH: &str = "DO $skein$BEGIN RAISE INFO 'skein: migration committed'; END$skein$";

/// What one statement of the message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// skein's own statement in step `step`'s transaction before the file's: `BEGIN`, the
    /// settings.
    Own { step: usize },
    /// Statement `index` of step `step`'s file.
    Statement { step: usize, index: usize },
    /// Step `step`'s history change; it returns the step's mark.
    Record { step: usize },
    /// Step `step`'s `COMMIT`: once it completes, the step is applied.
    Commit { step: usize },
    /// The block after step `after` committed, before the next begins.
    Flush { after: usize },
}

impl Part {
    /// The step the part belongs to (the block between two steps: the step it follows).
    pub fn step(self) -> usize {
        match self {
            Part::Own { step }
            | Part::Statement { step, .. }
            | Part::Record { step }
            | Part::Commit { step } => step,
            Part::Flush { after } => after,
        }
    }
}

/// The message for a run of steps, and where each of its statements is.
pub(super) struct Chain<'s> {
    pub text: String,
    /// Where each part starts in `text`, in order.
    starts: Vec<usize>,
    pub parts: Vec<Part>,
    /// Where each step's share of `parts` starts: the block before it, or its `BEGIN`.
    pub segments: Vec<usize>,
    /// Each step's statements, as split from its file.
    pub statements: Vec<Vec<Statement<'s>>>,
    /// The text each history change returns, followed by `:<step>`; random, so that no
    /// row a file returns is taken for it.
    mark: String,
}

impl<'s> Chain<'s> {
    /// The message for the first steps of `steps` (at least one; more while the text stays
    /// within `limit` bytes). Every step must run in a transaction.
    pub fn new(table: &HistoryTable, steps: &[StepRun<'s>], limit: usize) -> Self {
        let mut chain = Chain {
            text: String::new(),
            starts: Vec::new(),
            parts: Vec::new(),
            segments: Vec::new(),
            statements: Vec::new(),
            mark: format!("skein-{:016x}", RandomState::new().hash_one(steps.len())),
        };
        for (step, run) in steps.iter().enumerate() {
            debug_assert!(!run.script.no_transaction, "a chain runs transactions only");
            let first = step == 0;
            let record = chain.record(table, run, step);
            let size = run.script.sql.len() + record.len() + FLUSH.len() + STARTED.len();
            // A file that ends inside a string or a comment would take in what follows it,
            // the next file too: it goes alone, and the server says what is wrong with it.
            let (statements, clean) = split_checked(&run.script.sql);
            let open = !clean;
            let alone = open || sets_its_transaction(&run.script.sql);
            if !first && (chain.text.len() + size > limit || alone) {
                break;
            }
            chain.segments.push(chain.parts.len());
            if !first {
                chain.push(Part::Flush { after: step - 1 }, FLUSH);
            }
            chain.push(Part::Own { step }, "BEGIN");
            match (first, run.durable) {
                (true, true) => {}
                (true, false) => chain.push(Part::Own { step }, NOT_DURABLE),
                (false, true) => chain.push(Part::Own { step }, STARTED),
                (false, false) => chain.push(Part::Own { step }, STARTED_NOT_DURABLE),
            }
            for (index, statement) in statements.iter().enumerate() {
                chain.push(Part::Statement { step, index }, statement.sql);
            }
            chain.statements.push(statements);
            chain.push(Part::Record { step }, &record);
            chain.push(Part::Commit { step }, "COMMIT");
            if open || changes_how_sql_is_read(&run.script.sql) {
                break;
            }
        }
        chain
    }

    fn push(&mut self, part: Part, sql: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.starts.push(self.text.len());
        self.parts.push(part);
        self.text.push_str(sql);
        self.text.push(';');
    }

    /// How many steps the message holds.
    pub fn steps(&self) -> usize {
        self.statements.len()
    }

    /// Which step's history change returned `value`, if it is one of this message's marks.
    pub fn marked_step(&self, value: &str) -> Option<usize> {
        value
            .strip_prefix(self.mark.as_str())?
            .strip_prefix(':')?
            .parse()
            .ok()
    }

    /// The part at character position `chars` (1-based, as the server counts) of the
    /// message, and the byte offset of that position within the part.
    pub fn part_at(&self, chars: usize) -> (Part, usize) {
        let byte = char_position_to_byte(&self.text, chars);
        let index = self
            .starts
            .partition_point(|&start| start <= byte)
            .saturating_sub(1);
        (self.parts[index], byte - self.starts[index])
    }

    /// The part of step `step` that failed, and where in it: where the server says, else
    /// the one after the last answer (skein's own parts are told apart by the mark, not by
    /// counting the file's statements).
    pub fn failed_part(
        &self,
        answers: &Answers,
        step: usize,
        position: Option<(Part, usize)>,
    ) -> (Part, usize) {
        match (position, answers.recorded) {
            (_, Some(0)) => (Part::Record { step }, 0),
            (_, Some(_)) => (Part::Commit { step }, 0),
            (Some(found), None) => found,
            (None, None) => {
                let segment = &self.parts[self.segments[step]..];
                match segment.get(answers.since_commit).copied() {
                    Some(
                        part @ (Part::Flush { .. } | Part::Own { .. } | Part::Statement { .. }),
                    ) => (part, 0),
                    // Counted past the file's statements: the splitter saw fewer than the
                    // server did; the file's last statement is the nearest.
                    _ => match self.statements[step].len() {
                        0 => (Part::Own { step }, 0),
                        n => (Part::Statement { step, index: n - 1 }, 0),
                    },
                }
            }
        }
    }

    /// Step `step`'s history change, returning its mark.
    fn record(&self, table: &HistoryTable, run: &StepRun<'_>, step: usize) -> String {
        let dialect = Dialect::Postgres;
        let change = match run.direction {
            Direction::Up => dialect.insert_history_timed(
                table,
                HistoryValues {
                    version: run.version,
                    description: run.description,
                    checksum: run.checksum,
                    kind: run.kind.as_str(),
                    applied_by: run.applied_by,
                    success: true,
                },
                if step == 0 {
                    FIRST_EXECUTION_MS
                } else {
                    EXECUTION_MS
                },
                "clock_timestamp()",
            ),
            Direction::Down => dialect.delete_history_literal(table, run.version),
        };
        format!("{change} RETURNING '{}:{step}'", self.mark)
    }
}

/// What the server has answered so far to a message of steps, told by skein's own parts.
#[derive(Debug, Default)]
pub(super) struct Answers {
    /// Steps whose `COMMIT` completed.
    pub committed: usize,
    /// Results since the last of those (or the message's start): the block between two
    /// steps, `BEGIN`, the settings, then the file's statements.
    since_commit: usize,
    /// The current step's history change returned its mark; the results since (its own,
    /// then the `COMMIT`'s).
    recorded: Option<usize>,
}

impl Answers {
    /// A statement completed (a step's `COMMIT`, when it follows the step's mark and the
    /// history change's own completion).
    pub fn completed(&mut self) {
        match &mut self.recorded {
            Some(after) if *after == 1 => {
                self.committed += 1;
                self.since_commit = 0;
                self.recorded = None;
            }
            Some(after) => *after += 1,
            None => self.since_commit += 1,
        }
    }

    /// A row came back; `step` is the step whose mark it is, if it is one. A later step's
    /// mark means the steps before it committed, even those whose history change returned
    /// no row (a down file that deleted its own row).
    pub fn row(&mut self, step: Option<usize>) {
        let Some(step) = step.filter(|&step| step >= self.committed) else {
            return;
        };
        if step > self.committed {
            self.committed = step;
            self.since_commit = 0;
        }
        self.recorded = Some(0);
    }

    /// Nothing in the message ran.
    pub fn nothing_ran(&self) -> bool {
        self.committed == 0 && self.since_commit == 0 && self.recorded.is_none()
    }

    /// Step `step`'s `BEGIN` completed (after the block before it, for a later step).
    pub fn began(&self, step: usize) -> bool {
        self.since_commit >= if step == 0 { 1 } else { 2 }
    }
}

/// Whether `sql` sets its transaction's characteristics, which must come before any query
/// in the transaction (`SET TRANSACTION ...`, or the settings behind it). Told
/// conservatively.
fn sets_its_transaction(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let named = [
        "transaction_isolation",
        "transaction_read_only",
        "transaction_deferrable",
    ];
    if named.iter().any(|word| lower.contains(word)) {
        return true;
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.windows(2).any(|pair| pair == ["set", "transaction"])
}

/// Whether `sql` may change how the server reads the text of later statements: the
/// settings its lexer follows (`standard_conforming_strings`, `backslash_quote`) and the
/// client's encoding (`client_encoding`, `SET NAMES`), set by name, through `set_config`,
/// or reset. Told conservatively: a statement taken for one costs a round trip.
pub(crate) fn changes_how_sql_is_read(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let named = [
        "standard_conforming_strings",
        "backslash_quote",
        "client_encoding",
        "set_config",
    ];
    if named.iter().any(|word| lower.contains(word)) {
        return true;
    }
    // `SET NAMES 'x'`, not `UPDATE t SET names = ...` (a column).
    let spaced = lower.replace('=', " = ").replace(';', " ; ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    (0..words.len()).any(|i| {
        let at = |k: usize| words.get(i + k).copied().unwrap_or_default();
        match (at(0), at(1)) {
            ("reset", "all") => true,
            ("set", "names") => !matches!(at(2), "=" | ""),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MigrationKind;
    use crate::migration::Script;
    use std::path::PathBuf;

    fn script(name: &str, sql: &str) -> Script {
        Script {
            path: PathBuf::from(name),
            sql: sql.to_owned(),
            no_transaction: false,
        }
    }

    fn run<'a>(version: i64, script: &'a Script, durable: bool) -> StepRun<'a> {
        StepRun {
            version,
            description: "d",
            direction: Direction::Up,
            script,
            checksum: "c",
            applied_by: "me",
            kind: MigrationKind::Migration,
            durable,
        }
    }

    #[test]
    fn each_step_is_its_own_transaction_with_a_block_between_two() {
        let a = script(
            "1_a.up.sql",
            "CREATE TABLE a (id int);\nCREATE TABLE b (id int);",
        );
        let b = script("2_b.up.sql", "CREATE TABLE c (id int)");
        let c = script("3_c.up.sql", "CREATE TABLE d (id int)");
        let table = HistoryTable::default();
        let steps = [run(1, &a, false), run(2, &b, false), run(3, &c, true)];
        let chain = Chain::new(&table, &steps, MESSAGE_BYTES);
        assert_eq!(chain.steps(), 3);
        use Part::*;
        assert_eq!(
            chain.parts,
            [
                Own { step: 0 },
                Own { step: 0 },
                Statement { step: 0, index: 0 },
                Statement { step: 0, index: 1 },
                Record { step: 0 },
                Commit { step: 0 },
                Flush { after: 0 },
                Own { step: 1 },
                Own { step: 1 },
                Statement { step: 1, index: 0 },
                Record { step: 1 },
                Commit { step: 1 },
                Flush { after: 1 },
                Own { step: 2 },
                Own { step: 2 },
                Statement { step: 2, index: 0 },
                Record { step: 2 },
                Commit { step: 2 },
            ]
        );
        assert_eq!(chain.segments, [0, 6, 12]);
        // The first step begins with a SET (no snapshot); only the last waits for the disk.
        assert!(
            chain
                .text
                .starts_with("BEGIN;\nSET LOCAL synchronous_commit = off;\n")
        );
        assert_eq!(chain.text.matches("'synchronous_commit', 'off'").count(), 1);
        let d = chain
            .text
            .find("CREATE TABLE d")
            .expect("step 3's statement");
        let chars = chain.text[..d].chars().count() + 1;
        assert_eq!(
            chain.part_at(chars + 7),
            (Statement { step: 2, index: 0 }, 7)
        );
        // Each history change returns its step's mark, and only those are taken for one.
        let mark = |step: usize| format!("{}:{step}", chain.mark);
        assert_eq!(chain.text.matches(" RETURNING '").count(), 3);
        assert!(chain.text.contains(&mark(2)));
        assert_eq!(chain.marked_step(&mark(1)), Some(1));
        assert_eq!(chain.marked_step("skein-0000000000000000:1"), None);
        assert_eq!(chain.marked_step(&chain.mark), None);
    }

    #[test]
    fn a_step_that_sets_its_transaction_starts_a_message() {
        let a = script("1_a.up.sql", "CREATE TABLE a (id int)");
        let serial = script(
            "2_serial.up.sql",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nUPDATE a SET id = 1",
        );
        let table = HistoryTable::default();
        let steps = [run(1, &a, false), run(2, &serial, false), run(3, &a, false)];
        assert_eq!(Chain::new(&table, &steps, MESSAGE_BYTES).steps(), 1);
        let chain = Chain::new(&table, &steps[1..], MESSAGE_BYTES);
        assert_eq!(chain.steps(), 2);
        assert!(
            chain
                .text
                .starts_with("BEGIN;\nSET LOCAL synchronous_commit = off;\nSET TRANSACTION")
        );
        for sql in [
            "set  transaction read only",
            "SET LOCAL transaction_isolation = 'serializable'",
        ] {
            assert!(sets_its_transaction(sql), "{sql}");
        }
        assert!(!sets_its_transaction(
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
        ));
    }

    #[test]
    fn a_chain_ends_after_a_step_that_changes_how_sql_is_read() {
        let sets = script("1_sets.up.sql", "SET standard_conforming_strings = off");
        let after = script("2_after.up.sql", "SELECT 'a\\b'");
        let table = HistoryTable::default();
        let steps = [run(1, &sets, false), run(2, &after, false)];
        assert_eq!(Chain::new(&table, &steps, MESSAGE_BYTES).steps(), 1);
        for sql in [
            "SET backslash_quote = on",
            "SET client_encoding = 'LATIN1'",
            "set  NAMES 'LATIN1'",
            "SELECT set_config('standard_conforming_strings', 'off', false)",
            "RESET ALL;",
        ] {
            assert!(changes_how_sql_is_read(sql), "{sql}");
        }
        for sql in [
            "UPDATE t SET names = '{}'",
            "SET search_path = app",
            "SELECT 'names'",
        ] {
            assert!(!changes_how_sql_is_read(sql), "{sql}");
        }
    }

    #[test]
    fn a_step_that_ends_inside_a_string_goes_alone() {
        let open = script("2_open.up.sql", "INSERT INTO t VALUES ('it");
        let fine = script("1_fine.up.sql", "SELECT 1");
        let table = HistoryTable::default();
        let steps = [
            run(1, &fine, false),
            run(2, &open, false),
            run(3, &fine, false),
        ];
        assert_eq!(Chain::new(&table, &steps, MESSAGE_BYTES).steps(), 1);
        assert_eq!(Chain::new(&table, &steps[1..], MESSAGE_BYTES).steps(), 1);
    }

    #[test]
    fn a_chain_stops_before_the_step_that_would_take_it_past_its_limit() {
        let big = script("1_big.up.sql", &"SELECT 1;\n".repeat(100));
        let small = script("2_small.up.sql", "SELECT 2");
        let table = HistoryTable::default();
        let steps = [run(1, &big, false), run(2, &small, false)];
        // The first step always goes, however large.
        assert_eq!(Chain::new(&table, &steps, 10).steps(), 1);
        assert_eq!(Chain::new(&table, &steps, MESSAGE_BYTES).steps(), 2);
    }

    #[test]
    fn a_step_commits_on_the_two_answers_after_its_mark() {
        let mut answers = Answers::default();
        assert!(answers.nothing_ran());
        answers.completed(); // BEGIN
        assert!(answers.began(0) && !answers.nothing_ran());
        answers.completed(); // the file's statement
        answers.row(None); // a row the file returned
        answers.row(Some(0)); // the mark
        answers.completed(); // the history change
        assert_eq!(answers.committed, 0);
        answers.completed(); // COMMIT
        assert_eq!((answers.committed, answers.since_commit), (1, 0));
        answers.completed(); // the block between steps
        assert!(!answers.began(1));
        answers.completed(); // BEGIN
        assert!(answers.began(1));
        // A mark of a step already counted is no news.
        answers.row(Some(0));
        assert_eq!(answers.recorded, None);
    }

    #[test]
    fn a_later_mark_counts_the_steps_before_it_that_returned_none() {
        let mut answers = Answers::default();
        // Step 0's history change returned no row (a down file deleted its row first).
        for _ in 0..6 {
            answers.completed();
        }
        assert_eq!(answers.committed, 0);
        answers.row(Some(1));
        assert_eq!((answers.committed, answers.recorded), (1, Some(0)));
        answers.completed();
        answers.completed();
        assert_eq!(answers.committed, 2);
    }
}
