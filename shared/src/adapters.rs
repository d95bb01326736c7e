//! Implementations of the [`crate::ports`] traits.

pub mod dynamo;
pub mod eventbridge;
pub mod memory;
pub mod ssm;
