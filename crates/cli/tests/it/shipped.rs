//! What the repository ships, run as shipped: the environment a deploy system sets, the
//! GitHub Actions example, the README's own words.

use crate::support::*;

#[test]
fn skein_variables_that_are_not_settings_are_ignored_with_one_warning_each() {
    let db = skein_testkit::TestDb::new("envwarn");
    let workspace = Workspace::postgres(&db.url, &[("1_t.up.sql", "CREATE TABLE t (id int);\n")]);
    // What the GitHub Actions example sets at workflow level, and a typo under a database.
    let run = |args: &[&str]| {
        Run(workspace
            .command(args)
            .env("SKEIN_REPOSITORY", "https://example.invalid/skein")
            .env("SKEIN_REF", "main")
            .env("SKEIN_DATABASES__APP__URLL", "x")
            .output()
            .unwrap())
    };
    let status = run(&["status"]).expect(0);
    let stderr = status.stderr();
    for variable in [
        "SKEIN_REPOSITORY",
        "SKEIN_REF",
        "SKEIN_DATABASES__APP__URLL",
    ] {
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.contains("WARN") && l.contains(&format!("{variable} ")))
                .count(),
            1,
            "one warning naming {variable}: {stderr}"
        );
    }
    assert!(stderr.contains("did you mean `url`?"), "{stderr}");
    assert!(status.stdout().contains("pending"), "{}", status.stdout());
    run(&["up", "-q"]).expect(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM t").as_deref(),
        Some("0")
    );
    // The same typo in the file is still an error naming the file and line, even with
    // those variables set.
    let config = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    workspace.write("skein.toml", &config.replace("url =", "urll ="));
    let typo = run(&["status"]).expect(2);
    assert!(
        typo.stderr()
            .contains("unknown setting `databases.app.urll` (skein.toml:3 [default])"),
        "{}",
        typo.stderr()
    );
}

#[test]
fn a_json_error_about_a_secret_or_a_shard_says_where_it_is() {
    let db = skein_testkit::TestDb::new("where");
    let url = db.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:${env:SKEIN_TEST_NO_SUCH_PASSWORD}@",
        1,
    );
    let workspace = Workspace::new(
        &format!(
            "[default.databases.app]\nmigrations = \"migrations\"\n\n[default.databases.app2]\nmigrations = \"migrations\"\nurl = \"{}\"\n\n[prod.databases.app]\nurl = \"{url}\"\n",
            db.url
        ),
        &[("migrations/1_t.up.sql", "CREATE TABLE t (id int);\n")],
    );
    let secret = workspace
        .run(&[
            "--profile",
            "prod",
            "status",
            "--db",
            "app",
            "--format",
            "json",
        ])
        .expect(2)
        .json();
    let place = &secret["error"]["where"];
    assert_eq!(place["database"], "app", "{secret:#}");
    assert_eq!(place["file"], "skein.toml", "{secret:#}");
    assert_eq!(place["line"], 9, "the line of the URL: {secret:#}");

    // The shard arguments, JOB_COMPLETION_INDEX, and the flag the error is about.
    for (args, index, flag) in [
        (
            &["up", "--shard", "auto", "--shards", "4"][..],
            None,
            "--shard",
        ),
        (
            &["up", "--shard", "auto", "--shards", "4"][..],
            Some("x"),
            "--shard",
        ),
        (&["up", "--shard", "4/4"][..], None, "--shard"),
        (&["up", "--shard", "one/4"][..], None, "--shard"),
        (&["status", "--shard", "auto"][..], Some("0"), "--shards"),
    ] {
        let mut command = workspace.command(args);
        command
            .args(["--db", "app2", "--format", "json"])
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SKEIN_SHARDS");
        if let Some(index) = index {
            command.env("JOB_COMPLETION_INDEX", index);
        }
        let doc = Run(command.output().unwrap()).expect(2).json();
        assert_eq!(doc["error"]["kind"], "usage", "{args:?}: {doc:#}");
        assert_eq!(doc["error"]["where"]["argument"], flag, "{args:?}: {doc:#}");
    }
    assert_eq!(
        db.value("SELECT count(*)::text FROM pg_tables WHERE tablename = 't'")
            .as_deref(),
        Some("0"),
        "nothing ran"
    );
}

