//! In-memory twins of the adapters, for fast handler tests. Each keeps the
//! guarantees of the adapter it stands in for that the tests rely on
//! (conditional writes, one answer per idempotency key, ordering, paging),
//! so a handler test over a twin means what it would over DynamoDB.

mod account;
mod booking;
mod catalog;
mod company;
mod dead_letters;
mod identity;
mod notification;
mod payment;
mod platform;
mod reporting;
mod waiting_room;

pub use account::MemoryAccounts;
pub use booking::MemoryBookings;
pub use catalog::MemoryCatalog;
pub use company::MemoryCompanies;
pub use dead_letters::MemoryDeadLetters;
pub use identity::MemoryIdentity;
pub use notification::{LedgerRecord, MemoryNotifications, MemoryPostOffice};
pub use payment::{MemoryCards, MemoryWallets};
pub use platform::{
    MemoryEventLog, MemoryHeartbeats, MemoryOutbox, MemoryParking, MemoryPublisher, StaticProbe,
};
pub use reporting::MemoryFigures;
pub use waiting_room::MemoryWaitingRooms;
