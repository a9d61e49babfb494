//! Fetches the values behind secret references: each distinct source once per run, all
//! at once, each under a timeout. Values are [`SecretValue`]s, which never print.

mod aws;
mod gcp;

use crate::reference::{SecretRef, SecretSource};
use futures_util::future::join_all;
use std::collections::{BTreeSet, HashMap};
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

/// The most a `${file:...}` reference reads. A secret is a password or a key, not a
/// document; the limit stops a wrong path (`/dev/zero`, a log file) from eating memory.
pub const FILE_LIMIT: u64 = 1024 * 1024;

/// Where to reach the secret managers.
#[derive(Debug, Clone, Default)]
pub struct SecretOptions {
    /// The Secret Manager API root (tests, private endpoints); Google's by default.
    pub gcp_endpoint: Option<String>,
    /// The AWS region, when the standard chain should not decide.
    pub aws_region: Option<String>,
    /// How long one fetch may take.
    pub timeout: Duration,
}

/// A secret's value. Its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: String) -> Self {
        SecretValue(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Why a secret could not be had: what went wrong and what to check, and whether the
/// service could not be reached (worth trying again later) rather than answered no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretProblem {
    pub message: String,
    pub unreachable: bool,
}

impl SecretProblem {
    /// The service did not answer, or answered that it cannot now (a timeout, a network
    /// error, a 5xx): the same run may work later.
    pub fn unreachable(message: String) -> Self {
        SecretProblem {
            message,
            unreachable: true,
        }
    }
}

/// An answer: no such secret, access denied, not the shape asked for.
impl From<String> for SecretProblem {
    fn from(message: String) -> Self {
        SecretProblem {
            message,
            unreachable: false,
        }
    }
}

