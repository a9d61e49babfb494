//! `--format html`, `--format markdown` and `skein report`: a fleet's page and summary
//! from real runs.

use crate::support::Workspace;

/// A SQLite fleet of `count` models; `m3`'s second migration does not parse.
fn fleet(count: usize) -> Workspace {
    let mut files = Vec::new();
    for i in 1..=count {
        files.push((
            format!("models/m{i}/1_init.up.sql"),
            format!("CREATE TABLE t{i} (id INTEGER);\n"),
        ));
    }
    files.push((
        "models/m3/2_broken.up.sql".to_owned(),
        "CREATE TABLE fine (id INTEGER);\n\nCREATE TABLE broken (;\n".to_owned(),
    ));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    Workspace::new(
        "[default.models]\ndir = \"models\"\nurl = \"sqlite://dbs/{model}.db\"\n",
        &files,
    )
}

#[test]
fn a_fleet_s_page_has_a_row_per_database_the_failure_first_and_its_place() {
    let workspace = fleet(12);
    let page = workspace
        .run(&["up", "--format", "html"])
        .expect(1)
        .stdout();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_eq!(page.matches("<tr data-status=").count(), 12, "{page}");
    let failed = page.find("id=\"h-failed\"").expect("a failed section");
    let table = page.find("id=\"databases\"").unwrap();
    assert!(failed < table, "the failures come before the table");
    assert!(
        page.contains("2_broken.up.sql:3"),
        "the failure's file and line: {page}"
    );
    // Counts with words, not colour alone.
    assert!(page.contains(">failed</span>: <strong id=\"count-failed\">1</strong>"));
    assert!(page.contains(">ok</span>: <strong id=\"count-ok\">11</strong>"));
    // Every database has its start and end: the timeline is drawn.
    assert_eq!(page.matches("class=\"bar\"").count(), 12);
    // Nothing leaves the page.
    for outside in ["http://", "https://", "src=", "href=", "@import", "url("] {
        assert!(!page.contains(outside), "{outside} in the page");
    }
}

#[test]
fn a_saved_json_report_makes_the_page_and_anything_else_is_refused() {
    let workspace = fleet(4);
    let json = workspace
        .run(&["up", "--format", "json"])
        .expect(1)
        .stdout();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    for db in doc["databases"].as_array().unwrap() {
        assert!(
            db["started_at"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{db}"
        );
        assert!(db["finished_at"].as_str().is_some(), "{db}");
    }
    workspace.write("run.json", &json);
    let page = workspace.run(&["report", "run.json"]).expect(0).stdout();
    assert_eq!(page.matches("<tr data-status=").count(), 4);
    assert!(page.contains("2_broken.up.sql:3"));

    workspace.write("other.json", "{\"name\": \"not a report\"}");
    let refused = workspace.run(&["report", "other.json"]).expect(2);
    assert!(
        refused.stderr().contains("other.json: not a skein report"),
        "{}",
        refused.stderr()
    );
    assert!(refused.stdout().is_empty());
    let missing = workspace.run(&["report", "missing.json"]).expect(2);
    assert!(missing.stderr().contains("cannot read missing.json"));
}

#[test]
fn the_markdown_summary_lists_what_is_not_up_to_date() {
    let workspace = fleet(30);
    workspace.run(&["up"]).expect(1);
    let summary = workspace
        .run(&["status", "--format", "markdown"])
        .expect(0)
        .stdout();
    assert!(
        summary.starts_with("### skein status (profile default)"),
        "{summary}"
    );
    assert!(
        summary.contains("**30 databases**: 1 pending · 29 up to date"),
        "{summary}"
    );
    assert!(summary.contains("| m3 | pending | 1 | 0 |"), "{summary}");
    assert!(summary.lines().count() < 20, "{summary}");
    // Not for a command without databases.
    let refused = workspace
        .run(&["new", "--format", "markdown", "x"])
        .expect(2);
    assert!(
        refused
            .stderr()
            .contains("--format markdown and --format html are for commands")
    );
}

/// Where the screenshots are kept, a test artifact: `target/tmp/pages`.
fn shots() -> std::path::PathBuf {
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pages");
    std::fs::create_dir_all(&shots).unwrap();
    shots
}

/// A browser's view of a page: the DOM after its scripts ran, what it
/// wrote to its console, and every URL it asked for.
struct Browsed {
    dom: String,
    console: Vec<String>,
    requests: Vec<String>,
}

/// Opens `page` (with `fragment`) in headless Chromium; with
/// `screenshot`, keeps a picture of it there.
fn browse(page: &std::path::Path, fragment: &str, screenshot: Option<&std::path::Path>) -> Browsed {
    browse_with(page, fragment, screenshot, &[])
}

/// [`browse`] with more of Chromium's switches (`--force-dark-mode`).
fn browse_with(
    page: &std::path::Path,
    fragment: &str,
    screenshot: Option<&std::path::Path>,
    switches: &[&str],
) -> Browsed {
    let dir = tempfile::tempdir().unwrap();
    let net_log = dir.path().join("net.json");
    let url = format!("file://{}{fragment}", page.display());
    let mut command = std::process::Command::new(skein_testkit::chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1200,900",
        // The browser's own traffic (updates, sync, dictionaries) is turned off, so that
        // every request left in the log is the page's.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-default-browser-check",
        "--disable-features=SpellCheck,Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,NetworkTimeServiceQuerying",
    ]);
    command.arg(format!(
        "--user-data-dir={}",
        dir.path().join("profile").display()
    ));
    command.arg(format!("--log-net-log={}", net_log.display()));
    command.args(switches);
    let dom = command.arg("--dump-dom").arg(&url).output().unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    if let Some(png) = screenshot {
        let mut shot = std::process::Command::new(skein_testkit::chromium());
        let shot = shot
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--window-size=1200,900",
                "--hide-scrollbars",
            ])
            .args(switches)
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("shot").display()
            ))
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            shot.status.success() && png.is_file(),
            "{}",
            String::from_utf8_lossy(&shot.stderr)
        );
    }
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .map(str::to_owned)
        .collect();
    let requests = page_requests(&std::fs::read_to_string(&net_log).unwrap());
    Browsed {
        dom: String::from_utf8_lossy(&dom.stdout).into_owned(),
        console,
        requests,
    }
}

