//! GCP Secret Manager: credentials through gcp_auth (application default credentials, a
//! service-account file named by GOOGLE_APPLICATION_CREDENTIALS, the metadata server)
//! and the REST API's `versions/*:access`.

use super::{SecretOptions, SecretProblem, SecretValue, with_timeouts};
use base64::Engine as _;

const DEFAULT_ENDPOINT: &str = "https://secretmanager.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Fetches each secret version; credentials are found only when there is something to fetch.
pub(super) async fn fetch(
    names: &[&str],
    options: &SecretOptions,
) -> Vec<(String, Result<SecretValue, SecretProblem>)> {
    if names.is_empty() {
        return Vec::new();
    }
    let endpoint = options
        .gcp_endpoint
        .as_deref()
        .unwrap_or(DEFAULT_ENDPOINT)
        .trim_end_matches('/')
        .to_owned();
    let setup = async {
        let provider = gcp_auth::provider().await.map_err(|e| {
            SecretProblem::from(format!("no Google credentials: {e}; set GOOGLE_APPLICATION_CREDENTIALS to a service-account file, run `gcloud auth application-default login`, or run on GCP"))
        })?;
        // The token endpoint's answer cannot be told from its silence here: try again.
        let token = provider.token(&[SCOPE]).await.map_err(|e| {
            SecretProblem::unreachable(format!("cannot get a Google access token: {e}; check the credentials and that their token endpoint is reachable"))
        })?;
        // No client timeout: each fetch runs under `with_timeouts`, which says what timed out.
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| SecretProblem::from(format!("cannot start an HTTP client: {e}")))?;
        Ok::<_, SecretProblem>((http, token))
    };
    let (http, token) = match tokio::time::timeout(options.timeout, setup).await {
        Ok(Ok(ready)) => ready,
        Ok(Err(problem)) => {
            return names
                .iter()
                .map(|n| ((*n).to_owned(), Err(problem.clone())))
                .collect();
        }
        Err(_) => {
            let problem = SecretProblem::unreachable("Google's token endpoint did not answer in time; check the network and the credentials".to_owned());
            return names
                .iter()
                .map(|n| ((*n).to_owned(), Err(problem.clone())))
                .collect();
        }
    };
    let fetches = names
        .iter()
        .map(|name| {
            let url = format!("{endpoint}/v1/{name}:access");
            let request = http.get(url).bearer_auth(token.as_str());
            ((*name).to_owned(), async move {
                access(request, secret_of(name)).await
            })
        })
        .collect();
    with_timeouts(fetches, options.timeout, "GCP Secret Manager").await
}

/// `projects/P/secrets/S` of a version name, for messages.
fn secret_of(name: &str) -> &str {
    name.split("/versions/").next().unwrap_or(name)
}

async fn access(request: reqwest::RequestBuilder, secret: &str) -> Result<String, SecretProblem> {
    let response = request.send().await.map_err(|e| {
        SecretProblem::unreachable(format!(
            "cannot reach GCP Secret Manager ({}); check the network and the endpoint",
            e.without_url()
        ))
    })?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(SecretProblem::unreachable(format!(
            "GCP Secret Manager cannot answer now ({status}) for {secret}; try again later"
        )));
    }
    if !status.is_success() {
        return Err(match status.as_u16() {
            404 => format!(
                "GCP Secret Manager has no {secret} (or no such version); check the project, the secret name and the version"
            ),
            401 | 403 => format!(
                "GCP Secret Manager denied access to {secret} ({status}); check that the credentials have roles/secretmanager.secretAccessor"
            ),
            _ => format!("GCP Secret Manager answered {status} for {secret}"),
        }
        .into());
    }
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|_| SecretProblem::from("GCP Secret Manager's answer is not JSON"))?;
    let data = body
        .pointer("/payload/data")
        .and_then(|d| d.as_str())
        .ok_or(SecretProblem::from(
            "GCP Secret Manager's answer has no payload.data",
        ))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| SecretProblem::from("GCP Secret Manager's payload is not base64"))?;
    String::from_utf8(bytes).map_err(|_| "the secret is binary, not text".into())
}
