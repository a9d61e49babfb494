//! A model template: the migrations every model database applies, written once and
//! rendered per model with minijinja (`{{ model }}` and the model's variables; an
//! undefined variable is an error). A model's own folder adds migrations particular to
//! that model, merged with the template's by version.

use super::{MigrationSource, assemble, read_folder};
use crate::dialect::Dialect;
use crate::error::SourceError;
use crate::migration::{FileName, Migration, Version};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// A model's template variables (besides `model`), by name.
pub type Vars = BTreeMap<String, serde_json::Value>;

/// The files of a template folder, read once and rendered for any number of models.
#[derive(Debug)]
pub struct Template {
    dir: PathBuf,
    /// `(path, text)`, the path being `dir` joined with the file name.
    files: Vec<(PathBuf, String)>,
    /// How files are rendered: newlines kept, an undefined variable an error.
    env: minijinja::Environment<'static>,
}

impl Template {
    /// Reads the template folder's `.sql` files.
    pub fn load(dir: impl Into<PathBuf>) -> Result<Template, SourceError> {
        let dir = dir.into();
        let mut files = Vec::new();
        for (path, bytes) in read_folder(&dir)? {
            let text = String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8 {
                path: path.clone(),
                byte: e.utf8_error().valid_up_to(),
            })?;
            files.push((path, text));
        }
        files.sort();
        Ok(Template {
            dir,
            files,
            env: environment(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The newest version among the template's files.
    pub fn head(&self) -> Option<Version> {
        self.files
            .iter()
            .filter_map(|(path, _)| FileName::parse(path.file_name()?.to_str()?).ok())
            .map(|name| name.version)
            .max()
    }

    /// The files' text, for checks that read the template itself (lint).
    pub fn files(&self) -> &[(PathBuf, String)] {
        &self.files
    }

    /// Files of a database's own folder: those marked `-- skein:template` (goose's ENVSUB
    /// sections, imported) rendered with `vars`, a name `vars` lacks taken from the
    /// environment variable of that name, read now; the others as they are. `database`
    /// names the database in errors.
    pub fn render_marked(
        files: Vec<(PathBuf, Vec<u8>)>,
        database: &str,
        vars: &Vars,
        dialect: Option<Dialect>,
    ) -> Result<Vec<(PathBuf, Vec<u8>)>, SourceError> {
        let mut env = None;
        let unsafe_var = control_character(vars);
        files
            .into_iter()
            .map(|(path, bytes)| {
                let marked = std::str::from_utf8(&bytes).is_ok_and(|text| {
                    crate::migration::Directives::parse(text).is_ok_and(|d| d.template)
                });
                if !marked {
                    return Ok((path, bytes));
                }
                let text = String::from_utf8(bytes).unwrap_or_default();
                let env = env.get_or_insert_with(environment);
                let failed = |line: usize, message: String| SourceError::RenderFile {
                    path: path.clone(),
                    line,
                    database: database.to_owned(),
                    message,
                };
                if let Some((name, character)) = unsafe_var {
                    return Err(failed(
                        0,
                        format!(
                            "the variable `{name}` holds a control character (U+{:04X}); a value that reaches SQL may not: fix [databases.{database}.vars]",
                            u32::from(character)
                        ),
                    ));
                }
                let template = env
                    .template_from_str(&text)
                    .map_err(|e| failed(e.line().unwrap_or(0), e.to_string()))?;
                let mut context: BTreeMap<String, minijinja::Value> = vars
                    .iter()
                    .map(|(name, value)| (name.clone(), minijinja::Value::from_serialize(value)))
                    .collect();
                let mut unset = Vec::new();
                let mut used: Vec<String> = template.undeclared_variables(false).into_iter().collect();
                used.sort();
                for name in used {
                    if context.contains_key(&name) {
                        continue;
                    }
                    match std::env::var(&name) {
                        Ok(value) if value.chars().any(char::is_control) => {
                            return Err(failed(
                                0,
                                format!("the environment variable `{name}` holds a control character; a value that reaches SQL may not"),
                            ));
                        }
                        Ok(value) => {
                            context.insert(name, minijinja::Value::from(value));
                        }
                        Err(_) => unset.push(name),
                    }
                }
                if let Some(dialect) = dialect {
                    context.insert(DIALECT_VARIABLE.to_owned(), minijinja::Value::from(dialect.name()));
                }
                let mut out = Capped::default();
                match template.render_captured_to(minijinja::Value::from_serialize(&context), &mut out) {
                    Ok(_) => Ok((path.clone(), out.bytes)),
                    Err(e) => {
                        let message = match (out.stopped, unset.is_empty()) {
                            (Some(why), _) => why.to_owned(),
                            (None, false) => {
                                // Those used without a default, when that can be seen.
                                let bare: Vec<&String> = unset
                                    .iter()
                                    .filter(|n| {
                                        text.contains(&format!("{{{{ {n} }}}}"))
                                            || text.contains(&format!("{{{{{n}}}}}"))
                                    })
                                    .collect();
                                let unset: Vec<&String> = match bare.is_empty() {
                                    true => unset.iter().collect(),
                                    false => bare,
                                };
                                let names: Vec<String> =
                                    unset.iter().map(|n| format!("`{n}`")).collect();
                                let verb = if unset.len() == 1 { "is" } else { "are" };
                                format!(
                                    "{} {verb} not set: set {} in the environment skein runs in (the file fills it from there, as goose's ENVSUB did)",
                                    names.join(", "),
                                    if unset.len() == 1 { "it" } else { "them" }
                                )
                            }
                            (None, true) => e.to_string(),
                        };
                        Err(failed(e.line().unwrap_or(0), message))
                    }
                }
            })
            .collect()
    }

    /// The template's migration files, each rendered for `model` with `vars`, for a
    /// database of `dialect` (which the `literal` and `ident` filters quote for; `None`
    /// when the database's backend is not known yet).
    pub fn render(
        &self,
        model: &str,
        vars: &Vars,
        dialect: Option<Dialect>,
    ) -> Result<Vec<(PathBuf, Vec<u8>)>, SourceError> {
        let env = &self.env;
        if let Some((name, character)) = control_character(vars) {
            return Err(SourceError::Render {
                path: self.dir.clone(),
                line: 0,
                model: model.to_owned(),
                message: format!(
                    "the variable `{name}` holds a control character (U+{:04X}); a value that reaches SQL may not: fix the row or [models.vars.{model}]",
                    u32::from(character)
                ),
            });
        }
        let mut context: BTreeMap<&str, minijinja::Value> = vars
            .iter()
            .map(|(name, value)| (name.as_str(), minijinja::Value::from_serialize(value)))
            .collect();
        context.insert("model", minijinja::Value::from(model));
        if let Some(dialect) = dialect {
            context.insert(DIALECT_VARIABLE, minijinja::Value::from(dialect.name()));
        }
        let context = minijinja::Value::from_serialize(&context);
        self.files
            .iter()
            .map(|(path, text)| {
                if !has_template_syntax(text) {
                    return Ok((path.clone(), text.as_bytes().to_vec()));
                }
                let failed = |line: usize, message: String| SourceError::Render {
                    path: path.clone(),
                    line,
                    model: model.to_owned(),
                    message,
                };
                if let Some((line, why)) = too_deep(text) {
                    return Err(failed(line, why));
                }
                let mut out = Capped::default();
                let rendered = env
                    .template_from_str(text)
                    .and_then(|t| t.render_captured_to(&context, &mut out).map(drop));
                if let Err(e) = rendered {
                    let message = match out.stopped {
                        Some(why) => why.to_owned(),
                        None if e.kind() == minijinja::ErrorKind::OutOfFuel => format!(
                            "the template ran {FUEL} steps without finishing (the limit); look for a loop that does not end"
                        ),
                        None => render_message(&e, env, text, vars),
                    };
                    return Err(failed(e.line().unwrap_or(0), message));
                }
                Ok((path.clone(), out.bytes))
            })
            .collect()
    }
}

/// How files are rendered: newlines kept, an undefined variable an error, the steps
/// limited, and the quoting filters.
fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.add_filter("literal", literal_filter);
    env.add_filter("ident", ident_filter);
    env
}

/// How many steps one file's render may take: far above any template that makes SQL (a
/// loop over ten thousand partitions takes a few hundred thousand), far below a loop that
/// does not end.
const FUEL: u64 = 10_000_000;

/// The most a rendered file may hold.
const MAX_RENDERED: usize = 64 << 20;

/// Operators one tag (`{{ ... }}`, `{% ... %}`) may hold: each is a level of the syntax tree
/// minijinja compiles recursively.
const MAX_TAG_OPERATORS: usize = 500;

/// Set when the process is asked to stop (the CLI's first SIGINT or SIGTERM): renders then
/// end at their next output instead of running on.
static STOP: AtomicBool = AtomicBool::new(false);

/// Ends renders in progress at their next output, and refuses new ones.
pub fn stop_rendering() {
    STOP.store(true, Ordering::SeqCst);
}

/// The rendered text, refusing to grow past [`MAX_RENDERED`] or to go on once the process
/// is asked to stop.
#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    stopped: Option<&'static str>,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if STOP.load(Ordering::Relaxed) {
            self.stopped =
                Some("stopped: the run was asked to stop while the template was rendered");
        } else if self.bytes.len() + buf.len() > MAX_RENDERED {
            self.stopped = Some(
                "the rendered file would be larger than 64 MiB (the limit); look for a loop that does not end",
            );
        }
        if self.stopped.is_some() {
            return Err(std::io::Error::other("render stopped"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A tag too deep for minijinja to compile safely (a generated chain of a hundred
/// thousand `~`), with its line: found by counting, before minijinja parses anything.
fn too_deep(text: &str) -> Option<(usize, String)> {
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start..];
        let close = match after.get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            _ => {
                offset += start + 1;
                rest = &rest[start + 1..];
                continue;
            }
        };
        let end = after.find(close).unwrap_or(after.len());
        let tag = &after[..end];
        let operators = tag
            .matches(['~', '+', '-', '*', '/', '%', '|', '(', '['])
            .count()
            + tag
                .split_whitespace()
                .filter(|w| matches!(*w, "and" | "or"))
                .count();
        if operators > MAX_TAG_OPERATORS {
            let line = text[..offset + start].matches('\n').count() + 1;
            return Some((
                line,
                format!(
                    "a tag here is too deep to render ({operators} operators and brackets, more than {MAX_TAG_OPERATORS}); build the value in the names_from query or [models.vars] instead"
                ),
            ));
        }
        offset += start + end.max(1);
        rest = &rest[start + end.max(1)..];
    }
    None
}

/// The context variable that tells the filters which backend they quote for.
const DIALECT_VARIABLE: &str = "__skein_dialect";

fn dialect_of_state(state: &minijinja::State) -> Option<Dialect> {
    let name = state.lookup(DIALECT_VARIABLE)?;
    Dialect::all().find(|d| Some(d.name()) == name.as_str())
}

/// `{{ value | literal }}`: the value as a string literal for the database's backend.
fn literal_filter(
    state: &minijinja::State,
    value: minijinja::Value,
) -> Result<minijinja::Value, minijinja::Error> {
    let text = value.to_string();
    let quoted = match dialect_of_state(state) {
        Some(dialect) => dialect.string_literal(&text),
        // Doubling quotes is right on every backend unless a backslash may escape.
        None if !text.contains('\\') => crate::dialect::string_literal(&text),
        None => {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "`literal` needs the database's backend to quote a backslash, and its URL does not say it",
            ));
        }
    };
    Ok(minijinja::Value::from_safe_string(quoted))
}

