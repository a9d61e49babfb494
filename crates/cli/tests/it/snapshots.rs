//! The human output of every command on the example workspace, as snapshots (insta).
//! What varies between runs is filtered: the workspace's path, times and durations, who
//! applied a migration, the versions `new` picks, and the columns' padding.

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
    let root = workspace.path().display().to_string();
    text.replace(&root, "[WS]")
        .lines()
        .map(|line| {
            let words: Vec<String> = line.split_whitespace().map(word).collect();
            without_durations(&words).join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
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
