//! A GCP stub on loopback: the OAuth token endpoint named by a test service account's
//! `token_uri`, and Secret Manager's `versions/*:access`. It only serves secrets to the
//! bearer token it issued, and counts every access.

use base64::Engine as _;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// What the stub holds for a secret (`projects/P/secrets/S`).
#[derive(Debug, Clone)]
pub enum GcpSecret {
    Value(String),
    /// Access is refused with 403.
    Denied,
}

#[derive(Default)]
struct State {
    secrets: HashMap<String, GcpSecret>,
    accesses: HashMap<String, usize>,
    tokens_issued: usize,
}

/// A running stub.
pub struct GcpStub {
    pub endpoint: String,
    credentials: PathBuf,
    _dir: tempfile::TempDir,
    token: String,
    state: Arc<Mutex<State>>,
}

impl GcpStub {
    /// Starts a stub serving `secrets`.
    pub fn start(secrets: &[(&str, GcpSecret)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the GCP stub");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let token = format!("stub-token-{}", std::process::id());
        let state = Arc::new(Mutex::new(State {
            secrets: secrets
                .iter()
                .map(|(n, s)| ((*n).to_owned(), s.clone()))
                .collect(),
            ..State::default()
        }));
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("service-account.json");
        let account = serde_json::json!({
            "type": "service_account",
            "project_id": "skein-test",
            "private_key_id": "1",
            "private_key": test_private_key(),
            "client_email": "skein-test@skein-test.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": format!("{endpoint}/token"),
        });
        std::fs::write(&credentials, account.to_string()).unwrap();
        let (serving, issued) = (state.clone(), token.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (state, token) = (serving.clone(), issued.clone());
                std::thread::spawn(move || handle(stream, &state, &token));
            }
        });
        GcpStub {
            endpoint,
            credentials,
            _dir: dir,
            token,
            state,
        }
    }

    /// The service-account file for GOOGLE_APPLICATION_CREDENTIALS.
    pub fn credentials(&self) -> &Path {
        &self.credentials
    }

    /// What a process needs to use this stub through skein.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                self.credentials.display().to_string(),
            ),
            ("SKEIN_SECRETS__GCP_ENDPOINT", self.endpoint.clone()),
        ]
    }

    /// How many times a secret (`projects/P/secrets/S`) was read.
    pub fn accesses(&self, secret: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .accesses
            .get(secret)
            .copied()
            .unwrap_or(0)
    }

    /// How many tokens were issued.
    pub fn tokens_issued(&self) -> usize {
        self.state.lock().unwrap().tokens_issued
    }

    /// Replaces a secret.
    pub fn set(&self, secret: &str, value: GcpSecret) {
        self.state
            .lock()
            .unwrap()
            .secrets
            .insert(secret.to_owned(), value);
    }

    /// The bearer token it issues.
    pub fn token(&self) -> &str {
        &self.token
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>, token: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, response) = route(method, path, &headers, state, token);
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{response}",
        response.len()
    );
}

fn route(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    state: &Mutex<State>,
    token: &str,
) -> (&'static str, String) {
    if method == "POST" && path == "/token" {
        state.lock().unwrap().tokens_issued += 1;
        let body = serde_json::json!({ "access_token": token, "expires_in": 3600, "token_type": "Bearer" });
        return ("200 OK", body.to_string());
    }
    let Some(name) = path
        .strip_prefix("/v1/")
        .and_then(|p| p.strip_suffix(":access"))
    else {
        return ("404 Not Found", r#"{"error":{"code":404}}"#.to_owned());
    };
    if headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {token}")) {
        return ("401 Unauthorized", r#"{"error":{"code":401}}"#.to_owned());
    }
    let secret = name.split("/versions/").next().unwrap_or(name).to_owned();
    let mut state = state.lock().unwrap();
    *state.accesses.entry(secret.clone()).or_default() += 1;
    match state.secrets.get(&secret) {
        Some(GcpSecret::Value(value)) => {
            let data = base64::engine::general_purpose::STANDARD.encode(value);
            (
                "200 OK",
                serde_json::json!({ "name": name, "payload": { "data": data } }).to_string(),
            )
        }
        Some(GcpSecret::Denied) => (
            "403 Forbidden",
            r#"{"error":{"code":403,"status":"PERMISSION_DENIED"}}"#.to_owned(),
        ),
        None => (
            "404 Not Found",
            r#"{"error":{"code":404,"status":"NOT_FOUND"}}"#.to_owned(),
        ),
    }
}

/// An RSA key for the test service account, made once per test binary with openssl.
fn test_private_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let output = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output()
            .expect("openssl makes the test service account's key");
        assert!(output.status.success(), "openssl genpkey failed");
        String::from_utf8(output.stdout).unwrap()
    })
}

/// An endpoint that accepts connections and never answers, for timeout tests.
pub fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a silent port");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    endpoint
}
