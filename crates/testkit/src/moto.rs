//! `moto_server` (PyPI `moto[server]`, installed by [`crate::tools`]) on loopback: a real
//! AWS Secrets Manager API for tests.

use crate::{block_on, free_port, wait_for_port, when_this_process_exits};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A running moto server.
pub struct Moto {
    pub endpoint: String,
    /// Runs for the life of the test binary; stopped when it exits.
    _server: std::sync::Mutex<std::process::Child>,
}

/// The moto server of this test binary, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = free_port();
        let child = Command::new(crate::tools::moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server: {e}"));
        when_this_process_exits(&format!("kill {}", child.id())).expect("arrange moto's stop");
        wait_for_port(port, "moto_server");
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _server: std::sync::Mutex::new(child),
        }
    })
}

impl Moto {
    /// What a process needs to use this server: static test credentials, a region, the
    /// endpoint override, and no probing of the EC2 metadata service.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.endpoint.clone()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    fn client(&self) -> aws_sdk_secretsmanager::Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "skein-testkit",
            ))
            .build();
        aws_sdk_secretsmanager::Client::from_conf(config)
    }

    /// Creates (or replaces) a secret holding `value`.
    pub fn put_secret(&self, name: &str, value: &str) {
        let client = self.client();
        let (name, value) = (name.to_owned(), value.to_owned());
        block_on(async move {
            let created = client
                .create_secret()
                .name(&name)
                .secret_string(&value)
                .send()
                .await;
            if created.is_err() {
                client
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(&value)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("moto: put {name}: {e}"));
            }
        });
    }
}
