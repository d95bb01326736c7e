//! Implementations of the [`crate::ports`] traits.

pub mod dynamo;
pub mod eventbridge;
pub mod gateway;
pub mod memory;
pub mod sqs;
pub mod ssm;