/// `{{ value | ident }}`: the value as a quoted identifier for the database's backend.
fn ident_filter(
    state: &minijinja::State,
    value: minijinja::Value,
) -> Result<minijinja::Value, minijinja::Error> {
    let dialect = dialect_of_state(state).ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "`ident` needs the database's backend to quote for, and its URL does not say it",
        )
    })?;
    Ok(minijinja::Value::from_safe_string(
        dialect.quote_identifier(&value.to_string()),
    ))
}

/// The first variable (by name) whose text holds a control character, with it.
fn control_character(vars: &Vars) -> Option<(&str, char)> {
    fn find(value: &serde_json::Value) -> Option<char> {
        match value {
            serde_json::Value::String(text) => text.chars().find(|c| c.is_control()),
            serde_json::Value::Array(items) => items.iter().find_map(find),
            serde_json::Value::Object(fields) => fields.values().find_map(find),
            _ => None,
        }
    }
    vars.iter()
        .find_map(|(name, value)| find(value).map(|c| (name.as_str(), c)))
}

/// Each `{{ ... }}` of the template's files that puts a variable into the SQL unquoted:
/// not `model` (a checked name), not filtered by `literal` or `ident`, not in a `--`
/// comment. `(file, line, the variable)`.
pub fn unquoted_placeholders(template: &Template) -> Vec<(PathBuf, usize, String)> {
    let mut found = Vec::new();
    for (path, text) in &template.files {
        for (index, line) in text.lines().enumerate() {
            let code = match line.find("--") {
                Some(comment) => &line[..comment],
                None => line,
            };
            let mut rest = code;
            while let Some(start) = rest.find("{{") {
                let inside = &rest[start + 2..];
                let Some(end) = inside.find("}}") else { break };
                let expression = inside[..end].trim();
                let filters: Vec<&str> = expression.split('|').map(str::trim).collect();
                let quoted = filters
                    .last()
                    .is_some_and(|f| *f == "literal" || *f == "ident");
                if !quoted && expression != "model" {
                    found.push((path.clone(), index + 1, filters[0].to_owned()));
                }
                rest = &inside[end + 2..];
            }
        }
    }
    found
}

