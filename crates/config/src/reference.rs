//! Secret references inside setting values: `${env:NAME}`, `${env:NAME:-fallback}`,
//! `${file:PATH}`, `${aws-sm:ID}` / `${aws-sm:ID#key}` and
//! `${gcp-sm:projects/P/secrets/S[/versions/V]}` with an optional `#key`.
//!
//! A reference is parsed once into what to fetch ([`SecretSource`]) and what to take from
//! it (the whole value, or one field of a JSON object). Its [`Display`](std::fmt::Display)
//! is the reference itself, never the value, so it is what messages show.

use std::fmt;

/// Where a secret's value lives. Two references to one source fetch it once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretSource {
    Env {
        name: String,
    },
    File {
        path: String,
    },
    Aws {
        secret_id: String,
    },
    /// `projects/P/secrets/S/versions/V` (`latest` when the reference gives no version).
    Gcp {
        name: String,
    },
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env { name } => write!(f, "env:{name}"),
            SecretSource::File { path } => write!(f, "file:{path}"),
            SecretSource::Aws { secret_id } => write!(f, "aws-sm:{secret_id}"),
            SecretSource::Gcp { name } => write!(f, "gcp-sm:{name}"),
        }
    }
}

/// One `${...}` reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretRef {
    pub source: SecretSource,
    /// `#key`: the secret is a JSON object and this field is the value.
    pub json_key: Option<String>,
    /// `${env:NAME:-fallback}`: used when the variable is unset or empty.
    pub fallback: Option<String>,
    /// The reference as written, for messages.
    pub text: String,
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A piece of a setting value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Reference(SecretRef),
}

/// Splits a value into literal text and references. `$$` stands for a literal `$`.
pub fn parse_template(value: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            literal.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let end = body_and_tail
                .find('}')
                .ok_or_else(|| format!("`${{{body_and_tail}` is not closed with `}}`"))?;
            let body = &body_and_tail[..end];
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Reference(parse_reference(body)?));
            rest = &body_and_tail[end + 1..];
        } else {
            literal.push('$');
            rest = after;
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

/// Parses the inside of `${...}`.
pub fn parse_reference(body: &str) -> Result<SecretRef, String> {
    let text = format!("${{{body}}}");
    let (kind, spec) = body
        .split_once(':')
        .ok_or_else(|| format!("`{text}` has no kind: write `${{env:NAME}}`, `${{file:PATH}}`, `${{aws-sm:ID}}` or `${{gcp-sm:projects/P/secrets/S}}`"))?;
    let malformed = |why: &str| format!("`{text}`: {why}");
    let (source, json_key, fallback) = match kind {
        "env" => {
            let (name, fallback) = match spec.split_once(":-") {
                Some((name, fallback)) => (name, Some(fallback.to_owned())),
                None => (spec, None),
            };
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(malformed(
                    "an environment variable name is letters, digits and `_`",
                ));
            }
            (
                SecretSource::Env {
                    name: name.to_owned(),
                },
                None,
                fallback,
            )
        }
        "file" => {
            if spec.is_empty() {
                return Err(malformed("the file path is empty"));
            }
            (
                SecretSource::File {
                    path: spec.to_owned(),
                },
                None,
                None,
            )
        }
        "aws-sm" => {
            let (id, key) = split_key(spec);
            if id.is_empty() {
                return Err(malformed("the secret id is empty"));
            }
            (
                SecretSource::Aws {
                    secret_id: id.to_owned(),
                },
                key,
                None,
            )
        }
        "gcp-sm" => {
            let (name, key) = split_key(spec);
            (
                SecretSource::Gcp {
                    name: gcp_name(name).map_err(|why| malformed(&why))?,
                },
                key,
                None,
            )
        }
        other => {
            return Err(malformed(&format!(
                "unknown kind `{other}` (known: env, file, aws-sm, gcp-sm)"
            )));
        }
    };
    if json_key.as_deref() == Some("") {
        return Err(malformed("the JSON key after `#` is empty"));
    }
    Ok(SecretRef {
        source,
        json_key,
        fallback,
        text,
    })
}

fn split_key(spec: &str) -> (&str, Option<String>) {
    match spec.split_once('#') {
        Some((id, key)) => (id, Some(key.to_owned())),
        None => (spec, None),
    }
}

/// `projects/P/secrets/S` or `projects/P/secrets/S/versions/V`, with `latest` by default.
fn gcp_name(name: &str) -> Result<String, String> {
    let parts: Vec<&str> = name.split('/').collect();
    let valid_part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match parts[..] {
        ["projects", project, "secrets", secret] if valid_part(project) && valid_part(secret) => {
            Ok(format!("{name}/versions/latest"))
        }
        ["projects", project, "secrets", secret, "versions", version]
            if valid_part(project) && valid_part(secret) && valid_part(version) =>
        {
            Ok(name.to_owned())
        }
        _ => Err(
            "a GCP secret is `projects/PROJECT/secrets/NAME` or `.../versions/VERSION`".to_owned(),
        ),
    }
}

