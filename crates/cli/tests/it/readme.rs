//! The README's examples, run: every ```console block, in the README's order, each `$ `
//! line through `sh` with this build's `skein` first on PATH, and what it printed (stdout
//! and stderr together) compared with the lines that follow it. So the README cannot
//! drift from the program.
//!
//! The blocks share one copy of the example workspace (skein.toml, database/,
//! templates/), as a reader who follows along does; an HTML comment before a block,
//! `<!-- readme: fresh -->` or `<!-- readme: empty -->`, starts a new copy or an empty
//! folder. Expected output is compared after collapsing runs of blanks, with a step's
//! time (`3 ms`), a history row's time and `user@host` taken as any value; `<anything>`
//! in an expected line matches any text, and a line `...` any number of lines. A command
//! with no output shown must exit 0.
//!
//! Every ```sh block says before it whether it runs here: `<!-- readme: sh -->` runs the
//! whole block with `bash -e` in an empty folder (each line must succeed), a PostgreSQL
//! URL `postgres://postgres@127.0.0.1:5432/NAME` in it standing for a database of its own
//! on the test server (one per NAME), which the block is to make; `<!-- readme: not run: WHY -->` names
//! what it needs that a test cannot have (the network, a cluster, a build of this
//! repository). A block that says neither fails the test.

use crate::example::copy_dir;
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Example {
    /// The README line of the `$ ` line.
    line: usize,
    command: String,
    expected: Vec<String>,
    /// The sandbox to start before it, from an HTML comment before its block.
    sandbox: Option<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_console = false;
    let mut pending_sandbox: Option<String> = None;
    let mut block_sandbox: Option<String> = None;
    let lines: Vec<&str> = readme.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if !in_console {
            if let Some(rest) = line.trim().strip_prefix("<!-- readme:") {
                pending_sandbox = Some(rest.trim_end_matches("-->").trim().to_owned());
            } else if line.starts_with("```console") {
                in_console = true;
                block_sandbox = pending_sandbox.take();
            } else if line.starts_with("```") || !line.trim().is_empty() {
                pending_sandbox = None;
            }
            i += 1;
            continue;
        }
        if line.starts_with("```") {
            in_console = false;
            i += 1;
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let mut command = command.to_owned();
            let start = i + 1;
            while command.ends_with('\\') && i + 1 < lines.len() {
                i += 1;
                command.push('\n');
                command.push_str(lines[i]);
            }
            examples.push(Example {
                line: start,
                command,
                expected: Vec::new(),
                sandbox: block_sandbox.take(),
            });
        } else if let Some(example) = examples.last_mut() {
            example.expected.push(line.to_owned());
        }
        i += 1;
    }
    examples
}

/// A line as compared: blanks collapsed, times and who applied taken out.
fn normalise(line: &str) -> String {
    static RULES: std::sync::OnceLock<Vec<(Regex, &str)>> = std::sync::OnceLock::new();
    let rules = RULES.get_or_init(|| {
        vec![
            (
                Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z").unwrap(),
                "<time>",
            ),
            (Regex::new(r"\S+@\S+ skein/\S+").unwrap(), "<who>"),
            // A history row's time, after who applied it.
            (Regex::new(r"<who>\s+\d+$").unwrap(), "<who> <ms>"),
            (Regex::new(r"\b\d+ ms\b").unwrap(), "<ms>"),
            (Regex::new(r"[ \t]+").unwrap(), " "),
        ]
    });
    let mut text = line.trim().to_owned();
    for (pattern, with) in rules {
        text = pattern.replace_all(&text, *with).into_owned();
    }
    text
}

/// An expected line as a pattern: `<anything>` matches any text.
fn pattern(expected: &str) -> Regex {
    let placeholder = Regex::new(r"<[^<>]+>").unwrap();
    let normalised = normalise(expected);
    let mut out = String::from("^");
    let mut last = 0;
    for found in placeholder.find_iter(&normalised) {
        out.push_str(&regex::escape(&normalised[last..found.start()]));
        out.push_str(".*?");
        last = found.end();
    }
    out.push_str(&regex::escape(&normalised[last..]));
    out.push('$');
    Regex::new(&out).unwrap()
}

