//! Secrets from configuration: the JWT signing key.

use crate::config::ConfigError;
use crate::identity::tokens::SigningKey;

/// Reads the signing key once at start-up: `JWT_SIGNING_KEY` if set (tests,
/// simple deployments), else the SSM SecureString named by
/// `JWT_SIGNING_KEY_PARAMETER`. The key is never logged.
pub async fn signing_key(sdk: &aws_config::SdkConfig) -> Result<SigningKey, ConfigError> {
    if let Ok(direct) = std::env::var("JWT_SIGNING_KEY")
        && !direct.is_empty()
    {
        return SigningKey::new(direct.into_bytes());
    }
    let name = crate::config::required("JWT_SIGNING_KEY_PARAMETER")?;
    let out = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(&name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| ConfigError::Invalid {
            name: "JWT_SIGNING_KEY_PARAMETER",
            reason: format!(
                "parameter {name} could not be read: {}",
                aws_sdk_ssm::error::DisplayErrorContext(&e)
            ),
        })?;
    let value = out
        .parameter()
        .and_then(|p| p.value())
        .ok_or(ConfigError::Invalid {
            name: "JWT_SIGNING_KEY_PARAMETER",
            reason: format!("parameter {name} has no value"),
        })?;
    SigningKey::new(value.as_bytes().to_vec())
}