/// The requests a page made, from Chromium's net log: those with the page as initiator
/// (the browser's own, with none, are left out; a file is not fetched over the network).
fn page_requests(log: &str) -> Vec<String> {
    let log: serde_json::Value = serde_json::from_str(log).unwrap();
    let start = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| &e["type"] == start && e["params"]["initiator"] != "not an origin")
        .filter_map(|e| Some(e["params"]["url"].as_str()?.to_owned()))
        .collect()
}

/// The names of the rows a DOM shows, in order.
fn shown_rows(dom: &str) -> Vec<String> {
    let row = regex::Regex::new(
        r#"<tr data-status="[^"]*"[^>]*?( hidden="")?>\s*<td class="mono">([^<]*)</td>"#,
    )
    .unwrap();
    row.captures_iter(dom)
        .filter(|c| c.get(1).is_none())
        .map(|c| c[2].to_owned())
        .collect()
}

#[test]
fn the_page_sorts_and_filters_in_a_real_browser_and_reads_without_scripts() {
    let workspace = fleet(12);
    // A failure whose message carries markup: it must stay text.
    workspace.write(
        "models/m7/2_hostile.up.sql",
        "SELECT * FROM \"<script>alert(1)</script>\";\n",
    );
    let page = workspace
        .run(&["up", "--format", "html"])
        .expect(1)
        .stdout();
    let path = workspace.path().join("page.html");
    std::fs::write(&path, &page).unwrap();
    let shots = shots();

    // The net log does show a page's request: a page that asks for an image.
    let control = workspace.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><title>c</title><img src=\"http://127.0.0.1:9/x.png\" alt=\"\">",
    )
    .unwrap();
    assert_eq!(
        browse(&control, "", None).requests,
        ["http://127.0.0.1:9/x.png"]
    );

    // And its console: a page whose script fails.
    let failing = workspace.path().join("failing.html");
    std::fs::write(
        &failing,
        "<!DOCTYPE html><title>f</title><script>throw new Error(\"bad\")</script>",
    )
    .unwrap();
    assert_eq!(browse(&failing, "", None).console.len(), 1);

    let plain = browse(&path, "", Some(&shots.join("fleet.png")));
    assert!(plain.console.is_empty(), "{:?}", plain.console);
    assert!(
        plain.requests.is_empty(),
        "requests left the page: {:?}",
        plain.requests
    );
    let rows = shown_rows(&plain.dom);
    assert_eq!(rows.len(), 12, "{}", plain.dom);
    assert_eq!(&rows[..2], ["m3", "m7"], "the failures first");
    assert!(plain.dom.contains("12 of 12 shown"));
    assert!(
        !plain.dom.contains("<script>alert"),
        "markup from a server message ran"
    );

    let failed = browse(&path, "#status=failed", None);
    assert_eq!(shown_rows(&failed.dom), ["m3", "m7"]);
    assert!(failed.dom.contains("2 of 12 shown"));

    let by_name = browse(&path, "#sort=name-desc&name=m1", None);
    assert_eq!(
        shown_rows(&by_name.dom),
        ["m12", "m11", "m10", "m1"],
        "natural order, descending"
    );

    let by_time = browse(&path, "#sort=ms-desc", None);
    let ms = regex::Regex::new(r#"data-ms="(-?\d+)""#).unwrap();
    let times: Vec<i64> = ms
        .captures_iter(&by_time.dom)
        .map(|c| c[1].parse().unwrap())
        .collect();
    assert_eq!(times.len(), 12);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Without scripts: every row and the counts are there; the controls are not offered.
    // (Chromium's --dump-dom needs scripts itself, so the page is opened with its one
    // script taken out, which is what a browser with JavaScript off runs of it.)
    let script = regex::Regex::new(r"(?s)<script>.*</script>").unwrap();
    assert_eq!(script.find_iter(&page).count(), 1);
    let without = workspace.path().join("without-scripts.html");
    std::fs::write(&without, script.replace(&page, "").as_ref()).unwrap();
    let off = browse(
        &without,
        "#status=failed",
        Some(&shots.join("fleet-no-js.png")),
    );
    assert_eq!(shown_rows(&off.dom).len(), 12);
    assert!(off.dom.contains("id=\"count-failed\">2</strong>"));
    assert!(
        off.dom
            .contains("<div class=\"controls\" id=\"controls\" hidden=\"\">")
    );
}

