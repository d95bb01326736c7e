//! The admin activity log: every `AdminActivity` event, as the event log
//! recorded it (once), newest first, filtered by actor, action and time.
//!
//! The log is the platform's: reading it takes `stats:read` as a platform
//! role (company staff read their figures, not the platform's log, which
//! names other companies' changes).

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::identity::events::AdminActivity;
use crate::identity::{Caller, Permission};
use crate::kernel::{Page, PageRequest};
use crate::{AppError, EventId};

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl ActivityFilter {
    /// A filter from query parameters, each checked.
    pub fn parse(
        actor: Option<String>,
        action: Option<String>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Self, AppError> {
        if let Some(actor) = &actor
            && (actor.is_empty() || actor.len() > 100 || actor.chars().any(char::is_control))
        {
            return Err(AppError::validation(
                "INVALID_ACTOR",
                "actor is a user id or a command's name, at most 100 characters",
            ));
        }
        if let Some(action) = &action
            && (action.is_empty()
                || action.len() > 40
                || !action.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        {
            return Err(AppError::validation(
                "INVALID_ACTION",
                "action is an action's name, such as slots_generated",
            ));
        }
        let instant = |raw: Option<String>, name: &str| {
            raw.map(|r| {
                DateTime::parse_from_rfc3339(&r)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        AppError::validation(
                            "INVALID_TIME",
                            format!("{name} must be an RFC 3339 instant"),
                        )
                    })
            })
            .transpose()
        };
        let (from, to) = (instant(from, "from")?, instant(to, "to")?);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(AppError::validation(
                "INVALID_RANGE",
                "to must not be before from",
            ));
        }
        Ok(Self {
            actor,
            action,
            from,
            to,
        })
    }

    pub fn admits(&self, entry: &ActivityEntry) -> bool {
        self.actor.as_ref().is_none_or(|a| *a == entry.actor)
            && self
                .action
                .as_ref()
                .is_none_or(|a| a == entry.activity.action())
            && self.from.is_none_or(|f| entry.occurred_at >= f)
            && self.to.is_none_or(|t| entry.occurred_at <= t)
    }
}

/// One recorded admin action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityEntry {
    pub event_id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: String,
    /// Who did it (a user id, or the operator command's name).
    pub actor: String,
    /// `action` and the action's own fields.
    #[serde(flatten)]
    pub activity: AdminActivity,
}

/// Who did an action, as its event names them.
pub fn actor_of(activity: &AdminActivity) -> String {
    serde_json::to_value(activity)
        .ok()
        .and_then(|v| v.get("actor").and_then(|a| a.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Where the log is read.
pub trait ActivityLog: Send + Sync {
    /// A page of the entries `filter` admits, newest first.
    fn activity(
        &self,
        filter: &ActivityFilter,
        page: PageRequest<'_>,
    ) -> impl Future<Output = Result<Page<ActivityEntry>, AppError>> + Send;
}

/// The log, for a caller whose platform role reads statistics.
pub async fn list(
    log: &impl ActivityLog,
    caller: &Caller,
    filter: &ActivityFilter,
    page: PageRequest<'_>,
) -> Result<Page<ActivityEntry>, AppError> {
    caller.require(Permission::StatsRead)?;
    log.activity(filter, page).await
}