/// Whether `actual` lines match `expected` lines, `...` matching any run of lines.
fn matches(expected: &[Regex], dots: &[bool], actual: &[String]) -> bool {
    match (expected.first(), actual.first()) {
        (None, _) => actual.is_empty(),
        (Some(_), _) if dots[0] => {
            (0..=actual.len()).any(|skip| matches(&expected[1..], &dots[1..], &actual[skip..]))
        }
        (Some(_), None) => false,
        (Some(line), Some(first)) => {
            line.is_match(first) && matches(&expected[1..], &dots[1..], &actual[1..])
        }
    }
}

fn sandbox(kind: &str, repo: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    match kind {
        "fresh" => {
            std::fs::copy(repo.join("skein.toml"), dir.path().join("skein.toml")).unwrap();
            for folder in ["database", "templates"] {
                copy_dir(&repo.join(folder), &dir.path().join(folder));
            }
        }
        "empty" => {}
        // The example's infra and its models on PostgreSQL (a throwaway cluster, reached
        // through the PG* variables psql reads too), the models listed by a query.
        "pg" => {
            copy_dir(&repo.join("database"), &dir.path().join("database"));
            copy_dir(&repo.join("templates"), &dir.path().join("templates"));
            std::fs::remove_dir_all(dir.path().join("database/models/blub_test")).unwrap();
            let server = format!(
                "postgres://postgres:${{env:PGPASSWORD}}@{}",
                skein_testkit::password_server().authority()
            );
            std::fs::write(
                dir.path().join("skein.toml"),
                format!(
                    "[default.databases.infra]\nmigrations = \"database/infra\"\nurl = \"{server}/indexer\"\n\n\
                     [default.models]\ntemplate = \"templates/model\"\nurl = \"{server}/{{model}}\"\n\
                     names_from = {{ db = \"infra\", query = \"SELECT name FROM models WHERE status = 'active'\" }}\n\
                     depends_on = [\"infra\"]\n"
                ),
            )
            .unwrap();
        }
        other => panic!("README: unknown sandbox `{other}` (fresh, empty or pg)"),
    }
    dir
}