/// Measures a page in the browser, after its own script ran: the contrast of every text
/// that is shown against what is behind it (WCAG 2's ratio), and whether every control
/// takes the keyboard's focus. Writes what it found as JSON into `<pre id="measured">`.
const MEASURE: &str = r#"<script>
(function () {
  "use strict";
  function rgb(text) { return (text.match(/[\d.]+/g) || []).map(Number); }
  function channel(c) { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }
  function luminance(c) { return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]); }
  function behind(el) {
    for (; el; el = el.parentElement) {
      var c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0) { return c; }
    }
    return [255, 255, 255];
  }
  var worst = null, texts = 0;
  document.querySelectorAll("body *").forEach(function (el) {
    if (el.tagName === "SCRIPT" || !el.getClientRects().length) { return; }
    var own = Array.prototype.some.call(el.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    if (!own) { return; }
    texts += 1;
    var fg = luminance(rgb(getComputedStyle(el).color)), bg = luminance(behind(el));
    var ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (!worst || ratio < worst.ratio) { worst = { ratio: ratio, text: el.textContent.trim().slice(0, 40), tag: el.tagName }; }
  });
  var controls = Array.prototype.slice.call(document.querySelectorAll("button, input"));
  var unreachable = controls.filter(function (c) {
    c.focus();
    return document.activeElement !== c || c.tabIndex < 0;
  }).map(function (c) { return c.outerHTML.slice(0, 80); });
  var pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify({
    worst: worst, texts: texts, controls: controls.length, unreachable: unreachable,
    sortable: document.querySelectorAll("th[data-key]").length,
    sortable_by_button: document.querySelectorAll("th[data-key] > button[type=button]").length,
    background: getComputedStyle(document.body).backgroundColor
  });
  document.body.appendChild(pre);
}());
</script>"#;

/// What [`MEASURE`] found on `page`, opened with `switches`.
fn measured(page: &str, dir: &std::path::Path, name: &str, switches: &[&str]) -> serde_json::Value {
    let path = dir.join(format!("{name}.measure.html"));
    std::fs::write(&path, page.replace("</body>", &format!("{MEASURE}</body>"))).unwrap();
    let shots = shots();
    let browsed = browse_with(
        &path,
        "",
        Some(&shots.join(format!("{name}.png"))),
        switches,
    );
    assert!(browsed.console.is_empty(), "{:?}", browsed.console);
    let found = regex::Regex::new(r#"(?s)<pre id="measured">(.*?)</pre>"#)
        .unwrap()
        .captures(&browsed.dom)
        .unwrap_or_else(|| panic!("the measurement ran: {}", browsed.dom))[1]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&found).unwrap()
}

