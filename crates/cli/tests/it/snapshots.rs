//! The human output of every command, as snapshots (insta), layout included. What varies
//! between runs and machines is masked: the workspace's path, times and durations, who
//! applied a migration (user and host differ by machine) and the versions `new` takes
//! from the clock. A table is checked cell by cell against its columns, so a row out of
//! line is marked `[MISALIGNED]`; it is then laid out again from its masked cells, so that
//! a masked value's width cannot move the columns after it. Text outside tables keeps its
//! spacing.

use crate::example::example;
use crate::support::Workspace;

/// `skein ARGS` in `workspace`: its exit code, stdout and stderr, filtered.
fn shown(workspace: &Workspace, args: &[&str]) -> String {
    let run = workspace.run(args);
    let text = format!(
        "$ skein {}\n[exit {}]\n{}{}",
        args.join(" "),
        run.code(),
        run.stdout(),
        run.stderr()
    );
    laid_out(&text, &workspace.path().display().to_string())
}

/// `text` with what varies masked (`root`, the workspace's path, as `[WS]`), each block of
/// lines indented alike checked as a table and, where masking changed a cell, laid out
/// again from its masked cells; no line ends in blanks.
fn laid_out(text: &str, root: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start_matches(' ').len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let margin = indent(lines[i]);
        if margin == 0 || lines[i].trim().is_empty() {
            out.push(masked_line(lines[i], root));
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && !lines[i].trim().is_empty() && indent(lines[i]) == margin {
            i += 1;
        }
        out.extend(table(&lines[start..i], root));
    }
    out.join("\n")
}

/// The columns of a block of lines: where each starts, found as the positions after a
/// gutter of at least two blanks (or the margin) that every line has; a single blank is a
/// space inside a cell.
fn columns(rows: &[Vec<char>]) -> Vec<usize> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let blank = |p: usize| rows.iter().all(|row| row.get(p).is_none_or(|c| *c == ' '));
    let gutter: Vec<bool> = (0..width).map(blank).collect();
    let margin = gutter.iter().take_while(|g| **g).count();
    (margin..width)
        .filter(|&p| !gutter[p] && (p == margin || (gutter[p - 1] && gutter[p - 2])))
        .collect()
}

