//! AWS Secrets Manager through the SDK: the standard credential and region chain, and the
//! standard `AWS_ENDPOINT_URL_SECRETS_MANAGER` override.

use super::{SecretOptions, SecretProblem, SecretValue, with_timeouts};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

/// Fetches each secret id; the client is made only when there is something to fetch.
pub(super) async fn fetch(
    ids: &[&str],
    options: &SecretOptions,
) -> Vec<(String, Result<SecretValue, SecretProblem>)> {
    if ids.is_empty() {
        return Vec::new();
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &options.aws_region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    let region = config
        .region()
        .map_or_else(|| "(no region)".to_owned(), |r| r.to_string());
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let fetches = ids
        .iter()
        .map(|id| {
            let client = client.clone();
            let region = region.clone();
            let id = (*id).to_owned();
            (id.clone(), async move { get(&client, &id, &region).await })
        })
        .collect();
    with_timeouts(fetches, options.timeout, "AWS Secrets Manager").await
}

async fn get(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
    region: &str,
) -> Result<String, SecretProblem> {
    match client.get_secret_value().secret_id(id).send().await {
        Ok(output) => {
            if let Some(text) = output.secret_string() {
                Ok(text.to_owned())
            } else if let Some(binary) = output.secret_binary() {
                String::from_utf8(binary.as_ref().to_vec())
                    .map_err(|_| "the secret is binary, not text".into())
            } else {
                Err("the secret has no value".into())
            }
        }
        Err(err) => Err(describe(&err, region)),
    }
}

/// Says what went wrong and what to check, from the service's error code.
fn describe<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, region: &str) -> SecretProblem {
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("error");
            let message = inner.message().unwrap_or("");
            match code {
                "InternalServiceError"
                | "InternalFailure"
                | "ServiceUnavailable"
                | "ThrottlingException"
                | "RequestLimitExceeded" => SecretProblem::unreachable(format!(
                    "AWS Secrets Manager cannot answer now ({code}: {message}); try again later"
                )),
                "ResourceNotFoundException" => format!(
                    "AWS Secrets Manager has no such secret in region {region} ({message}); check the secret name and the region"
                )
                .into(),
                "AccessDeniedException"
                | "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "ExpiredTokenException" => format!(
                    "AWS Secrets Manager denied access ({code}: {message}); check the credentials and their permission secretsmanager:GetSecretValue"
                )
                .into(),
                "DecryptionFailure" => format!(
                    "AWS could not decrypt the secret ({message}); check the KMS key permissions"
                )
                .into(),
                _ => format!("AWS Secrets Manager answered {code}: {message}").into(),
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            SecretProblem::unreachable(format!(
                "cannot reach AWS Secrets Manager in region {region}; check the network and AWS_ENDPOINT_URL_SECRETS_MANAGER if set"
            ))
        }
        SdkError::ConstructionFailure(_) => format!(
            "cannot make the AWS request (region {region}); check that a region and credentials are configured (AWS_REGION, AWS_PROFILE, ~/.aws)"
        )
        .into(),
        _ => SecretProblem::unreachable("AWS Secrets Manager's answer could not be read".to_owned()),
    }
}
