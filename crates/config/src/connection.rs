//! A database's connection as configured: a URL, or its parts (driver, host, port, user,
//! password, database, socket, options). Either may hold secret references. Rendering
//! substitutes their values: a value that lands in a URL's user or password is
//! percent-encoded, so a password with `@ : / % #` or spaces just works.

use crate::reference::{SecretRef, Segment, parse_template};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Characters kept as they are in a URL component; everything else is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Parts of a query parameter's name that mark it as carrying a secret (`password`,
/// `sslpassword`, `pwd`, `token`...), matched in the lower-cased, percent-decoded name:
/// the same list as `skein_core::driver::SECRET_PARAMETER_WORDS` (this crate does not
/// depend on the engine; the CLI's tests check the two agree).
pub const SECRET_PARAMETER_WORDS: &[&str] = &["pass", "pwd", "secret", "token"];

/// Whether a URL query parameter (or connection option) named `name` carries a secret.
pub fn is_secret_parameter(name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    SECRET_PARAMETER_WORDS
        .iter()
        .any(|word| name.contains(word))
}

/// The connection settings of one database, as written (references unresolved).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ConnectionSettings {
    #[serde(default, deserialize_with = "text")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub driver: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub host: Option<String>,
    /// A number, or text that is one once its references and `{variables}` are filled
    /// (`"${env:DB_PORT}"`, `"{port}"`).
    #[serde(default, deserialize_with = "text")]
    pub port: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub database: Option<String>,
    /// A Unix-socket directory (PostgreSQL) or socket file (MySQL).
    #[serde(default, deserialize_with = "text")]
    pub socket: Option<String>,
    /// Extra URL parameters, e.g. `sslmode = "require"`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// Accepts numbers and booleans where text is expected: an environment variable such as
/// `SKEIN_DATABASES__X__PASSWORD=1234` arrives as a number.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        String(String),
        Integer(i64),
        Float(f64),
        Bool(bool),
    }
    Ok(Option::<Text>::deserialize(deserializer)?.map(|t| match t {
        Text::String(s) => s,
        Text::Integer(i) => i.to_string(),
        Text::Float(f) => f.to_string(),
        Text::Bool(b) => b.to_string(),
    }))
}

/// The connection after `{model}` is filled in: what to render once secrets are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionTemplate {
    Url(String),
    Parts(ConnectionSettings),
}

impl ConnectionSettings {
    /// Whether any connection setting is present.
    pub fn is_set(&self) -> bool {
        self.url.is_some()
            || self.host.is_some()
            || self.database.is_some()
            || self.socket.is_some()
            || self.driver.is_some()
    }

    /// The template, with `{model}` and the model's `{variable}`s replaced; `None` when
    /// nothing is set.
    pub fn template(
        &self,
        model: Option<(&str, &ModelVars)>,
    ) -> Result<Option<ConnectionTemplate>, String> {
        let fill = |value: &Option<String>| -> Option<String> {
            value.as_ref().map(|v| match model {
                Some((name, vars)) => fill_placeholders(v, name, vars),
                None => v.clone(),
            })
        };
        if let Some(url) = fill(&self.url) {
            let others = [
                &self.host,
                &self.user,
                &self.password,
                &self.database,
                &self.socket,
                &self.driver,
            ];
            if others.iter().any(|o| o.is_some()) || self.port.is_some() {
                return Err("set either `url` or the parts (driver, host, port, user, password, database, socket), not both".to_owned());
            }
            return Ok(Some(ConnectionTemplate::Url(url)));
        }
        if !self.is_set() {
            return Ok(None);
        }
        Ok(Some(ConnectionTemplate::Parts(ConnectionSettings {
            url: None,
            driver: fill(&self.driver),
            host: fill(&self.host),
            port: fill(&self.port),
            user: fill(&self.user),
            password: fill(&self.password),
            database: fill(&self.database),
            socket: fill(&self.socket),
            options: self
                .options
                .iter()
                .map(|(k, v)| (k.clone(), fill(&Some(v.clone())).unwrap_or_default()))
                .collect(),
        })))
    }
}