#[test]
fn pages_are_readable_in_light_and_dark_and_work_from_the_keyboard() {
    let workspace = fleet(12);
    workspace.write(
        "models/m5/2_drop.up.sql",
        "CREATE TABLE scratch (id INTEGER);\nDROP TABLE t5;\n",
    );
    let lint = workspace.run(&["lint", "--format", "html"]).stdout();
    assert!(lint.contains("drop-table"), "{lint}");
    std::fs::remove_file(workspace.path().join("models/m5/2_drop.up.sql")).unwrap();
    let up = workspace
        .run(&["up", "--format", "html"])
        .expect(1)
        .stdout();
    workspace.write(
        "models/m9/2_more.up.sql",
        "CREATE TABLE more (id INTEGER);\n",
    );
    let status = workspace
        .run(&["status", "--format", "html"])
        .expect(0)
        .stdout();
    assert!(status.contains("id=\"count-pending\""), "{status}");
    for (name, page) in [("up", &up), ("status", &status), ("lint", &lint)] {
        for (scheme, switches, background) in [
            ("light", &[][..], "rgb(255, 255, 255)"),
            ("dark", &["--force-dark-mode"][..], "rgb(13, 17, 23)"),
        ] {
            let m = measured(
                page,
                workspace.path(),
                &format!("{name}-{scheme}"),
                switches,
            );
            let what = format!("{name} page, {scheme}: {m}");
            eprintln!(
                "{name} page, {scheme}: lowest contrast {:.2}:1 ({}), {} texts, {} controls",
                m["worst"]["ratio"].as_f64().unwrap_or(0.0),
                m["worst"]["text"],
                m["texts"],
                m["controls"]
            );
            assert_eq!(m["background"], background, "{what}");
            assert!(m["texts"].as_u64().unwrap() > 20, "{what}");
            // WCAG 2 AA for text: at least 4.5:1.
            assert!(m["worst"]["ratio"].as_f64().unwrap() >= 4.5, "{what}");
            assert_eq!(m["unreachable"], serde_json::json!([]), "{what}");
            // The name box, a box per status and a button per sortable column.
            assert!(m["controls"].as_u64().unwrap() >= 8, "{what}");
            assert_eq!(m["sortable"], 5, "{what}");
            assert_eq!(m["sortable_by_button"], 5, "{what}");
        }
    }
}

/// The Nu HTML Checker's errors for `page` (none: valid HTML).
fn validation_errors(page: &std::path::Path) -> String {
    validation_errors_of(&[page.to_path_buf()])
}

/// The Nu HTML Checker's errors for `pages`, checked in one run.
fn validation_errors_of(pages: &[std::path::PathBuf]) -> String {
    let out = std::process::Command::new("java")
        .arg("-jar")
        .arg(skein_testkit::vnu_jar())
        .args(["--errors-only", "--format", "text"])
        .args(pages)
        .output()
        .expect("java runs (the HTML checker is a jar)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.success() {
        true => String::new(),
        false => text,
    }
}

