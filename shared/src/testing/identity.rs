//! Accounts to test against.

use crate::adapters::memory::MemoryIdentity;
use crate::identity::{DisplayName, Email, Phone, Role, User, UserId};
use crate::ports::UserStore;
use crate::{CorrelationId, EventEnvelope};

/// Creates a customer account with the id `id` (an email of its own,
/// a password hash no password matches).
pub async fn account(users: &MemoryIdentity, id: &UserId) {
    account_in(users, id, crate::identity::Language::En).await;
}

/// The same, speaking `language`.
pub async fn account_in(users: &MemoryIdentity, id: &UserId, language: crate::identity::Language) {
    let user = User {
        id: id.clone(),
        email: Email::parse(&format!("{id}@example.com")).expect("an email"),
        name: DisplayName::parse("Ada").expect("a name"),
        phone: Phone::parse("+442079460958").expect("a phone"),
        language,
        role: Role::User,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        created_at: chrono::Utc::now(),
    };
    let event = EventEnvelope::of(
        &crate::events::Ping::Diagnostic {
            note: "registered".into(),
        },
        CorrelationId::generate(),
    )
    .expect("an event");
    users.create(&user, &event).await.expect("an account");
}