/// A model's variables, by name.
pub type ModelVars = std::collections::BTreeMap<String, serde_json::Value>;

/// `value` with `{model}` and each `{variable}` of `vars` replaced; other braces stay.
/// A variable's value is percent-encoded: it comes from a query's rows or a table of
/// values, and must stay one value (a `${...}` in it is not a secret reference, a `/` or
/// `@` does not change the URL).
fn fill_placeholders(value: &str, model: &str, vars: &ModelVars) -> String {
    let mut out = value.replace("{model}", model);
    for (name, var) in vars {
        let placeholder = format!("{{{name}}}");
        if out.contains(&placeholder) {
            let text = match var {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let encoded = utf8_percent_encode(&text, COMPONENT).to_string();
            out = out.replace(&placeholder, &encoded);
        }
    }
    out
}

impl ConnectionTemplate {
    /// Every reference in the template.
    pub fn references(&self) -> Result<Vec<SecretRef>, String> {
        let mut references = Vec::new();
        for value in self.values() {
            for segment in parse_template(value)? {
                if let Segment::Reference(reference) = segment {
                    references.push(reference);
                }
            }
        }
        Ok(references)
    }

    /// The setting that holds `reference`: `url`, `password`, `options.sslpassword`...
    pub fn setting_of(&self, reference: &SecretRef) -> String {
        let parts = match self {
            ConnectionTemplate::Url(_) => return "url".to_owned(),
            ConnectionTemplate::Parts(parts) => parts,
        };
        let holds = |value: &Option<String>| {
            value
                .as_deref()
                .is_some_and(|v| v.contains(reference.text.as_str()))
        };
        let named = [
            ("driver", &parts.driver),
            ("host", &parts.host),
            ("port", &parts.port),
            ("user", &parts.user),
            ("password", &parts.password),
            ("database", &parts.database),
            ("socket", &parts.socket),
        ];
        if let Some((name, _)) = named.iter().find(|(_, value)| holds(value)) {
            return (*name).to_owned();
        }
        parts
            .options
            .iter()
            .find(|(_, value)| value.contains(reference.text.as_str()))
            .map_or_else(|| "url".to_owned(), |(key, _)| format!("options.{key}"))
    }

    fn values(&self) -> Vec<&str> {
        match self {
            ConnectionTemplate::Url(url) => vec![url],
            ConnectionTemplate::Parts(parts) => [
                &parts.driver,
                &parts.host,
                &parts.port,
                &parts.user,
                &parts.password,
                &parts.database,
                &parts.socket,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(parts.options.values().map(String::as_str))
            .collect(),
        }
    }

    /// The URL, with each reference's value from `lookup`.
    pub fn render<E>(
        &self,
        lookup: &dyn Fn(&SecretRef) -> Result<String, E>,
    ) -> Result<String, RenderError<E>> {
        match self {
            ConnectionTemplate::Url(url) => render_url(url, lookup),
            ConnectionTemplate::Parts(parts) => render_parts(parts, lookup, true),
        }
    }

    /// The template for people: references as written, a literal password (in the user
    /// info, the `password` part or a secret-bearing parameter) as `***`.
    pub fn display(&self) -> String {
        let literal = |value: &str| !crate::reference::has_references(value);
        match self {
            ConnectionTemplate::Url(url) => mask_literal_password(url),
            ConnectionTemplate::Parts(parts) => {
                let mut shown = parts.clone();
                if let Some(password) = &shown.password
                    && literal(password)
                {
                    shown.password = Some("***".to_owned());
                }
                for (key, value) in &mut shown.options {
                    if is_secret_parameter(key) && literal(value) {
                        *value = "***".to_owned();
                    }
                }
                render_parts::<std::convert::Infallible>(&shown, &|r| Ok(r.text.clone()), false)
                    .unwrap_or_else(|_| "(invalid)".to_owned())
            }
        }
    }
}

/// Why a template could not be rendered.
#[derive(Debug)]
pub enum RenderError<E> {
    /// The template itself is wrong.
    Template(String),
    /// A reference could not be resolved.
    Secret(E),
}

fn resolve<E>(
    value: &str,
    lookup: &dyn Fn(&SecretRef) -> Result<String, E>,
) -> Result<String, RenderError<E>> {
    let mut out = String::new();
    for segment in parse_template(value).map_err(RenderError::Template)? {
        match segment {
            Segment::Literal(text) => out.push_str(&text),
            Segment::Reference(reference) => {
                out.push_str(&lookup(&reference).map_err(RenderError::Secret)?)
            }
        }
    }
    Ok(out)
}

/// Renders a URL template: a reference inside the user-info part (between `://` and `@`)
/// is percent-encoded; elsewhere it is inserted as it is (a whole URL may come from a secret).
fn render_url<E>(
    template: &str,
    lookup: &dyn Fn(&SecretRef) -> Result<String, E>,
) -> Result<String, RenderError<E>> {
    let segments = parse_template(template).map_err(RenderError::Template)?;
    // Find the user info in the template with each reference standing as one character.
    let masked: String = segments
        .iter()
        .map(|s| match s {
            Segment::Literal(text) => text.clone(),
            Segment::Reference(_) => "\u{1}".to_owned(),
        })
        .collect();
    let userinfo = masked.find("://").and_then(|scheme_end| {
        let authority_start = scheme_end + 3;
        let authority_end = masked[authority_start..]
            .find(['/', '?'])
            .map_or(masked.len(), |i| authority_start + i);
        masked[authority_start..authority_end]
            .rfind('@')
            .map(|at| (authority_start, authority_start + at))
    });
    let mut out = String::new();
    let mut position = 0;
    for segment in segments {
        match segment {
            Segment::Literal(text) => {
                position += text.len();
                out.push_str(&text);
            }
            Segment::Reference(reference) => {
                let value = lookup(&reference).map_err(RenderError::Secret)?;
                let in_userinfo =
                    userinfo.is_some_and(|(start, end)| position >= start && position < end);
                if in_userinfo {
                    out.extend(utf8_percent_encode(&value, COMPONENT));
                } else {
                    out.push_str(&value);
                }
                position += "\u{1}".len();
            }
        }
    }
    Ok(out)
}

/// Builds the URL; `encode` is off only for showing the template to people.
fn render_parts<E>(
    parts: &ConnectionSettings,
    lookup: &dyn Fn(&SecretRef) -> Result<String, E>,
    encode: bool,
) -> Result<String, RenderError<E>> {
    let get = |value: &Option<String>| value.as_deref().map(|v| resolve(v, lookup)).transpose();
    let driver =
        get(&parts.driver)?.unwrap_or_else(|| skein_schemes::Kind::default().scheme().to_owned());
    let Some(kind) = skein_schemes::Kind::of_scheme(&driver) else {
        let known: Vec<&str> = skein_schemes::ALL.iter().map(|s| s.name).collect();
        return Err(RenderError::Template(format!(
            "unknown driver `{driver}` (use {})",
            known.join(", ")
        )));
    };
    if kind.is_file() {
        let path = get(&parts.database)?.ok_or_else(|| {
            RenderError::Template(
                "a SQLite connection needs `database` (the file's path)".to_owned(),
            )
        })?;
        return Ok(format!("{}://{path}", kind.scheme()));
    }
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(socket) = get(&parts.socket)? {
        query.push((kind.schemes().socket_parameter.to_owned(), socket));
    }
    for (key, value) in &parts.options {
        query.push((key.clone(), resolve(value, lookup)?));
    }
    let server = ServerParts {
        driver,
        user: get(&parts.user)?,
        password: get(&parts.password)?,
        host: get(&parts.host)?,
        port: get(&parts.port)?,
        database: get(&parts.database)?,
        query,
    };
    if encode {
        server.url().map_err(RenderError::Template)
    } else {
        Ok(server.shown())
    }
}

/// A server connection given in parts, its values resolved.
struct ServerParts {
    driver: String,
    user: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<String>,
    database: Option<String>,
    query: Vec<(String, String)>,
}

impl ServerParts {
    /// The URL, put together by the `url` crate, which brackets an IPv6 host and encodes
    /// the query. The user, password and database are percent-encoded here first:
    /// the crate leaves a `%` as it is (it takes it for an escape already made), which
    /// would change a password that holds one.
    fn url(&self) -> Result<String, String> {
        let component = |text: &str| utf8_percent_encode(text, COMPONENT).to_string();
        let mut url = url::Url::parse(&format!("{}://localhost/", self.driver))
            .map_err(|e| format!("cannot build a `{}` URL: {e}", self.driver))?;
        // Without a host (a Unix socket, or the driver's default), `localhost`: a
        // socket given in the query is used instead of it.
        let host = match self.host.as_deref() {
            Some(host) if host.parse::<std::net::Ipv6Addr>().is_ok() => format!("[{host}]"),
            // `db:6543` would lose its port and `fe80::1%eth0` its address.
            Some(host) if host.contains(':') => {
                return Err(format!(
                    "`host` {host:?} holds a `:`: give the port in `port`, and an IPv6 address without a zone (`%...`)"
                ));
            }
            Some(host) => host.to_owned(),
            None => "localhost".to_owned(),
        };
        url.set_host(Some(&host))
            .map_err(|e| format!("`host` {host:?} cannot be a URL's host: {e}"))?;
        let unusable = |what: &str| format!("the URL cannot hold a {what} with this host");
        let port = self
            .port
            .as_deref()
            .map(|port| {
                port.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| {
                        format!("`port` is {port:?}, which is not a port number (1 to 65535)")
                    })
            })
            .transpose()?;
        url.set_port(port).map_err(|()| unusable("port"))?;
        if let Some(user) = &self.user {
            url.set_username(&component(user))
                .map_err(|()| unusable("user"))?;
        }
        if let Some(password) = &self.password {
            url.set_password(Some(&component(password)))
                .map_err(|()| unusable("password"))?;
        }
        url.set_path(&format!(
            "/{}",
            self.database.as_deref().map(component).unwrap_or_default()
        ));
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url.into())
    }

    /// The URL for people: the values as they are, references unexpanded.
    fn shown(&self) -> String {
        let mut url = format!("{}://", self.driver);
        if let Some(user) = &self.user {
            url.push_str(user);
            if let Some(password) = &self.password {
                url.push(':');
                url.push_str(password);
            }
            url.push('@');
        }
        match self.host.as_deref() {
            Some(host) if host.parse::<std::net::Ipv6Addr>().is_ok() => {
                url.push_str(&format!("[{host}]"));
            }
            Some(host) => url.push_str(host),
            None => {}
        }
        if let Some(port) = &self.port {
            url.push(':');
            url.push_str(port);
        }
        url.push('/');
        url.push_str(self.database.as_deref().unwrap_or_default());
        if !self.query.is_empty() {
            let pairs: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            url.push('?');
            url.push_str(&pairs.join("&"));
        }
        url
    }
}