#[test]
fn every_console_example_in_the_readme_prints_what_it_shows() {
    let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 20, "{} examples", examples.len());
    let bin = crate::support::skein();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let server = skein_testkit::password_server().authority();
    let (pg_host, pg_port) = server.rsplit_once(':').unwrap();
    let mut dir = sandbox("fresh", &repo);
    let mut failures = Vec::new();
    for example in &examples {
        if let Some(kind) = &example.sandbox {
            dir = sandbox(kind, &repo);
        }
        let output = Command::new("bash")
            .arg("-c")
            .arg(format!("{{ {}\n}} 2>&1", example.command))
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("PGHOST", pg_host)
            .env("PGPORT", pg_port)
            .env("PGUSER", "postgres")
            .env("PGPASSWORD", skein_testkit::SCRAM_PASSWORD)
            .env_remove("SKEIN_PROFILE")
            .env_remove("SKEIN_CONFIG")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        let actual: Vec<String> = printed.lines().map(normalise).collect();
        let wanted: Vec<&String> = example.expected.iter().collect();
        let fits = if wanted.is_empty() {
            output.status.success()
        } else {
            let dots: Vec<bool> = wanted.iter().map(|l| l.trim() == "...").collect();
            let patterns: Vec<Regex> = wanted.iter().map(|l| pattern(l)).collect();
            matches(&patterns, &dots, &actual)
        };
        if !fits {
            failures.push(format!(
                "README.md:{}: $ {}\n--- shown:\n{}\n--- printed ({}):\n{}",
                example.line,
                example.command,
                example
                    .expected
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join("\n"),
                output.status,
                printed
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} README examples differ:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_comparison_takes_placeholders_and_dots() {
    let lines = |text: &str| text.lines().map(normalise).collect::<Vec<_>>();
    let expect = |text: &str| {
        let wanted: Vec<&str> = text.lines().collect();
        (
            wanted.iter().map(|l| pattern(l)).collect::<Vec<_>>(),
            wanted.iter().map(|l| l.trim() == "...").collect::<Vec<_>>(),
        )
    };
    let (p, d) = expect("a: applied 1 t (0 ms)\n...\n infra  ok  <version>");
    assert!(matches(
        &p,
        &d,
        &lines("a: applied 1 t (12 ms)\nx\ny\ninfra ok 2024")
    ));
    assert!(!matches(
        &p,
        &d,
        &lines("a: applied 2 t (12 ms)\ninfra ok 2024")
    ));
    assert!(!matches(
        &p,
        &d,
        &lines("a: applied 1 t (1 ms)\ninfra ok 2024\nmore")
    ));
}

/// A ```sh block of the README: its first line, its text, and what the comment before it
/// says (`sh`, or `not run: WHY`).
struct ShBlock {
    line: usize,
    text: String,
    marker: Option<String>,
}

fn sh_blocks(readme: &str) -> Vec<ShBlock> {
    let mut blocks = Vec::new();
    let mut marker: Option<String> = None;
    let mut lines = readme.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if let Some(rest) = line.trim().strip_prefix("<!-- readme:") {
            marker = Some(rest.trim_end_matches("-->").trim().to_owned());
        } else if line.starts_with("```sh") {
            let text: Vec<&str> = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push(ShBlock {
                line: i + 1,
                text: text.join("\n"),
                marker: marker.take(),
            });
        } else if !line.trim().is_empty() {
            marker = None;
        }
    }
    blocks
}

#[test]
fn every_sh_block_in_the_readme_runs_or_says_why_not() {
    let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let blocks = sh_blocks(&readme);
    assert!(blocks.len() >= 4, "{} sh blocks", blocks.len());
    let bin = crate::support::skein();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let local = Regex::new(r"postgres://postgres@127\.0\.0\.1:5432/(\w+)").unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for block in &blocks {
        match block.marker.as_deref() {
            Some("sh") => {}
            Some(why) if why.starts_with("not run:") && why.len() > "not run:".len() + 3 => {
                continue;
            }
            other => {
                failures.push(format!(
                    "README.md:{}: a ```sh block needs `<!-- readme: sh -->` or `<!-- readme: not run: WHY -->` before it (found {other:?})",
                    block.line
                ));
                continue;
            }
        }
        ran += 1;
        // Each database the block names is one of its own (a name named twice is one
        // database), made by the block itself.
        let mut names: Vec<String> = local
            .captures_iter(&block.text)
            .map(|c| c[1].to_owned())
            .collect();
        names.sort();
        names.dedup();
        let databases: Vec<(String, skein_testkit::TestDb)> = names
            .into_iter()
            .map(|name| (name, skein_testkit::TestDb::new("readme_sh")))
            .collect();
        let text = local
            .replace_all(&block.text, |c: &regex::Captures| {
                let (_, db) = databases.iter().find(|(name, _)| *name == c[1]).unwrap();
                db.url.clone()
            })
            .into_owned();
        for (_, db) in &databases {
            skein_testkit::exec(
                &skein_testkit::postgres().admin_url,
                &format!("DROP DATABASE \"{}\"", db.name),
            );
        }
        let dir = tempfile::tempdir().unwrap();
        // A block that runs Alembic finds the one of PyPI the tests install.
        let path = match block.text.contains("alembic ") {
            true => format!(
                "{}:{path}",
                skein_testkit::alembic().parent().unwrap().display()
            ),
            false => path.clone(),
        };
        let output = Command::new("bash")
            .args(["-e", "-c", &format!("{{ {text}\n}} 2>&1")])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env_remove("SKEIN_PROFILE")
            .env_remove("SKEIN_CONFIG")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        if !output.status.success() {
            failures.push(format!(
                "README.md:{}:\n{}\n--- printed ({}):\n{}",
                block.line,
                block.text,
                output.status,
                String::from_utf8_lossy(&output.stdout)
            ));
        }
    }
    assert!(ran >= 1, "no sh block of the README runs");
    assert!(
        failures.is_empty(),
        "{} README sh blocks fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
