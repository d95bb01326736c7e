//! The identity context's twin: accounts, sessions, login attempts.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::AppError;
use crate::events::EventEnvelope;
use crate::identity::profile::ProfileChange;
use crate::identity::service::LoginPolicy;
use crate::identity::{Email, Role, User, UserId};
use crate::ports::{Attempt, LoginAttempts, Rotation, SessionStore, StoredRefreshToken, UserStore};

/// Accounts, sessions and login counters in memory, with the same rules as
/// the DynamoDB adapter (unique emails, rotation, reuse revokes the family).
#[derive(Debug, Default)]
pub struct MemoryIdentity {
    state: Mutex<IdentityState>,
}

#[derive(Debug, Default)]
struct IdentityState {
    users: HashMap<UserId, User>,
    emails: HashMap<Email, UserId>,
    events: Vec<EventEnvelope>,
    /// family id -> revoked?
    sessions: HashMap<String, bool>,
    /// token hash -> (token, status)
    tokens: HashMap<String, (StoredRefreshToken, TokenStatus)>,
    attempts: HashMap<Email, Attempts>,
}

/// Failures, when their window opened, and the lock's end if locked.
type Attempts = (u32, DateTime<Utc>, Option<DateTime<Utc>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenStatus {
    Active,
    Rotated,
    Revoked,
}

impl MemoryIdentity {
    /// Every event written with an account change, in order.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state.lock().expect("lock").events.clone()
    }

    pub fn user_count(&self) -> usize {
        self.state.lock().expect("lock").users.len()
    }

    /// Whether the session `family_id` has been revoked.
    pub fn session_revoked(&self, family_id: &str) -> Option<bool> {
        self.state
            .lock()
            .expect("lock")
            .sessions
            .get(family_id)
            .copied()
    }
}