/// Whether `url` is a server URL (PostgreSQL, MySQL) written without `//` after its scheme
/// (`postgres:secret@host/db`): no driver reads it as meant, and what looks like a
/// password would be shown as part of a database name.
pub fn lacks_slashes(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let base = scheme.split('+').next().unwrap_or_default();
    skein_schemes::Kind::of_scheme(base).is_some_and(|kind| !kind.is_file())
        && !rest.starts_with("//")
}

/// Where the authority (`user:password@host:port`) of `url` starts: after `scheme://`, or
/// after `scheme:` in a URL written without the slashes.
fn authority_start(url: &str) -> Option<usize> {
    if let Some(at) = url.find("://") {
        return Some(at + 3);
    }
    let (scheme, _) = url.split_once(':')?;
    let plain = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    plain.then_some(scheme.len() + 1)
}

/// `scheme://user:secret@host/db?password=secret` -> `scheme://user:***@host/db?password=***`,
/// leaving references visible. In a URL without `//` (`postgres:secret@host/db`) the whole
/// user info is masked: there is no telling a user from a password there.
fn mask_literal_password(url: &str) -> String {
    let Some(start) = authority_start(url) else {
        return url.to_owned();
    };
    let slashless = !url[..start].ends_with("://");
    let authority_end = find_outside_references(url, start, &['/', '?']).unwrap_or(url.len());
    let mut out = url[..start].to_owned();
    let authority = &url[start..authority_end];
    match authority.rfind('@') {
        Some(at) if slashless => {
            out.push_str("***");
            out.push_str(&authority[at..]);
        }
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) if !crate::reference::has_references(&userinfo[colon + 1..]) => {
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                    out.push_str(&authority[at..]);
                }
                _ => out.push_str(authority),
            }
        }
        None => out.push_str(authority),
    }
    let Some(query_start) = find_outside_references(url, authority_end, &['?']) else {
        out.push_str(&url[authority_end..]);
        return out;
    };
    out.push_str(&url[authority_end..=query_start]);
    let mut pair_start = query_start + 1;
    loop {
        let pair_end = find_outside_references(url, pair_start, &['&']).unwrap_or(url.len());
        let pair = &url[pair_start..pair_end];
        match pair.split_once('=') {
            Some((name, value))
                if is_secret_parameter(name) && !crate::reference::has_references(value) =>
            {
                out.push_str(name);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
        if pair_end == url.len() {
            return out;
        }
        out.push('&');
        pair_start = pair_end + 1;
    }
}

/// The first of `targets` in `text` at or after `from`, skipping over `${...}` references
/// (a reference may hold `/`, `?`, `&` or `#`).
fn find_outside_references(text: &str, from: usize, targets: &[char]) -> Option<usize> {
    let mut depth = 0_usize;
    for (i, c) in text[from..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 && targets.contains(&c) => return Some(from + i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HARD: &str = "p@ss:w/rd%# x";

    fn lookup(reference: &SecretRef) -> Result<String, String> {
        match reference.text.as_str() {
            "${env:PW}" => Ok(HARD.to_owned()),
            "${env:URL}" => Ok("postgres://u:p@h/db".to_owned()),
            "${env:HOST}" => Ok("db.internal".to_owned()),
            other => Err(other.to_owned()),
        }
    }

    #[test]
    fn values_in_the_user_info_are_encoded() {
        let url = ConnectionTemplate::Url("postgres://app:${env:PW}@${env:HOST}:5432/db".into())
            .render(&lookup)
            .unwrap();
        assert_eq!(
            url,
            "postgres://app:p%40ss%3Aw%2Frd%25%23%20x@db.internal:5432/db"
        );
        let whole = ConnectionTemplate::Url("${env:URL}".into())
            .render(&lookup)
            .unwrap();
        assert_eq!(
            whole, "postgres://u:p@h/db",
            "a whole URL from a secret is not encoded"
        );
    }

    #[test]
    fn parts_become_a_url() {
        let parts = ConnectionSettings {
            host: Some("127.0.0.1".into()),
            port: Some("5432".to_owned()),
            user: Some("app".into()),
            password: Some("${env:PW}".into()),
            database: Some("{model}".into()),
            options: [("sslmode".to_owned(), "disable".to_owned())].into(),
            ..Default::default()
        };
        let template = parts
            .template(Some(("blub_test", &ModelVars::new())))
            .unwrap()
            .unwrap();
        assert_eq!(
            template.render(&lookup).unwrap(),
            "postgres://app:p%40ss%3Aw%2Frd%25%23%20x@127.0.0.1:5432/blub_test?sslmode=disable"
        );
        assert_eq!(
            template.display(),
            "postgres://app:${env:PW}@127.0.0.1:5432/blub_test?sslmode=disable"
        );
        let socket = ConnectionSettings {
            socket: Some("/var/run/postgresql".into()),
            user: Some("postgres".into()),
            database: Some("db".into()),
            ..Default::default()
        };
        assert_eq!(
            socket
                .template(None)
                .unwrap()
                .unwrap()
                .render(&lookup)
                .unwrap(),
            "postgres://postgres@localhost/db?host=%2Fvar%2Frun%2Fpostgresql"
        );
    }

    #[test]
    fn a_host_with_a_colon_is_refused_and_a_password_needs_no_user() {
        let parts = |host: &str, user: Option<&str>| ConnectionSettings {
            host: Some(host.into()),
            user: user.map(Into::into),
            password: Some("pw".into()),
            database: Some("db".into()),
            ..Default::default()
        };
        let render = |settings: ConnectionSettings| {
            settings.template(None).unwrap().unwrap().render(&lookup)
        };
        assert!(
            matches!(render(parts("db:6543", Some("u"))), Err(RenderError::Template(m)) if m.contains("give the port in `port`"))
        );
        assert!(render(parts("fe80::1%eth0", None)).is_err());
        assert_eq!(
            render(parts("::1", Some("u"))).unwrap(),
            "postgres://u:pw@[::1]/db"
        );
        assert_eq!(render(parts("h", None)).unwrap(), "postgres://:pw@h/db");
    }

    #[test]
    fn url_and_parts_together_is_an_error() {
        let both = ConnectionSettings {
            url: Some("postgres://h/db".into()),
            host: Some("h".into()),
            ..Default::default()
        };
        assert!(both.template(None).is_err());
    }

    #[test]
    fn literal_passwords_are_masked_for_display() {
        assert_eq!(
            mask_literal_password("postgres://u:hunter2@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            mask_literal_password("postgres://u:${aws-sm:a/b#pw}@h/db"),
            "postgres://u:${aws-sm:a/b#pw}@h/db"
        );
        assert_eq!(mask_literal_password("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(
            mask_literal_password("postgres:hunter2@h/db"),
            "postgres:***@h/db"
        );
        assert_eq!(
            mask_literal_password("mysql:u:hunter2@h/db?password=x"),
            "mysql:***@h/db?password=***"
        );
        assert_eq!(mask_literal_password("sqlite:x.db"), "sqlite:x.db");
        assert!(lacks_slashes("postgres:hunter2@h/db"));
        assert!(lacks_slashes("postgresql+asyncpg:u:p@h/db"));
        assert!(!lacks_slashes("postgres://u:p@h/db"));
        assert!(!lacks_slashes("sqlite:x.db"));
        assert_eq!(
            mask_literal_password(
                "postgres://u@h/db?sslmode=require&password=hunter2&sslpassword=${env:K}&PWD=x"
            ),
            "postgres://u@h/db?sslmode=require&password=***&sslpassword=${env:K}&PWD=***"
        );
        assert_eq!(
            mask_literal_password("postgres://u:p@h/db?password=${aws-sm:a/b?c#pw}&token=t"),
            "postgres://u:***@h/db?password=${aws-sm:a/b?c#pw}&token=***"
        );
        let parts = ConnectionSettings {
            host: Some("h".into()),
            options: [
                ("sslpassword".to_owned(), "hunter2".to_owned()),
                ("sslmode".to_owned(), "require".to_owned()),
            ]
            .into(),
            ..Default::default()
        };
        assert_eq!(
            parts.template(None).unwrap().unwrap().display(),
            "postgres://h/?sslmode=require&sslpassword=***"
        );
    }

    #[test]
    fn a_failing_reference_is_reported() {
        let err = ConnectionTemplate::Url("postgres://u:${env:NOPE}@h/db".into())
            .render(&lookup)
            .unwrap_err();
        assert!(matches!(err, RenderError::Secret(ref r) if r == "${env:NOPE}"));
    }
}