/// The GitHub Actions example, run here: each job's steps in order, `run:` steps with bash
/// as a runner runs them (`bash -e -o pipefail`), with the workflow's, the job's and the
/// step's `env:`. What only GitHub has is stood in for: `${{ secrets.* }}` and
/// `${{ vars.* }}` are local values, the repository skein is installed from is a local git
/// repository, the actions a step `uses:` are done by the test (see [`Runner::action`]),
/// the databases are a local password-checking PostgreSQL, and AWS Secrets Manager is
/// moto. An expression or action the test does not know fails it, so that a change to
/// the workflow is a change to this test too.
mod workflow {
    use serde_yaml_ng::{Mapping, Value};
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub struct Runner {
        /// The event that started the run: `pull_request` or `push`.
        pub event: &'static str,
        /// `secrets.*` and `vars.*`.
        pub secrets: BTreeMap<&'static str, String>,
        /// Workflow-level variables that name something on the internet, and their stand-ins.
        pub stand_ins: BTreeMap<&'static str, String>,
        /// The checkout: a copy of the example workspace.
        pub workspace: PathBuf,
        /// The runner's HOME.
        pub home: PathBuf,
        /// What `aws-actions/configure-aws-credentials` exports.
        pub aws_env: Vec<(&'static str, String)>,
        /// Each job's outputs, for `needs.*`.
        pub job_outputs: BTreeMap<String, BTreeMap<String, String>>,
        /// Every `run:` step that ran: job, step name.
        pub ran: Vec<(String, String)>,
    }

    /// A job's state while its steps run.
    #[derive(Default)]
    struct Job {
        env: BTreeMap<String, String>,
        /// GITHUB_PATH: later entries come first.
        path: Vec<String>,
        /// `steps.<id>.outputs` and `steps.<id>.outcome`.
        outputs: BTreeMap<String, BTreeMap<String, String>>,
        outcomes: BTreeMap<String, &'static str>,
    }

    fn text(value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => panic!("not a scalar: {other:?}"),
        }
    }