/// Expands `${env:...}` and `${file:...}` in a setting that is not a connection (a folder,
/// a table name, a timeout). Secret managers are for connections, where secrets belong.
pub fn expand_local(value: &str, root: &std::path::Path) -> Result<String, String> {
    let mut out = String::new();
    for segment in parse_template(value)? {
        match segment {
            Segment::Literal(text) => out.push_str(&text),
            Segment::Reference(reference) => out.push_str(&match &reference.source {
                SecretSource::Env { name } => match std::env::var(name).ok().filter(|v| !v.is_empty()) {
                    Some(value) => value,
                    None => reference
                        .fallback
                        .clone()
                        .ok_or_else(|| format!("`{reference}`: the environment variable {name} is not set"))?,
                },
                SecretSource::File { path } => crate::secret::read_file(&root.join(path))
                    .map(|value| value.expose().to_owned())
                    .map_err(|problem| format!("`{reference}`: {problem}"))?,
                SecretSource::Aws { .. } | SecretSource::Gcp { .. } => {
                    return Err(format!(
                        "`{reference}`: secret managers can be used in connection settings (url, user, password, ...) only; use ${{env:NAME}} or ${{file:PATH}} here"
                    ));
                }
            }),
        }
    }
    Ok(out)
}

/// Expands `${env:...}` and `${file:...}` in a setting that is SQL (`init_sql`, a
/// `names_from` query): only `${...}` is read, so `$$` and `$1` stay as SQL means them. A
/// reference that does not parse, or one to a secret manager, is refused: the text is
/// never sent as it is.
pub fn expand_local_in_sql(sql: &str, root: &std::path::Path) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let body_and_tail = &rest[at + 2..];
        let end = body_and_tail
            .find('}')
            .ok_or_else(|| format!("`${{{body_and_tail}` is not closed with `}}`"))?;
        let reference = &rest[at..at + 2 + end + 1];
        out.push_str(&expand_local(reference, root)?);
        rest = &body_and_tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a value has any reference in it.
pub fn has_references(value: &str) -> bool {
    parse_template(value)
        .is_ok_and(|segments| segments.iter().any(|s| matches!(s, Segment::Reference(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(body: &str) -> SecretRef {
        parse_reference(body).unwrap()
    }

    #[test]
    fn references() {
        assert_eq!(
            reference("env:DB_USER").source,
            SecretSource::Env {
                name: "DB_USER".into()
            }
        );
        let with_fallback = reference("env:DB_PORT:-5432");
        assert_eq!(with_fallback.fallback.as_deref(), Some("5432"));
        assert_eq!(
            reference("file:/run/secrets/pw").source,
            SecretSource::File {
                path: "/run/secrets/pw".into()
            }
        );
        let aws = reference("aws-sm:indexer/prod/db#password");
        assert_eq!(
            aws.source,
            SecretSource::Aws {
                secret_id: "indexer/prod/db".into()
            }
        );
        assert_eq!(aws.json_key.as_deref(), Some("password"));
        let gcp = reference("gcp-sm:projects/p1/secrets/db-pass");
        assert_eq!(
            gcp.source,
            SecretSource::Gcp {
                name: "projects/p1/secrets/db-pass/versions/latest".into()
            }
        );
        let gcp_version = reference("gcp-sm:projects/p1/secrets/db/versions/3#user");
        assert_eq!(
            gcp_version.source,
            SecretSource::Gcp {
                name: "projects/p1/secrets/db/versions/3".into()
            }
        );
        assert_eq!(gcp_version.json_key.as_deref(), Some("user"));
        assert_eq!(
            gcp_version.to_string(),
            "${gcp-sm:projects/p1/secrets/db/versions/3#user}"
        );
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        for (body, expected) in [
            ("vault:x", "unknown kind `vault`"),
            ("nokind", "has no kind"),
            ("env:BAD-NAME", "letters, digits"),
            ("aws-sm:", "secret id is empty"),
            ("aws-sm:x#", "JSON key"),
            ("gcp-sm:p/secrets/s", "projects/PROJECT"),
            ("file:", "path is empty"),
        ] {
            let err = parse_reference(body).unwrap_err();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn local_expansion_outside_connections() {
        let root = std::path::Path::new("/");
        assert_eq!(
            expand_local("db/${env:SKEIN_TEST_NEVER_SET:-infra}", root).unwrap(),
            "db/infra"
        );
        assert!(
            expand_local("${aws-sm:x}", root)
                .unwrap_err()
                .contains("connection settings")
        );
        assert_eq!(expand_local("plain", root).unwrap(), "plain");
    }

    #[test]
    fn templates() {
        let segments = parse_template("postgres://${env:U}:${aws-sm:db#pw}@h/$${x}").unwrap();
        assert_eq!(segments.len(), 5);
        assert_eq!(segments[0], Segment::Literal("postgres://".into()));
        assert!(matches!(&segments[1], Segment::Reference(r) if r.text == "${env:U}"));
        assert_eq!(segments[4], Segment::Literal("@h/${x}".into()));
        assert!(parse_template("${env:U").is_err());
        assert_eq!(
            parse_template("plain $5").unwrap(),
            [Segment::Literal("plain $5".into())]
        );
        assert!(has_references("a${env:X}") && !has_references("abc"));
    }
}