/// Whether minijinja would change `text` at all: plain SQL is used as it is.
fn has_template_syntax(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// minijinja's message, with its own location (given separately) left out; for an
/// undefined variable, which ones the model lacks and where to give them.
fn render_message(
    error: &minijinja::Error,
    env: &minijinja::Environment<'_>,
    text: &str,
    vars: &Vars,
) -> String {
    let message = error
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| error.kind().to_string());
    if error.kind() != minijinja::ErrorKind::UndefinedError {
        return message;
    }
    let mut missing: Vec<String> = env
        .template_from_str(text)
        .map(|t| t.undeclared_variables(false))
        .unwrap_or_default()
        .into_iter()
        .filter(|name| name != "model" && !vars.contains_key(name))
        .collect();
    missing.sort();
    let names = match missing.as_slice() {
        [] => "a variable".to_owned(),
        [one] => format!("the variable `{one}`"),
        many => format!("the variables `{}`", many.join("`, `")),
    };
    format!(
        "{message}: the template uses {names}, which this model does not have; give it in [models.vars.<model>] or as a column of the names_from query (SQL that means `{{{{` literally goes in {{% raw %}}...{{% endraw %}})"
    )
}

/// One model's migrations: its template's, rendered for it, and those of its own folder.
#[derive(Debug)]
pub struct ModelSource<'a> {
    pub template: &'a Template,
    pub model: &'a str,
    pub vars: &'a Vars,
    /// The backend of the model's database, for `literal` and `ident`.
    pub dialect: Option<Dialect>,
    /// The model's own folder; it need not exist.
    pub folder: Option<&'a Path>,
}