#[test]
fn pages_are_valid_html_with_hostile_text_empty_fleets_and_lint_findings() {
    let dir = tempfile::tempdir().unwrap();
    // Hostile text from every outside source a page shows: a migration's name (file),
    // a server message, and a lint finding, with markup, quotes and control characters.
    let workspace = fleet(4);
    workspace.write(
        "models/m2/2_x\u{7}\"'<b>.up.sql",
        "CREATE TABLE \"<i>it's</i>\u{1b}[31m\" (id INTEGER);\nSELECT * FROM \"<script>alert(1)</script>\";\n",
    );
    workspace.write(
        "models/m4/2_drop.up.sql",
        "ALTER TABLE t4 DROP COLUMN id;\n",
    );
    let pages = [
        (
            "up",
            workspace
                .run(&["up", "--format", "html"])
                .expect(1)
                .stdout(),
        ),
        (
            "lint",
            workspace.run(&["lint", "--format", "html"]).stdout(),
        ),
        (
            "empty",
            Workspace::new(
                "[default.models]\ndir = \"models\"\nurl = \"sqlite://dbs/{model}.db\"\n",
                &[],
            )
            .run(&["status", "--format", "html"])
            .expect(0)
            .stdout(),
        ),
    ];
    let shots = shots();
    for (name, page) in &pages {
        let path = dir.path().join(format!("{name}.html"));
        std::fs::write(&path, page).unwrap();
        let errors = validation_errors(&path);
        assert!(errors.is_empty(), "{name}: {errors}");
        let browsed = browse(&path, "", Some(&shots.join(format!("{name}.png"))));
        assert!(browsed.console.is_empty(), "{name}: {:?}", browsed.console);
        assert!(
            browsed.requests.is_empty(),
            "{name}: {:?}",
            browsed.requests
        );
        for markup in ["<script>alert", "<i>it", "<b>.up"] {
            assert!(
                !page.contains(markup),
                "{name}: {markup} reached the page as markup"
            );
        }
        assert!(
            !page.contains('\u{1b}') && !page.contains('\u{7}'),
            "{name}: a control character"
        );
    }
    assert!(
        pages[0]
            .1
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{}",
        pages[0].1
    );
    assert!(pages[1].1.contains("id=\"h-lint\""), "{}", pages[1].1);
    assert!(pages[1].1.contains("drop-column"));
    assert!(
        pages[1].1.contains("(table <code>t4</code>"),
        "{}",
        pages[1].1
    );
    assert!(pages[2].1.contains("0 databases"));
    // The checker does catch invalid HTML.
    let broken = dir.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><html><title>x</title><p><div></p></html>",
    )
    .unwrap();
    assert!(!validation_errors(&broken).is_empty());
}

