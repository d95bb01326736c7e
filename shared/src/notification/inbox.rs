//! What a customer reads and chooses: their inbox (`GET /me/notifications`,
//! `POST /me/notifications/{id}/read`) and their preferences (`GET/PUT
//! /me/notification-preferences`). Always the caller's own: the user comes
//! from the caller, never from the request.

use serde::Serialize;

use super::ports::{Inbox, PreferenceStore};
use super::{InboxEntry, InboxId, Preferences};
use crate::AppError;
use crate::clock::Clock;
use crate::identity::Caller;
use crate::kernel::PageRequest;

/// A page of the caller's inbox, newest first.
#[derive(Debug, Serialize)]
pub struct InboxPage {
    pub notifications: Vec<InboxEntry>,
    pub next_cursor: Option<String>,
}

pub async fn list(
    inbox: &impl Inbox,
    caller: &Caller,
    page: PageRequest<'_>,
) -> Result<InboxPage, AppError> {
    let page = inbox.list(&caller.user_id, page).await?;
    Ok(InboxPage {
        notifications: page.items,
        next_cursor: page.next_cursor,
    })
}

/// Marks one of the caller's entries read; someone else's is as unknown
/// as one that never was.
pub async fn mark_read(
    inbox: &impl Inbox,
    clock: &impl Clock,
    caller: &Caller,
    id: &InboxId,
) -> Result<InboxEntry, AppError> {
    inbox
        .mark_read(&caller.user_id, id, clock.now())
        .await?
        .ok_or_else(|| AppError::NotFound {
            code: "NOTIFICATION_NOT_FOUND",
            what: format!("notification {id}"),
        })
}

pub async fn preferences(
    store: &impl PreferenceStore,
    caller: &Caller,
) -> Result<Preferences, AppError> {
    store.preferences(&caller.user_id).await
}

/// Replaces the caller's preferences; answers them as stored.
pub async fn set_preferences(
    store: &impl PreferenceStore,
    clock: &impl Clock,
    caller: &Caller,
    preferences: Preferences,
) -> Result<Preferences, AppError> {
    store
        .set_preferences(&caller.user_id, &preferences, clock.now())
        .await?;
    Ok(preferences)
}