/// A block of lines as a table, its cells masked. skein's own tables (a margin of one
/// blank) have each cell checked to start at its column and to hold no gutter, else the
/// row is marked `[MISALIGNED]`. Where masking changed the width of a cell that has
/// columns after it, the block is laid out again at its margin, columns as wide as their
/// widest cell and two blanks apart; else each line keeps its spacing.
fn table(lines: &[&str], root: &str) -> Vec<String> {
    let rows: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let starts = columns(&rows);
    let margin = starts.first().copied().unwrap_or(0);
    let cell_of = |row: &[char], k: usize| -> (String, bool) {
        let end = starts
            .get(k + 1)
            .copied()
            .unwrap_or(row.len())
            .min(row.len());
        let start = starts[k].min(end);
        let raw: String = row[start..end].iter().collect();
        let text = raw.trim();
        let aligned = text.is_empty() || (!raw.starts_with(' ') && !text.contains("  "));
        (text.to_owned(), aligned || margin != 1)
    };
    let headers: Vec<String> = (0..starts.len()).map(|k| cell_of(&rows[0], k).0).collect();
    let mut cells: Vec<Vec<String>> = Vec::new();
    let mut misaligned = Vec::new();
    let mut moved = false;
    for row in &rows {
        let mut masked = Vec::new();
        let mut aligned = true;
        for (k, header) in headers.iter().enumerate() {
            let (text, ok) = cell_of(row, k);
            aligned &= ok;
            let cell = masked_cell(&text, header, root);
            moved |= k + 1 < starts.len() && cell.chars().count() != text.chars().count();
            masked.push(cell);
        }
        cells.push(masked);
        misaligned.push(!aligned);
    }
    let widths: Vec<usize> = (0..starts.len())
        .map(|k| {
            cells
                .iter()
                .map(|r| r[k].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let margin = " ".repeat(margin);
    cells
        .iter()
        .zip(lines)
        .zip(misaligned)
        .map(|((row, line), misaligned)| {
            let mut line = match moved {
                true => {
                    let padded: Vec<String> = row
                        .iter()
                        .zip(&widths)
                        .map(|(cell, width)| format!("{cell:<width$}"))
                        .collect();
                    format!("{margin}{}", padded.join("  "))
                        .trim_end()
                        .to_owned()
                }
                false => masked_line(line, root),
            };
            if misaligned {
                line.push_str("  [MISALIGNED]");
            }
            line
        })
        .collect()
}

/// A cell with what varies masked; in a column of durations (`ms`, `time`), the number.
fn masked_cell(cell: &str, header: &str, root: &str) -> String {
    let line = masked_line(cell, root);
    if matches!(header, "ms" | "time") {
        return line
            .split(' ')
            .map(
                |w| match !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()) {
                    true => "N",
                    false => w,
                },
            )
            .collect::<Vec<_>>()
            .join(" ");
    }
    line
}

/// A line with what varies masked word by word, its spacing kept, its end trimmed.
fn masked_line(line: &str, root: &str) -> String {
    let line = line.replace(root, "[WS]");
    // The line as alternating runs of blanks and words.
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in line.chars() {
        let blank = c.is_whitespace();
        match runs.last_mut() {
            Some((b, run)) if *b == blank => run.push(c),
            _ => runs.push((blank, c.to_string())),
        }
    }
    let words: Vec<String> = runs
        .iter()
        .filter(|(blank, _)| !blank)
        .map(|(_, w)| word(w))
        .collect();
    let mut words = without_durations(&words).into_iter();
    runs.into_iter()
        .map(|(blank, run)| match blank {
            true => run,
            false => words.next().unwrap_or_default(),
        })
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// One word of the output, with what varies between runs replaced.
fn word(word: &str) -> String {
    let digits = word.trim_matches(|c: char| !c.is_ascii_digit());
    let all_digits = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    if word.contains('@') {
        return "[BY]".to_owned();
    }
    if word.starts_with("skein/") {
        return "skein/[VERSION]".to_owned();
    }
    if word.len() >= 20 && word.as_bytes()[4] == b'-' && word.contains('T') {
        return "[AT]".to_owned();
    }
    // A version `new` took from the clock: after every version of the example.
    if all_digits && digits.len() == 14 && digits > "20250000000000" {
        return word.replace(digits, "[NEW]");
    }
    word.to_owned()
}

/// Durations: `12 ms` and `(3 ms)` become `N ms`, as does the `ms` column of `history`
/// (after who applied the migration).
fn without_durations(words: &[String]) -> Vec<String> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let next = words.get(i + 1).map(String::as_str).unwrap_or_default();
            let number = w.trim_start_matches('(');
            let is_number = !number.is_empty() && number.chars().all(|c| c.is_ascii_digit());
            let after_by = i > 0 && words[i - 1] == "skein/[VERSION]";
            if is_number && (next.starts_with("ms") || after_by) {
                w.replace(number, "N")
            } else {
                w.clone()
            }
        })
        .collect()
}

#[test]
fn every_command_s_human_output_on_the_example_workspace() {
    let workspace = example();
    let commands: [&[&str]; 26] = [
        &["status"],
        &["up", "--dry-run"],
        &["up", "--sql"],
        &["up"],
        &["status"],
        &["history", "--db", "infra"],
        &["model", "list"],
        &["drift"],
        &["check"],
        &["inspect", "--db", "blub_test"],
        &["inspect", "--db", "infra", "--format", "sql"],
        &["converge", "--db", "blub_test"],
        &["stamp", "--db", "infra", "head"],
        &["repair", "--db", "infra"],
        &["down", "--db", "blub_test", "--steps", "1"],
        &["redo", "--db", "infra"],
        &["up"],
        &["db", "create"],
        &["adopt", "--db", "infra"],
        &["config", "show", "--db", "infra"],
        &["import", "--from", "sqlx", "database/infra"],
        &["model", "new", "m2"],
        &["model", "list"],
        &["new", "--db", "infra", "add x"],
        &["new", "--group", "models", "add y"],
        &["up", "--bogus"],
    ];
    for (i, args) in commands.iter().enumerate() {
        let name = format!(
            "example_{:02}_{}",
            i + 1,
            args[..args.len().min(2)].join("_")
        );
        let name: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        insta::assert_snapshot!(name, shown(&workspace, args));
    }
}

