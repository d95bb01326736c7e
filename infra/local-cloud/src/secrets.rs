//! Secrets of a local environment: each SSM SecureString the template names
//! in `Metadata.LocalCloud.GeneratedSecrets` gets a fresh random value in
//! moto's SSM, so no secret is ever committed. With `--persist` the value is
//! kept (mode 0600) under .local/state/secrets so sessions survive restarts.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::template::Template;

/// Puts every generated secret into SSM; returns the parameter names.
pub async fn provision(
    template: &Template,
    ssm: &aws_sdk_ssm::Client,
    keep_in: Option<&Path>,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut names = Vec::new();
    for parameter in &template.generated_secrets {
        let name = template.parameters.get(parameter).ok_or_else(|| {
            format!("GeneratedSecrets names {parameter}, which is not a parameter with a default")
        })?;
        let value = match keep_in {
            Some(dir) => kept_or_new(&dir.join(file_name(name)))?,
            None => fresh(),
        };
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "storing {name} in SSM: {}",
                    aws_sdk_ssm::error::DisplayErrorContext(&e)
                )
            })?;
        names.push(name.clone());
    }
    Ok(names)
}

/// 48 random bytes, base64: 384 bits, past HS256's 256-bit minimum.
fn fresh() -> String {
    let bytes: [u8; 48] = rand::random();
    STANDARD.encode(bytes)
}

fn file_name(parameter: &str) -> PathBuf {
    PathBuf::from(parameter.trim_start_matches('/').replace('/', "__"))
}

fn kept_or_new(path: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.to_owned());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let value = fresh();
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(value.as_bytes())?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fresh_secret_differs_and_is_long_enough() {
        let (a, b) = (fresh(), fresh());
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(&a).unwrap().len(), 48);
    }

    #[test]
    fn a_kept_secret_is_reused_and_private() {
        let dir = std::env::temp_dir().join(format!("secrets-{}", uuid::Uuid::new_v4()));
        let path = dir.join(file_name("/booking-platform/jwt-signing-key"));
        let first = kept_or_new(&path).unwrap();
        assert_eq!(kept_or_new(&path).unwrap(), first);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
