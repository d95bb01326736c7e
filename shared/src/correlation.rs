//! Correlation ids: one id follows a request through every function, event
//! and log line it causes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The header a caller may set to choose the correlation id.
pub const HEADER: &str = "x-correlation-id";

const MAX_LEN: usize = 128;

/// An opaque id shared by everything one request causes.
///
/// Accepted from callers only when it is 1 to 128 characters of
/// `[A-Za-z0-9._:-]`, so it is safe to log and to put in headers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorrelationId(String);

impl CorrelationId {
    /// A fresh id for a request that brought none.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// Refuses empty, oversized or unsafe ids.
    pub fn parse(raw: &str) -> Result<Self, InvalidCorrelationId> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidCorrelationId)
        }
    }

    /// The caller's id when it is valid, otherwise a new one.
    pub fn from_header_or_generate(header: Option<&str>) -> Self {
        header
            .and_then(|raw| Self::parse(raw.trim()).ok())
            .unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a correlation id is 1 to 128 characters of letters, digits, '.', '_', ':' or '-'")]
pub struct InvalidCorrelationId;

impl TryFrom<String> for CorrelationId {
    type Error = InvalidCorrelationId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CorrelationId> for String {
    fn from(id: CorrelationId) -> Self {
        id.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_caller_id_is_kept() {
        let id = CorrelationId::from_header_or_generate(Some("order-42:retry.1"));
        assert_eq!(id.as_str(), "order-42:retry.1");
    }

    #[test]
    fn an_unsafe_or_oversized_caller_id_is_replaced() {
        for bad in ["", "has space", "new\nline", &"x".repeat(129), "<script>"] {
            let id = CorrelationId::from_header_or_generate(Some(bad));
            assert_ne!(id.as_str(), bad);
            assert!(CorrelationId::parse(id.as_str()).is_ok());
        }
    }

    #[test]
    fn a_missing_header_gets_a_fresh_id_each_time() {
        let a = CorrelationId::from_header_or_generate(None);
        let b = CorrelationId::from_header_or_generate(None);
        assert_ne!(a, b);
    }
}
