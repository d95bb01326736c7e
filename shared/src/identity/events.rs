//! The events the identity context emits.

use serde::{Deserialize, Serialize};

use super::{DisplayName, Email, Role, UserId};
use crate::EventType;
use crate::events::Event;

/// An account was created (sign-up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: UserId,
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
}

impl Event for UserRegistered {
    const TYPE: EventType = EventType::UserRegistered;
    const VERSION: u32 = 1;
}

/// Something an administrator or operator did, for the activity log. Each
/// action is a variant of its own, named in `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AdminActivity {
    /// An account's role was changed by the promote command.
    RoleChanged {
        /// A short, non-reversible tag of the account's email (never the
        /// address).
        email_hash: String,
        role: Role,
        /// Who did it (the operator command's name for itself).
        actor: String,
    },
    /// Goodwill points were granted to a wallet.
    WalletGranted {
        user_id: UserId,
        points: u64,
        /// The wallet's balance after the grant.
        balance: u64,
        reason: String,
        /// The administrator's user id.
        actor: String,
    },
}

impl Event for AdminActivity {
    const TYPE: EventType = EventType::AdminActivity;
    const VERSION: u32 = 1;
}