impl UserStore for MemoryIdentity {
    async fn create(&self, user: &User, event: &EventEnvelope) -> Result<(), AppError> {
        let mut state = self.state.lock().expect("lock");
        if state.emails.contains_key(&user.email) {
            return Err(AppError::conflict(
                "EMAIL_TAKEN",
                "an account with this email already exists",
            ));
        }
        state.emails.insert(user.email.clone(), user.id.clone());
        state.users.insert(user.id.clone(), user.clone());
        state.events.push(event.clone());
        Ok(())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, AppError> {
        let state = self.state.lock().expect("lock");
        Ok(state
            .emails
            .get(email)
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, AppError> {
        Ok(self.state.lock().expect("lock").users.get(id).cloned())
    }

    async fn set_role(
        &self,
        email: &Email,
        role: Role,
        event: &EventEnvelope,
    ) -> Result<User, AppError> {
        let mut state = self.state.lock().expect("lock");
        let id = state.emails.get(email).cloned().ok_or(AppError::NotFound {
            code: "USER_NOT_FOUND",
            what: format!("an account with the email {email}"),
        })?;
        let user = state.users.get_mut(&id).expect("claimed email has a user");
        user.role = role;
        let user = user.clone();
        state.events.push(event.clone());
        Ok(user)
    }

    async fn update(
        &self,
        user: &User,
        change: &ProfileChange,
        event: &EventEnvelope,
    ) -> Result<User, AppError> {
        let mut state = self.state.lock().expect("lock");
        let current = state.users.get(&user.id);
        if current.is_none_or(|c| c.email != user.email || c.password_hash != user.password_hash) {
            return Err(AppError::conflict(
                "ACCOUNT_CHANGED",
                "the account changed meanwhile; read it again and retry",
            ));
        }
        if let Some(email) = &change.email {
            if state.emails.contains_key(email) {
                return Err(AppError::conflict(
                    "EMAIL_TAKEN",
                    "an account with this email already exists",
                ));
            }
            state.emails.remove(&user.email);
            state.attempts.remove(&user.email);
            state.emails.insert(email.clone(), user.id.clone());
        }
        let stored = state.users.get_mut(&user.id).expect("checked above");
        change.apply(stored);
        let updated = stored.clone();
        state.events.push(event.clone());
        Ok(updated)
    }
}

impl MemoryIdentity {
    /// Ends an account as [`crate::ports::AccountCloser`] does, for its
    /// identity part: the account, its email claim and its login counter
    /// go, and `event` is recorded. `false` if it changed since read.
    pub(crate) fn unchanged(&self, user: &User) -> bool {
        let state = self.state.lock().expect("lock");
        state
            .users
            .get(&user.id)
            .is_some_and(|c| c.email == user.email && c.password_hash == user.password_hash)
    }

    pub(crate) fn close(&self, user: &User, event: &EventEnvelope) -> bool {
        let mut state = self.state.lock().expect("lock");
        let unchanged = state
            .users
            .get(&user.id)
            .is_some_and(|c| c.email == user.email && c.password_hash == user.password_hash);
        if unchanged {
            state.users.remove(&user.id);
            state.emails.remove(&user.email);
            state.attempts.remove(&user.email);
            state.events.push(event.clone());
        }
        unchanged
    }
}

impl SessionStore for MemoryIdentity {
    async fn start(&self, token: &StoredRefreshToken, _now: DateTime<Utc>) -> Result<(), AppError> {
        let mut state = self.state.lock().expect("lock");
        state.sessions.insert(token.family_id.clone(), false);
        state
            .tokens
            .insert(token.hash.clone(), (token.clone(), TokenStatus::Active));
        Ok(())
    }

    async fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Rotation, AppError> {
        let mut state = self.state.lock().expect("lock");
        let Some((old, status)) = state.tokens.get(old_hash).cloned() else {
            return Ok(Rotation::Unknown);
        };
        if old.expires_at <= now {
            return Ok(Rotation::Expired);
        }
        let family_revoked = state.sessions.get(&old.family_id).copied().unwrap_or(true);
        match status {
            TokenStatus::Revoked => return Ok(Rotation::Revoked),
            TokenStatus::Rotated => {
                state.sessions.insert(old.family_id.clone(), true);
                return Ok(Rotation::Reused {
                    family_id: old.family_id,
                });
            }
            TokenStatus::Active if family_revoked => return Ok(Rotation::Revoked),
            TokenStatus::Active => {}
        }
        state
            .tokens
            .insert(old_hash.to_owned(), (old.clone(), TokenStatus::Rotated));
        let next = StoredRefreshToken {
            hash: new_hash.to_owned(),
            expires_at: new_expires_at,
            ..old.clone()
        };
        state
            .tokens
            .insert(new_hash.to_owned(), (next, TokenStatus::Active));
        Ok(Rotation::Rotated {
            user_id: old.user_id,
            family_id: old.family_id,
        })
    }

    async fn revoke(&self, hash: &str, _now: DateTime<Utc>) -> Result<bool, AppError> {
        let mut state = self.state.lock().expect("lock");
        let Some((token, _)) = state.tokens.get(hash).cloned() else {
            return Ok(false);
        };
        state.sessions.insert(token.family_id.clone(), true);
        if let Some(entry) = state.tokens.get_mut(hash)
            && entry.1 == TokenStatus::Active
        {
            entry.1 = TokenStatus::Revoked;
        }
        Ok(true)
    }

    async fn is_active(&self, family_id: &str) -> Result<bool, AppError> {
        let state = self.state.lock().expect("lock");
        Ok(state.sessions.get(family_id) == Some(&false))
    }

    async fn revoke_all(
        &self,
        user: &UserId,
        except: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        let mut state = self.state.lock().expect("lock");
        let families: Vec<String> = state
            .sessions
            .iter()
            .filter(|(f, revoked)| {
                !**revoked
                    && Some(f.as_str()) != except
                    && Self::family_owner(&state, f).as_ref() == Some(user)
            })
            .map(|(f, _)| f.clone())
            .collect();
        for family in &families {
            state.sessions.insert(family.clone(), true);
        }
        Ok(families.len())
    }
}

impl MemoryIdentity {
    fn family_owner(state: &IdentityState, family_id: &str) -> Option<UserId> {
        state
            .tokens
            .values()
            .find(|(t, _)| t.family_id == family_id)
            .map(|(t, _)| t.user_id.clone())
    }
}

impl LoginAttempts for MemoryIdentity {
    async fn reserve(
        &self,
        email: &Email,
        policy: &LoginPolicy,
        now: DateTime<Utc>,
    ) -> Result<Attempt, AppError> {
        let mut state = self.state.lock().expect("lock");
        let entry = state
            .attempts
            .entry(email.clone())
            .or_insert((0, now, None));
        match entry.2 {
            Some(until) if until > now => return Ok(Attempt::Locked { until }),
            Some(_) => *entry = (0, now, None),
            None if entry.1 <= now - policy.window => *entry = (0, now, None),
            None => {}
        }
        if entry.0 >= policy.max_failures {
            return Ok(Attempt::Locked {
                until: now + policy.lockout,
            });
        }
        entry.0 += 1;
        Ok(Attempt::Granted { number: entry.0 })
    }

    async fn lock(&self, email: &Email, until: DateTime<Utc>) -> Result<(), AppError> {
        let mut state = self.state.lock().expect("lock");
        if let Some(entry) = state.attempts.get_mut(email) {
            entry.2 = Some(until);
        }
        Ok(())
    }

    async fn clear(&self, email: &Email) -> Result<(), AppError> {
        self.state.lock().expect("lock").attempts.remove(email);
        Ok(())
    }
}