    fn get<'a>(map: &'a Mapping, key: &str) -> Option<&'a Value> {
        map.get(Value::String(key.to_owned()))
    }

    fn mapping(value: Option<&Value>) -> Mapping {
        value
            .map(|v| v.as_mapping().expect("a mapping").clone())
            .unwrap_or_default()
    }

    impl Runner {
        /// Runs the jobs the event selects, in the file's order (every `needs` comes
        /// first there); returns the names of the jobs that ran.
        pub fn run(&mut self, workflow: &Value) -> Vec<String> {
            let root = workflow.as_mapping().unwrap();
            let mut env = BTreeMap::new();
            for (key, value) in mapping(get(root, "env")) {
                let key = text(&key);
                let value = match self.stand_ins.get(key.as_str()) {
                    Some(stand_in) => stand_in.clone(),
                    None => text(&value),
                };
                env.insert(key, value);
            }
            for name in self.stand_ins.keys() {
                assert!(env.contains_key(*name), "the workflow sets no {name}");
            }
            let mut ran = Vec::new();
            for (name, job) in mapping(get(root, "jobs")) {
                let (name, job) = (text(&name), job.as_mapping().unwrap().clone());
                for key in job.keys() {
                    let known = [
                        "name",
                        "if",
                        "needs",
                        "runs-on",
                        "timeout-minutes",
                        "outputs",
                        "steps",
                        "env",
                        "environment",
                        "concurrency",
                        "permissions",
                    ];
                    assert!(known.contains(&text(key).as_str()), "job {name}: {key:?}");
                }
                let needs: Vec<String> = match get(&job, "needs") {
                    Some(Value::Sequence(list)) => list.iter().map(text).collect(),
                    Some(one) => vec![text(one)],
                    None => Vec::new(),
                };
                for needed in needs {
                    assert!(
                        self.job_outputs.contains_key(&needed),
                        "{name} needs {needed}"
                    );
                }
                let runs =
                    get(&job, "if").is_none_or(|c| self.condition(&text(c), &Job::default()));
                if runs {
                    self.job(&name, &job, &env);
                    ran.push(name);
                }
            }
            ran
        }

        fn job(&mut self, name: &str, job: &Mapping, workflow_env: &BTreeMap<String, String>) {
            let mut state = Job {
                env: workflow_env.clone(),
                ..Job::default()
            };
            for (key, value) in mapping(get(job, "env")) {
                let value = self.expand(&text(&value), &state);
                state.env.insert(text(&key), value);
            }
            for step in get(job, "steps").unwrap().as_sequence().unwrap() {
                self.step(name, step.as_mapping().unwrap(), &mut state);
            }
            let mut outputs = BTreeMap::new();
            for (key, value) in mapping(get(job, "outputs")) {
                outputs.insert(text(&key), self.expand(&text(&value), &state));
            }
            self.job_outputs.insert(name.to_owned(), outputs);
        }

        fn step(&mut self, job: &str, step: &Mapping, state: &mut Job) {
            for key in step.keys() {
                let known = ["name", "id", "if", "run", "uses", "with", "env"];
                assert!(known.contains(&text(key).as_str()), "{job}: {key:?}");
            }
            let id = get(step, "id").map(text);
            let title = get(step, "name")
                .or_else(|| get(step, "uses"))
                .map(text)
                .unwrap();
            let runs = get(step, "if").is_none_or(|c| self.condition(&text(c), state));
            let outcome = if !runs {
                "skipped"
            } else if let Some(action) = get(step, "uses") {
                let with: BTreeMap<String, String> = mapping(get(step, "with"))
                    .iter()
                    .map(|(k, v)| (text(k), self.expand(&text(v), state)))
                    .collect();
                let outputs = self.action(&text(action), &with, state);
                if let Some(id) = &id {
                    state.outputs.insert(id.clone(), outputs);
                }
                "success"
            } else {
                let script = text(get(step, "run").unwrap());
                let mut env = state.env.clone();
                for (key, value) in mapping(get(step, "env")) {
                    env.insert(text(&key), self.expand(&text(&value), state));
                }
                let outputs = self.shell(job, &title, &script, &env, state);
                if let Some(id) = &id {
                    state.outputs.insert(id.clone(), outputs);
                }
                self.ran.push((job.to_owned(), title.clone()));
                "success"
            };
            if let Some(id) = id {
                state.outcomes.insert(id, outcome);
            }
        }

        /// Runs a `run:` script as the runner does; every step is expected to succeed.
        fn shell(
            &self,
            job: &str,
            title: &str,
            script: &str,
            env: &BTreeMap<String, String>,
            state: &mut Job,
        ) -> BTreeMap<String, String> {
            let files = tempfile::tempdir().unwrap();
            let output_file = files.path().join("output");
            let path_file = files.path().join("path");
            std::fs::write(&output_file, "").unwrap();
            std::fs::write(&path_file, "").unwrap();
            let mut path: Vec<String> = state.path.iter().rev().cloned().collect();
            path.push(std::env::var("PATH").unwrap_or_default());
            let output = Command::new("bash")
                .args([
                    "--noprofile",
                    "--norc",
                    "-e",
                    "-o",
                    "pipefail",
                    "-c",
                    script,
                ])
                .current_dir(&self.workspace)
                .env_clear()
                .envs(env)
                .env("PATH", path.join(":"))
                .env("HOME", &self.home)
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_PATH", &path_file)
                .env("GITHUB_STEP_SUMMARY", self.home.join("step-summary.md"))
                .env("GITHUB_WORKSPACE", &self.workspace)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "job {job}, step `{title}` exited {}:\n{}\n--- stdout:\n{}\n--- stderr:\n{}",
                output.status,
                script,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                !stderr.contains("WARN"),
                "job {job}, step `{title}` warns:\n{stderr}"
            );
            state.path.extend(
                std::fs::read_to_string(&path_file)
                    .unwrap()
                    .lines()
                    .map(str::to_owned),
            );
            std::fs::read_to_string(&output_file)
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        }

        /// What the actions the workflow uses do, here; their outputs.
        fn action(
            &self,
            action: &str,
            with: &BTreeMap<String, String>,
            state: &mut Job,
        ) -> BTreeMap<String, String> {
            let (name, _version) = action.split_once('@').unwrap();
            let mut outputs = BTreeMap::new();
            match name {
                // The checkout is the copy of the example workspace the steps run in.
                "actions/checkout" => {}
                // The cache holds skein built from the commit the install job found.
                "actions/cache" | "actions/cache/restore" => {
                    let commit = &self.installed_commit(state);
                    assert_eq!(with["key"], format!("skein-Linux-{commit}"));
                    assert_eq!(with["path"], "~/.skein-install");
                    assert!(self.home.join(".skein-install/bin/skein").is_file());
                    outputs.insert("cache-hit".to_owned(), "true".to_owned());
                }
                "aws-actions/configure-aws-credentials" => {
                    assert!(!with["role-to-assume"].is_empty(), "{with:?}");
                    assert!(!with["aws-region"].is_empty(), "{with:?}");
                    for (key, value) in &self.aws_env {
                        state.env.insert((*key).to_owned(), value.clone());
                    }
                    state
                        .env
                        .insert("AWS_REGION".to_owned(), with["aws-region"].clone());
                }
                // The artifact is the report the migration wrote, and its page.
                "actions/upload-artifact" => {
                    let paths: Vec<&str> = with["path"].lines().map(str::trim).collect();
                    assert_eq!(paths, ["skein-report.json", "skein-report.html"]);
                    let report = self.workspace.join(paths[0]);
                    let report: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
                    assert_eq!(report["command"], "up", "{report:#}");
                    let page = std::fs::read_to_string(self.workspace.join(paths[1])).unwrap();
                    assert!(page.starts_with("<!DOCTYPE html>"));
                }
                other => panic!("the test does not know the action {other}: teach it"),
            }
            outputs
        }

        /// The commit the install job found, from its own step or its job's outputs.
        fn installed_commit(&self, state: &Job) -> String {
            state
                .outputs
                .get("ref")
                .and_then(|o| o.get("commit"))
                .or_else(|| self.job_outputs.get("install")?.get("commit"))
                .cloned()
                .expect("the install job found a commit")
        }

        /// The value of a context path (`secrets.DB_HOST`, `steps.ref.outputs.commit`).
        fn lookup(&self, path: &str, state: &Job) -> String {
            let parts: Vec<&str> = path.split('.').collect();
            let found = match parts.as_slice() {
                ["secrets" | "vars", name] => self.secrets.get(name).cloned(),
                ["github", "event_name"] => Some(self.event.to_owned()),
                ["github", "ref"] => Some(match self.event {
                    "pull_request" => "refs/pull/1/merge".to_owned(),
                    _ => "refs/heads/main".to_owned(),
                }),
                ["github", "run_id" | "run_attempt"] => Some("1".to_owned()),
                ["runner", "os"] => Some("Linux".to_owned()),
                ["steps", id, "outputs", key] => {
                    state.outputs.get(*id).and_then(|o| o.get(*key)).cloned()
                }
                ["steps", id, "outcome"] => state.outcomes.get(*id).map(|o| (*o).to_owned()),
                ["needs", job, "outputs", key] => self
                    .job_outputs
                    .get(*job)
                    .and_then(|o| o.get(*key))
                    .cloned(),
                _ => None,
            };
            found.unwrap_or_else(|| panic!("the test has no value for `{path}`: teach it"))
        }

        /// `${{ path }}` in a value, replaced.
        fn expand(&self, value: &str, state: &Job) -> String {
            let mut out = String::new();
            let mut rest = value;
            while let Some(start) = rest.find("${{") {
                let end = rest[start..].find("}}").unwrap() + start;
                out.push_str(&rest[..start]);
                out.push_str(&self.lookup(rest[start + 3..end].trim(), state));
                rest = &rest[end + 2..];
            }
            out.push_str(rest);
            out
        }

        /// An `if:`: terms joined by `&&`, each `!cancelled()` or `path == 'x'` / `!=`.
        fn condition(&self, condition: &str, state: &Job) -> bool {
            let inner = condition
                .trim()
                .strip_prefix("${{")
                .and_then(|c| c.strip_suffix("}}"))
                .unwrap_or(condition);
            inner.split("&&").all(|term| {
                let term = term.trim();
                if term == "!cancelled()" {
                    return true;
                }
                let (path, want, equal) = if let Some((p, v)) = term.split_once("!=") {
                    (p, v, false)
                } else if let Some((p, v)) = term.split_once("==") {
                    (p, v, true)
                } else {
                    panic!("the test cannot read the condition `{term}`: teach it")
                };
                let want = want.trim().trim_matches('\'');
                (self.lookup(path.trim(), state) == want) == equal
            })
        }
    }

    /// A git repository with a `main` branch, standing in for skein's on GitHub.
    pub fn local_repository(dir: &Path) -> String {
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["commit", "-q", "--allow-empty", "-m", "skein"]);
        dir.display().to_string()
    }
}