#[test]
fn a_two_hundred_database_postgres_fleet_s_pages_in_a_real_browser() {
    let fleet = crate::fleet::pg_fleet(200);
    let workspace = &fleet.workspace;
    // Three models whose last migration fails, each in its own way.
    let broken = [
        (
            &fleet.models[17],
            "SELECT 1;\nSELECT no_such_function(1);\n",
        ),
        (&fleet.models[101], "CREATE TABLE trades (id INT);\n"),
        (
            &fleet.models[188],
            "ALTER TABLE trades ADD COLUMN amount_usd NUMERIC NOT NULL DEFAULT 'x';\n",
        ),
    ];
    for (model, sql) in broken {
        workspace.write(&format!("models/{}/9_broken.up.sql", model.name), sql);
    }
    let shots = shots();
    let up = workspace
        .run(&["up", "--format", "html"])
        .expect(1)
        .stdout();
    let up_path = workspace.path().join("up.html");
    std::fs::write(&up_path, &up).unwrap();
    assert_eq!(validation_errors(&up_path), "");
    let page = browse(&up_path, "", Some(&shots.join("pg-fleet-up.png")));
    assert!(page.console.is_empty(), "{:?}", page.console);
    assert!(page.requests.is_empty(), "{:?}", page.requests);
    assert_eq!(shown_rows(&page.dom).len(), 201, "200 models and infra");
    // A failure's place, and the server's hint with it.
    assert!(
        page.dom.contains("9_broken.up.sql:2</code>"),
        "{}",
        page.dom
    );
    assert!(
        page.dom
            .contains("hint: No function matches the given name and argument types"),
        "{}",
        page.dom
    );
    let failed = browse(&up_path, "#status=failed", None);
    let mut shown = shown_rows(&failed.dom);
    shown.sort();
    let mut names: Vec<String> = broken.iter().map(|(m, _)| m.name.clone()).collect();
    names.sort();
    assert_eq!(shown, names, "the three failures");
    assert!(failed.dom.contains("3 of 201 shown"));
    let by_time = browse(&up_path, "#sort=ms-desc", None);
    let ms = regex::Regex::new(r#"data-ms="(-?\d+)""#).unwrap();
    let times: Vec<i64> = ms
        .captures_iter(&by_time.dom)
        .map(|c| c[1].parse().unwrap())
        .collect();
    assert_eq!(times.len(), 201);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Two models drift: the page groups them with their differences.
    for (model, _) in &broken {
        std::fs::remove_file(
            workspace
                .path()
                .join(format!("models/{}/9_broken.up.sql", model.name)),
        )
        .unwrap();
    }
    fleet.models[5].exec("ALTER TABLE trades DROP COLUMN amount");
    fleet.models[150].exec("CREATE TABLE scratch_notes (id INT)");
    let drift = workspace
        .run(&["drift", "--group", "models", "--format", "html"])
        .expect(3)
        .stdout();
    let drift_path = workspace.path().join("drift.html");
    std::fs::write(&drift_path, &drift).unwrap();
    assert_eq!(validation_errors(&drift_path), "");
    let page = browse(&drift_path, "", Some(&shots.join("pg-fleet-drift.png")));
    assert!(page.console.is_empty(), "{:?}", page.console);
    assert_eq!(shown_rows(&page.dom).len(), 200);
    assert!(page.dom.contains("Drift: 2 groups"), "{}", page.dom);
    assert!(page.dom.contains("scratch_notes"));
    let drifted = browse(&drift_path, "#status=drifted", None);
    assert_eq!(shown_rows(&drifted.dom).len(), 2);
}

/// `text` as the page's template escapes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// The saved reports in `tests/fixtures/reports` were written by skein's own builds of
/// each schema version, 1 to the current one, from the example workspace (with two models
/// added: one whose migration fails, one with lint findings): `v<N>-<command>.json`. A
/// new schema version adds its set (`status-pending`, `plan`, `lint`, `up`, `status`,
/// `history`, `check`, `drift`, `converge`, `error`).
#[test]
fn skein_report_renders_the_saved_reports_of_every_schema_version() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    let workspace = Workspace::new("", &[]);
    // Any JSON document skein writes carries the version, an error's too.
    let current: serde_json::Value =
        serde_json::from_str(&workspace.run(&["status", "--format", "json"]).stdout()).unwrap();
    let current = current["schema_version"].as_u64().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut versions = std::collections::BTreeSet::new();
    let mut pages = Vec::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let version = doc["schema_version"].as_u64().unwrap();
        assert!(name.starts_with(&format!("v{version}-")), "{name}");
        versions.insert(version);
        let shown = file.to_str().unwrap();
        let page = workspace.run(&["report", shown]).expect(0).stdout();
        let databases = doc["databases"].as_array().map_or(&[][..], Vec::as_slice);
        assert_eq!(
            page.matches("<tr data-status=").count(),
            databases.len(),
            "{name}"
        );
        assert!(
            !page.contains(">unknown<"),
            "{name}: a status without a word"
        );
        for db in databases {
            let row = format!(
                "data-status=\"{}\" data-name=",
                db["status"].as_str().unwrap()
            );
            assert!(page.contains(&row), "{name}: {row}");
            assert!(
                page.contains(&format!(
                    "<td class=\"mono\">{}</td>",
                    db["name"].as_str().unwrap()
                )),
                "{name}: {db}"
            );
            if let Some(message) = db["error"]["message"].as_str() {
                let first = escaped(message.lines().next().unwrap());
                assert!(page.contains(&first), "{name}: {first}");
            }
        }
        if let Some(message) = doc["error"]["message"].as_str() {
            let first = escaped(message.lines().next().unwrap());
            assert!(page.contains(&first), "{name}: {first}\n{page}");
        }
        if name.ends_with("-drift") {
            assert!(page.contains("Drift: 1 group"), "{name}");
            assert!(
                page.contains("table scratch is not in the migrations"),
                "{name}"
            );
        }
        if name.ends_with("-lint") && !databases.is_empty() {
            assert!(page.contains("drop-table"), "{name}");
        }
        if name.ends_with("-up") {
            assert!(page.contains("id=\"h-failed\""), "{name}");
            assert!(page.contains("20250101000000_broken.up.sql:3"), "{name}");
        }
        let summary = workspace
            .run(&["report", "--format", "markdown", shown])
            .expect(0)
            .stdout();
        let command = doc["command"].as_str().unwrap_or("");
        assert!(
            summary.starts_with(&format!("### skein {command}")),
            "{name}: {summary}"
        );
        let path = workspace.path().join(format!("{name}.html"));
        std::fs::write(&path, &page).unwrap();
        pages.push(path);
    }
    let expected: std::collections::BTreeSet<u64> = (1..=current).collect();
    assert_eq!(
        versions, expected,
        "a saved report of each schema version, the current one ({current}) too"
    );
    assert_eq!(validation_errors_of(&pages), "");
}
