//! The platform's error type and the JSON body clients receive.
//!
//! Every refusal carries a stable machine-readable `code` and a human
//! `message`. Internal errors keep their source for the logs and tell the
//! client nothing about it.

use serde::Serialize;

/// An error any use case can return. Its HTTP status is decided in one place,
/// [`AppError::status`].
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input: the request can never succeed as sent.
    #[error("{message}")]
    Validation { code: &'static str, message: String },
    #[error("{what} was not found")]
    NotFound { code: &'static str, what: String },
    /// The request conflicts with the current state (a duplicate, a taken seat).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// Well-formed, but cannot be processed as sent (an idempotency key
    /// reused for a different request).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// A payment was refused (a declined card): nothing was charged.
    #[error("{message}")]
    PaymentRequired { code: &'static str, message: String },
    /// Too many attempts; the caller may try again after `retry_after_secs`.
    #[error("{message}")]
    RateLimited {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// A dependency is unavailable right now; the caller may retry.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// A fault of ours. The source is logged, never sent to the client.
    #[error("internal error: {context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn validation(code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn internal(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Internal {
            context,
            source: source.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Validation { .. } => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::Unprocessable { .. } => 422,
            Self::PaymentRequired { .. } => 402,
            Self::RateLimited { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal { .. } => 500,
        }
    }

    /// The stable code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::RateLimited { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::PaymentRequired { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::Internal { .. } => "INTERNAL_ERROR",
        }
    }

    /// What the client is told: the message, except for internal errors.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            Self::Internal { .. } => "an internal error occurred; it has been logged".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            code: self.code().to_owned(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_hides_its_source_from_the_client() {
        let err = AppError::internal("saving the booking", "password=hunter2 leaked");
        let body = err.body();
        assert_eq!(err.status(), 500);
        assert_eq!(body.code, "INTERNAL_ERROR");
        assert!(!body.message.contains("hunter2"));
    }

    #[test]
    fn a_validation_error_is_a_400_with_its_code() {
        let err = AppError::validation("INVALID_QUANTITY", "quantity must be 1 to 8");
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.body(),
            ErrorBody {
                code: "INVALID_QUANTITY".into(),
                message: "quantity must be 1 to 8".into()
            }
        );
    }
}