/// The human output of lint, a failing migration, show, wait, db reset and db drop, on a
/// small SQLite workspace; and of init in an empty folder.
#[test]
fn lint_a_failing_migration_show_wait_reset_drop_and_init() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"sqlite://app.db\"\n",
        &[
            (
                "migrations/1_create_things.up.sql",
                "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT, note TEXT);\n",
            ),
            (
                "migrations/1_create_things.down.sql",
                "DROP TABLE things;\n",
            ),
            (
                "migrations/2_trim_things.up.sql",
                "ALTER TABLE things DROP COLUMN note;\nALTER TABLE things RENAME TO items;\n",
            ),
            (
                "migrations/3_fill_items.up.sql",
                "CREATE TABLE extra (id INTEGER);\n\nINSERT INTO nowhere (id)\nVALUES (1);\n",
            ),
        ],
    );
    let mut steps: Vec<(&str, Vec<&str>)> = vec![
        ("lint", vec!["lint"]),
        ("up_fails", vec!["up"]),
        ("show", vec!["show", "2"]),
        ("wait", vec!["wait"]),
    ];
    for (name, args) in steps.drain(..) {
        insta::assert_snapshot!(format!("small_{name}"), shown(&workspace, &args));
    }
    workspace.write(
        "migrations/3_fill_items.up.sql",
        "CREATE TABLE extra (id INTEGER);\n",
    );
    for (name, args) in [
        ("db_reset", vec!["db", "reset", "--yes"]),
        ("history", vec!["history"]),
        ("db_drop", vec!["db", "drop", "--yes"]),
    ] {
        insta::assert_snapshot!(format!("small_{name}"), shown(&workspace, &args));
    }

    let empty = Workspace::new("", &[]);
    std::fs::remove_file(empty.path().join("skein.toml")).unwrap();
    insta::assert_snapshot!("small_init", shown(&empty, &["init"]));
}

/// The filter keeps a table's layout: a row out of line shows, while a masked value's
/// width (a duration, who applied a migration) does not move the columns after it.
#[test]
fn the_filter_keeps_a_table_s_layout_and_not_what_varies() {
    let aligned = " version  by                       ms  state\n \
                   1        ann@box skein/0.1.0      3   applied\n \
                   2        ann@box skein/0.1.0      12  applied";
    let shifted = " version  by                       ms  state\n \
                   1        ann@box skein/0.1.0      3   applied\n \
                   2         ann@box skein/0.1.0     12  applied";
    let elsewhere = " version  by                                   ms   state\n \
                     1        someone@a-long-hostname skein/0.2.0  103  applied\n \
                     2        someone@a-long-hostname skein/0.2.0  7    applied";
    let laid_out = |text: &str| laid_out(text, "/nowhere");
    assert_eq!(
        laid_out(aligned),
        " version  by                    ms  state\n \
         1        [BY] skein/[VERSION]  N   applied\n \
         2        [BY] skein/[VERSION]  N   applied"
    );
    assert_ne!(laid_out(shifted), laid_out(aligned));
    assert!(
        laid_out(shifted).ends_with("[MISALIGNED]"),
        "{}",
        laid_out(shifted)
    );
    assert_eq!(laid_out(elsewhere), laid_out(aligned));
    // Outside tables, spacing stays as it is.
    assert_eq!(
        laid_out("infra: 4 step(s)\n  up   1 first (12 ms)  "),
        "infra: 4 step(s)\n  up   1 first (N ms)"
    );
}