impl From<&str> for SecretProblem {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

impl std::fmt::Display for SecretProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a fetch gave, per source: the value, or what went wrong and what to check.
pub type Fetched = HashMap<SecretSource, Result<SecretValue, SecretProblem>>;

/// Fetches every source once, concurrently. Relative file paths are taken from `root`.
pub async fn fetch_all(
    sources: &BTreeSet<SecretSource>,
    options: &SecretOptions,
    root: &Path,
) -> Fetched {
    let mut fetched = Fetched::new();
    let mut aws_ids = Vec::new();
    let mut gcp_names = Vec::new();
    for source in sources {
        match source {
            SecretSource::Env { name } => {
                let value = std::env::var(name).ok().filter(|v| !v.is_empty());
                let result = value.map(SecretValue).ok_or_else(|| {
                    format!("the environment variable {name} is not set; set it, or give a fallback: ${{env:{name}:-value}}").into()
                });
                fetched.insert(source.clone(), result);
            }
            SecretSource::File { path } => {
                let result = read_file(&root.join(path)).map_err(SecretProblem::from);
                fetched.insert(source.clone(), result);
            }
            SecretSource::Aws { secret_id } => aws_ids.push(secret_id.as_str()),
            SecretSource::Gcp { name } => gcp_names.push(name.as_str()),
        }
    }
    let (aws, gcp) = tokio::join!(
        aws::fetch(&aws_ids, options),
        gcp::fetch(&gcp_names, options)
    );
    for (id, result) in aws {
        fetched.insert(SecretSource::Aws { secret_id: id }, result);
    }
    for (name, result) in gcp {
        fetched.insert(SecretSource::Gcp { name }, result);
    }
    fetched
}

/// Reads the value of a `${file:...}` reference: at most [`FILE_LIMIT`] bytes of UTF-8.
pub(crate) fn read_file(path: &Path) -> Result<SecretValue, String> {
    let cannot = |e: std::io::Error| {
        format!(
            "cannot read {}: {e}; check the path and its permissions",
            path.display()
        )
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(FILE_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(format!(
            "{} is larger than 1 MiB, the most a secret file may hold; point the reference at a file that holds only the value",
            path.display()
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "{} is not UTF-8 text; save the value as UTF-8",
            path.display()
        )
    })?;
    // Secret files (Docker, Kubernetes) often end with a newline that is not part of the value.
    Ok(SecretValue(text.trim_end_matches(['\n', '\r']).to_owned()))
}

/// Runs `fetches` concurrently, each under the timeout.
async fn with_timeouts<F>(
    items: Vec<(String, F)>,
    timeout: Duration,
    service: &str,
) -> Vec<(String, Result<SecretValue, SecretProblem>)>
where
    F: Future<Output = Result<String, SecretProblem>>,
{
    join_all(items.into_iter().map(|(key, fetch)| async move {
        let result = match tokio::time::timeout(timeout, fetch).await {
            Ok(result) => result.map(SecretValue),
            Err(_) => Err(SecretProblem::unreachable(format!(
                "{service} did not answer within {}s; check the network, the endpoint and the credentials",
                timeout.as_secs_f32()
            ))),
        };
        (key, result)
    }))
    .await
}

/// The value a reference asks for: the whole secret, one field of its JSON, or the fallback.
pub fn pick(reference: &SecretRef, fetched: &Fetched) -> Result<SecretValue, SecretProblem> {
    let value = match fetched.get(&reference.source) {
        Some(Ok(value)) => value,
        Some(Err(_)) | None if reference.fallback.is_some() => {
            return Ok(SecretValue(reference.fallback.clone().unwrap_or_default()));
        }
        Some(Err(problem)) => return Err(problem.clone()),
        None => return Err("it was not fetched".into()),
    };
    let Some(key) = &reference.json_key else {
        return Ok(value.clone());
    };
    let json: serde_json::Value = serde_json::from_str(value.expose())
        .map_err(|_| format!("the secret is not JSON, so `#{key}` cannot pick a field from it; drop `#{key}` or store a JSON object"))?;
    let object = json.as_object().ok_or_else(|| {
        format!("the secret is JSON but not an object, so `#{key}` cannot pick a field from it")
    })?;
    match object.get(key) {
        Some(serde_json::Value::String(text)) => Ok(SecretValue(text.clone())),
        Some(serde_json::Value::Number(number)) => Ok(SecretValue(number.to_string())),
        Some(serde_json::Value::Bool(flag)) => Ok(SecretValue(flag.to_string())),
        Some(_) => Err(format!("the field `{key}` is not text, a number or a boolean").into()),
        None => {
            let fields: Vec<&str> = object.keys().map(String::as_str).collect();
            Err(format!(
                "the secret has no field `{key}` (its fields: {}); check the JSON key",
                fields.join(", ")
            )
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::parse_reference;

    fn fetched(source: SecretSource, value: Result<&str, &str>) -> Fetched {
        [(
            source,
            value
                .map(|v| SecretValue(v.to_owned()))
                .map_err(SecretProblem::from),
        )]
        .into()
    }

    #[test]
    fn json_keys_and_fallbacks() {
        let aws = SecretSource::Aws {
            secret_id: "db".into(),
        };
        let json = fetched(
            aws.clone(),
            Ok(r#"{"user":"app","password":"s3cr3t","port":5432}"#),
        );
        let pick_ref = |body: &str, f: &Fetched| pick(&parse_reference(body).unwrap(), f);
        assert_eq!(
            pick_ref("aws-sm:db#password", &json).unwrap().expose(),
            "s3cr3t"
        );
        assert_eq!(pick_ref("aws-sm:db#port", &json).unwrap().expose(), "5432");
        let missing = pick_ref("aws-sm:db#pasword", &json).unwrap_err().message;
        assert!(
            missing.contains("no field `pasword`") && missing.contains("user, password, port")
                || missing.contains("password, port, user"),
            "{missing}"
        );
        assert!(!missing.contains("s3cr3t"));
        let plain = fetched(aws, Ok("not json"));
        assert!(
            pick_ref("aws-sm:db#password", &plain)
                .unwrap_err()
                .message
                .contains("not JSON")
        );
        assert_eq!(pick_ref("aws-sm:db", &plain).unwrap().expose(), "not json");

        let env = SecretSource::Env {
            name: "PORT".into(),
        };
        let unset = fetched(env, Err("not set"));
        assert_eq!(pick_ref("env:PORT:-5432", &unset).unwrap().expose(), "5432");
        assert_eq!(pick_ref("env:PORT", &unset).unwrap_err().message, "not set");
    }

    #[test]
    fn secret_files_are_read_up_to_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let at_limit = dir.path().join("at_limit");
        std::fs::write(&at_limit, "x".repeat(FILE_LIMIT as usize)).unwrap();
        assert_eq!(
            read_file(&at_limit).unwrap().expose().len(),
            FILE_LIMIT as usize
        );
        let over = dir.path().join("over");
        std::fs::write(&over, "x".repeat(FILE_LIMIT as usize + 1)).unwrap();
        let err = read_file(&over).unwrap_err();
        assert!(err.contains("larger than 1 MiB"), "{err}");
        let endless = read_file(Path::new("/dev/zero")).unwrap_err();
        assert!(
            endless.contains("/dev/zero is larger than 1 MiB"),
            "{endless}"
        );
        let line = dir.path().join("line");
        std::fs::write(&line, "s3cret\r\n").unwrap();
        assert_eq!(read_file(&line).unwrap().expose(), "s3cret");
    }

    #[test]
    fn secret_values_do_not_print() {
        let value = SecretValue("hunter2".into());
        assert_eq!(format!("{value} {value:?}"), "*** ***");
    }
}