impl MigrationSource for ModelSource<'_> {
    fn load(&self) -> Result<Vec<Migration>, SourceError> {
        let rendered = self.template.render(self.model, self.vars, self.dialect)?;
        let own = match self.folder {
            Some(folder) if folder.is_dir() => read_folder(folder)?,
            _ => Vec::new(),
        };
        assemble(merge(rendered, own, self.model)?)
    }
}

/// The template's files and the model's own, as one set. A version present in both is the
/// same migration only when each of the model's files of that version is byte-identical to
/// the template's file of that name (a folder copied from the template); then the
/// template's files stand. Otherwise it is an error naming both files.
fn merge(
    rendered: Vec<(PathBuf, Vec<u8>)>,
    own: Vec<(PathBuf, Vec<u8>)>,
    model: &str,
) -> Result<Vec<(PathBuf, Vec<u8>)>, SourceError> {
    let version_of = |path: &Path| -> Option<Version> {
        let name = path.file_name()?.to_str()?;
        FileName::parse(name).ok().map(|parsed| parsed.version)
    };
    let mut template_by_version: HashMap<Version, Vec<usize>> = HashMap::new();
    for (i, (path, _)) in rendered.iter().enumerate() {
        if let Some(version) = version_of(path) {
            template_by_version.entry(version).or_default().push(i);
        }
    }
    let mut merged = rendered.clone();
    let mut own = own;
    own.sort();
    for (path, bytes) in own {
        let Some(version) = version_of(&path) else {
            merged.push((path, bytes));
            continue;
        };
        let Some(candidates) = template_by_version.get(&version) else {
            merged.push((path, bytes));
            continue;
        };
        let same = candidates.iter().any(|&i| {
            let (template_path, template_bytes) = &rendered[i];
            template_path.file_name() == path.file_name() && *template_bytes == bytes
        });
        if !same {
            let template = candidates
                .iter()
                .map(|&i| &rendered[i].0)
                .find(|p| p.file_name() == path.file_name())
                .unwrap_or(&rendered[candidates[0]].0)
                .clone();
            return Err(SourceError::Conflict {
                version,
                model: model.to_owned(),
                template,
                own: path,
            });
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(files: &[(&str, &str)]) -> (tempfile::TempDir, Template) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let template = Template::load(dir.path()).unwrap();
        (dir, template)
    }

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn load(
        template: &Template,
        model: &str,
        vars: &Vars,
        folder: Option<&Path>,
    ) -> Result<Vec<Migration>, SourceError> {
        ModelSource {
            template,
            model,
            vars,
            dialect: Some(Dialect::Postgres),
            folder,
        }
        .load()
    }

    fn vars(pairs: &[(&str, serde_json::Value)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn renders_the_model_name_and_its_variables() {
        let (_dir, template) = template(&[
            (
                "1_a.up.sql",
                "CREATE TABLE {{ model }}_t (chain int DEFAULT {{ chain_id }});\n",
            ),
            ("1_a.down.sql", "DROP TABLE {{ model }}_t;\n"),
            ("2_b.sql", "SELECT '{{ model }}';\n"),
        ]);
        let vars = vars(&[("chain_id", serde_json::json!(137))]);
        let migrations = load(&template, "m1", &vars, None).unwrap();
        assert_eq!(
            migrations[0].up.sql,
            "CREATE TABLE m1_t (chain int DEFAULT 137);\n"
        );
        assert_eq!(
            migrations[0].down.as_ref().unwrap().sql,
            "DROP TABLE m1_t;\n"
        );
        assert_eq!(migrations[1].up.sql, "SELECT 'm1';\n");
        assert!(migrations[0].up.path.starts_with(template.dir()));
    }

    #[test]
    fn checksums_are_of_the_rendered_text() {
        let (_dir, template) = template(&[("1_a.sql", "SELECT '{{ model }}';\n")]);
        let rendered = |model: &str| load(&template, model, &Vars::new(), None).unwrap();
        let plain = checksum_of("1_a.sql", "SELECT 'm1';\n");
        assert_eq!(rendered("m1")[0].checksum, plain);
        assert_ne!(rendered("m2")[0].checksum, plain);
    }

    fn checksum_of(name: &str, text: &str) -> crate::checksum::Checksum {
        crate::source::MemorySource::new([(name, text)])
            .load()
            .unwrap()
            .remove(0)
            .checksum
    }

    #[test]
    fn an_undefined_variable_names_the_file_line_and_model() {
        let (_dir, template) = template(&[("1_a.sql", "SELECT 1;\nSELECT {{ chain_id }};\n")]);
        let err = load(&template, "m7", &Vars::new(), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("1_a.sql:2: model `m7`"), "{text}");
        assert!(
            text.contains("chain_id") || text.contains("undefined"),
            "{text}"
        );
    }

    #[test]
    fn a_models_folder_adds_its_own_migrations_by_version() {
        let (_dir, template) = template(&[("1_a.sql", "SELECT 1;\n"), ("3_c.sql", "SELECT 3;\n")]);
        let own = folder(&[("2_own.sql", "SELECT 2;\n")]);
        let migrations = load(&template, "m1", &Vars::new(), Some(own.path())).unwrap();
        let versions: Vec<Version> = migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 2, 3]);
        assert!(migrations[1].up.path.starts_with(own.path()));
    }

    #[test]
    fn a_copied_file_identical_to_the_rendered_one_is_the_same_migration() {
        let (_dir, template) = template(&[
            ("1_a.up.sql", "CREATE TABLE {{ model }}_t (id int);\n"),
            ("1_a.down.sql", "DROP TABLE {{ model }}_t;\n"),
        ]);
        let own = folder(&[
            ("1_a.up.sql", "CREATE TABLE m1_t (id int);\n"),
            ("1_a.down.sql", "DROP TABLE m1_t;\n"),
        ]);
        let migrations = load(&template, "m1", &Vars::new(), Some(own.path())).unwrap();
        assert_eq!(migrations.len(), 1);
        assert!(migrations[0].up.path.starts_with(template.dir()));
    }

    #[test]
    fn a_version_in_both_that_differs_names_both_files() {
        let (_dir, template) = template(&[("1_a.sql", "SELECT 1;\n")]);
        let own = folder(&[("1_a.sql", "SELECT 'edited';\n")]);
        let err = load(&template, "m1", &Vars::new(), Some(own.path())).unwrap_err();
        assert!(
            matches!(err, SourceError::Conflict { version: 1, .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&template.dir().join("1_a.sql").display().to_string())
                && text.contains(&own.path().join("1_a.sql").display().to_string()),
            "{text}"
        );
    }

    #[test]
    fn plain_sql_with_braces_in_strings_is_left_alone() {
        let (_dir, template) = template(&[("1_a.sql", "SELECT '{}'::jsonb, '{a}';\n")]);
        let migrations = load(&template, "m1", &Vars::new(), None).unwrap();
        assert_eq!(migrations[0].up.sql, "SELECT '{}'::jsonb, '{a}';\n");
    }
}