#[test]
fn the_github_actions_example_runs_as_shipped() {
    let _only = crate::example::PROD_DATABASES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/github-actions/skein.yml"
    );
    let workflow: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let workspace = crate::example::example();
    let server = skein_testkit::password_server();
    let admin = skein_testkit::TestDb::on(server, "gha_admin");
    let user = "skein_ci";
    let password = skein_testkit::SCRAM_PASSWORD;
    // `drift` on staging replays the migrations into a scratch database: CREATEDB.
    admin.exec(&format!(
        "DO $$ BEGIN CREATE ROLE {user} LOGIN CREATEDB PASSWORD '{password}'; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    ));
    let models = workspace
        .run(&["model", "list", "--format", "json"])
        .expect(0)
        .json();
    let mut names = vec!["indexer_shared".to_owned()];
    names.extend(
        models["databases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned()),
    );
    let fresh_databases = || {
        for name in &names {
            admin.exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            admin.exec(&format!("CREATE DATABASE {name} OWNER {user}"));
        }
    };
    let moto = skein_testkit::moto();
    moto.put_secret(
        "indexer/prod/db",
        &serde_json::json!({ "username": user, "password": password }).to_string(),
    );
    let home = tempfile::tempdir().unwrap();
    let installed = home.path().join(".skein-install/bin");
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::copy(skein(), installed.join("skein")).unwrap();
    let repository = tempfile::tempdir().unwrap();
    let secrets = [
        ("STAGING_DB_HOST", server.authority()),
        ("STAGING_DB_USER", user.to_owned()),
        ("STAGING_DB_PASSWORD", password.to_owned()),
        ("DB_HOST", server.authority()),
        ("DB_USER", user.to_owned()),
        (
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/skein-deploy".to_owned(),
        ),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    let runner = |event| workflow::Runner {
        event,
        secrets: secrets.iter().cloned().collect(),
        stand_ins: [(
            "INSTALL_SKEIN_FROM",
            workflow::local_repository(repository.path()),
        )]
        .into_iter()
        .collect(),
        workspace: workspace.path().to_owned(),
        home: home.path().to_owned(),
        aws_env: moto
            .env()
            .into_iter()
            .filter(|(k, _)| *k != "AWS_REGION")
            .collect(),
        job_outputs: Default::default(),
        ran: Vec::new(),
    };

    // A pull request: staging, as the last deploy left it, is checked.
    fresh_databases();
    let staging = workspace
        .command(&["--profile", "staging", "up", "-q"])
        .env("INDEXER_DB_HOST", server.authority())
        .env("INDEXER_DB_USER", user)
        .env("INDEXER_DB_PASSWORD", password)
        .output()
        .unwrap();
    Run(staging).expect(0);
    let mut pull_request = runner("pull_request");
    assert_eq!(pull_request.run(&workflow), ["install", "check"]);
    let steps: Vec<&str> = pull_request.ran.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        steps,
        [
            "Find the commit of skein to install",
            "Put skein on PATH",
            "Live schemas against their migrations",
            "Expect rules",
            "Pending migrations",
        ],
        "the build is skipped: the cache has it"
    );

    // A push to main: production, new, is migrated.
    fresh_databases();
    let mut push = runner("push");
    assert_eq!(push.run(&workflow), ["install", "deploy"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(workspace.path().join("skein-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["profile"], "prod");
    let migrated = statuses_of(&report);
    assert_eq!(migrated.len(), names.len(), "{report:#}");
    assert!(migrated.values().all(|s| s == "ok"), "{report:#}");
    assert!(
        !std::fs::read_to_string(workspace.path().join("skein-report.json"))
            .unwrap()
            .contains(password),
        "the password is never in the report"
    );
    // The job's summary says how the run went; the page, kept beside the JSON, lists
    // every database.
    let summary = std::fs::read_to_string(home.path().join("step-summary.md")).unwrap();
    assert!(
        summary.contains(&format!(
            "**{} databases**: {} ok",
            names.len(),
            names.len()
        )),
        "{summary}"
    );
    let page = std::fs::read_to_string(workspace.path().join("skein-report.html")).unwrap();
    assert_eq!(page.matches("<tr data-status=\"ok\"").count(), names.len());
    assert!(!page.contains(password));
    for name in &names {
        admin.exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}
