//! The events the identity context emits.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{CompanyId, Language, Role, StaffRole, UserId};
use crate::EventType;
use crate::events::{Event, required_nullable};

// Identity events carry no personal data (email, name, phone): the event
// log keeps every event, and a deleted account's personal data must be
// gone from everything the platform keeps. A consumer that needs the
// address reads the account by `user_id`, and finds none once deleted.

/// An account was created (sign-up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: UserId,
    pub role: Role,
    pub language: Language,
}

impl Event for UserRegistered {
    const TYPE: EventType = EventType::UserRegistered;
    /// 2: without `email` and `name`.
    const VERSION: u32 = 2;
}

/// An account holder changed their own account (`PATCH /me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub user_id: UserId,
    /// The fields changed, by name (`email`, `language`, `name`,
    /// `password`, `phone`), never their values.
    pub fields: Vec<String>,
}

impl Event for UserUpdated {
    const TYPE: EventType = EventType::UserUpdated;
    const VERSION: u32 = 1;
}

/// An account was deleted by its holder (`DELETE /me`). Its bookings keep
/// `user_id` as an anonymous reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeleted {
    pub user_id: UserId,
    /// The wallet's points written off with the holder's consent (a
    /// `FORFEIT` ledger entry in the same transaction).
    pub points_forfeited: u64,
}

impl Event for UserDeleted {
    const TYPE: EventType = EventType::UserDeleted;
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
    /// A platform administrator created a company.
    CompanyCreated {
        company_id: CompanyId,
        name: String,
        actor: String,
    },
    /// A company's name, contact or status changed.
    CompanyChanged {
        company_id: CompanyId,
        /// The fields changed, by name (never their values: the contact
        /// address is personal data).
        fields: Vec<String>,
        status: String,
        actor: String,
    },
    /// An account became staff of a company, or its role there changed.
    StaffPut {
        company_id: CompanyId,
        user_id: UserId,
        /// Its role before (`None`: it is new staff).
        #[serde(deserialize_with = "required_nullable")]
        from: Option<StaffRole>,
        role: StaffRole,
        actor: String,
    },
    /// An account stopped being staff of a company.
    StaffRemoved {
        company_id: CompanyId,
        user_id: UserId,
        role: StaffRole,
        actor: String,
    },
    // Catalog writes. Their targets' ids are the catalog's (strings here:
    // identity does not depend on the catalog). `company_id` is the
    // target's company (`null` for a venue not yet adopted by one).
    /// A venue was created.
    VenueCreated {
        company_id: CompanyId,
        venue_id: String,
        name: String,
        actor: String,
    },
    /// A venue's name, city or status changed.
    VenueChanged {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        venue_id: String,
        /// The fields changed, by name.
        fields: Vec<String>,
        /// The new status, when it changed.
        #[serde(deserialize_with = "required_nullable")]
        status: Option<String>,
        actor: String,
    },
    /// A resource (course, performance, room) was created in a venue.
    ResourceCreated {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        venue_id: String,
        resource_id: String,
        kind: String,
        actor: String,
    },
    /// A resource's name or status changed.
    ResourceChanged {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        resource_id: String,
        fields: Vec<String>,
        #[serde(deserialize_with = "required_nullable")]
        status: Option<String>,
        actor: String,
    },
    /// Slots of a daily pattern were generated for a resource.
    SlotsGenerated {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        resource_id: String,
        from: NaiveDate,
        to: NaiveDate,
        /// Slots written now, and slots of the pattern that existed.
        created: usize,
        skipped: usize,
        actor: String,
    },
    /// A slot was closed or reopened, or its capacity changed.
    SlotChanged {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        slot_id: String,
        fields: Vec<String>,
        #[serde(deserialize_with = "required_nullable")]
        status: Option<String>,
        #[serde(deserialize_with = "required_nullable")]
        capacity: Option<u32>,
        actor: String,
    },
    /// A slot's seat map was set (its capacity became its seat count).
    SeatMapSet {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        slot_id: String,
        /// Seats written now, seats of the map that existed, and the
        /// slot's capacity after.
        created: usize,
        skipped: usize,
        capacity: u32,
        actor: String,
    },
    /// A waiting room was created in front of resources.
    WaitingRoomCreated {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        room_id: String,
        resource_ids: Vec<String>,
        rate_per_minute: u32,
        max_active: u32,
        actor: String,
    },
    /// Dead letters of a consumer were moved back to its queue.
    DeadLettersRedriven {
        /// The consumer, as `/admin/dead-letters/{queue}` names it.
        queue: String,
        moved: u32,
        actor: String,
    },
    /// A waiting room's settings or status changed (paused, resumed,
    /// closed).
    WaitingRoomChanged {
        #[serde(deserialize_with = "required_nullable")]
        company_id: Option<CompanyId>,
        room_id: String,
        fields: Vec<String>,
        status: String,
        rate_per_minute: u32,
        max_active: u32,
        actor: String,
    },
}

impl AdminActivity {
    /// The action, as `action` names it on the wire.
    pub fn action(&self) -> &'static str {
        match self {
            Self::RoleChanged { .. } => "role_changed",
            Self::WalletGranted { .. } => "wallet_granted",
            Self::CompanyCreated { .. } => "company_created",
            Self::CompanyChanged { .. } => "company_changed",
            Self::StaffPut { .. } => "staff_put",
            Self::StaffRemoved { .. } => "staff_removed",
            Self::VenueCreated { .. } => "venue_created",
            Self::VenueChanged { .. } => "venue_changed",
            Self::ResourceCreated { .. } => "resource_created",
            Self::ResourceChanged { .. } => "resource_changed",
            Self::SlotsGenerated { .. } => "slots_generated",
            Self::SlotChanged { .. } => "slot_changed",
            Self::SeatMapSet { .. } => "seat_map_set",
            Self::WaitingRoomCreated { .. } => "waiting_room_created",
            Self::WaitingRoomChanged { .. } => "waiting_room_changed",
            Self::DeadLettersRedriven { .. } => "dead_letters_redriven",
        }
    }
}

impl Event for AdminActivity {
    const TYPE: EventType = EventType::AdminActivity;
    const VERSION: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_is_named_as_on_the_wire() {
        let activity = AdminActivity::SlotChanged {
            company_id: None,
            slot_id: "r@2027-01-10T08:00".into(),
            fields: vec!["capacity".into()],
            status: None,
            capacity: Some(4),
            actor: "someone".into(),
        };
        let json = serde_json::to_value(&activity).unwrap();
        assert_eq!(json["action"], activity.action());
    }
}
