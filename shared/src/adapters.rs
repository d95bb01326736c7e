//! Implementations of the [`crate::ports`] traits.

pub mod dynamo;
#[cfg(feature = "eventbridge")]
pub mod eventbridge;
#[cfg(feature = "gateway")]
pub mod gateway;
pub mod memory;
#[cfg(feature = "messaging")]
pub mod messaging;
#[cfg(feature = "sqs")]
pub mod sqs;
#[cfg(feature = "ssm")]
pub mod ssm;
