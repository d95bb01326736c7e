//! The use cases that handle a password: sign up and log in. They hash and
//! verify with argon2id ([`super::password`]), so they exist only with the
//! `passwords` feature; every other identity use case is in
//! [`super::service`].

use chrono::{DateTime, Utc};

use super::events::UserRegistered;
use super::password;
use super::service::{
    Identity, LoginRequest, LoginResponse, SignupRequest, TokenPair, pair, short_hash,
};
use super::tokens::{AccessTokens, RefreshToken};
use super::{DisplayName, Email, Password, Phone, Profile, Role, User, UserId};
use crate::ports::{Attempt, LoginAttempts, SessionStore, StoredRefreshToken, UserStore};
use crate::{AppError, CorrelationId, EventEnvelope};

/// The one answer to every failed login, whatever the reason.
fn invalid_credentials() -> AppError {
    AppError::unauthorized("INVALID_CREDENTIALS", "email or password is incorrect")
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = (until - now).num_seconds().max(1);
    AppError::RateLimited {
        code: "TOO_MANY_ATTEMPTS",
        message: format!("too many failed logins; try again in {secs} seconds"),
        retry_after_secs: secs.unsigned_abs(),
    }
}

/// Runs CPU-heavy password work off the async executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal("password hashing task", e))
}

/// Creates an account: validates every field, hashes the password, and
/// writes the user, the email claim and `UserRegistered` in one transaction.
pub async fn signup(
    users: &impl UserStore,
    request: SignupRequest,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Profile, AppError> {
    let email = Email::parse(&request.email)?;
    let name = DisplayName::parse(&request.name)?;
    let phone = Phone::parse(&request.phone)?;
    let password = Password::parse(&request.password, &email)?;
    let password_hash = blocking(move || password::hash(&password)).await??;
    let user = User {
        id: UserId::generate(),
        email,
        name,
        phone,
        role: Role::User,
        password_hash,
        created_at: now,
    };
    let registered = UserRegistered {
        user_id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role,
    };
    let event = EventEnvelope::of(&registered, correlation_id.clone())
        .map_err(|e| AppError::internal("encoding UserRegistered", e))?;
    users.create(&user, &event).await?;
    Ok(Profile::from(&user))
}

/// Checks the credentials and opens a session. Unknown email and wrong
/// password take the same time and give the same 401 (a malformed email or
/// an empty password is a 400: it says nothing about accounts). Each attempt
/// is counted before the password is checked; the attempt that reaches
/// `policy.max_failures` and fails locks the address (429) for a while.
pub async fn login<U: UserStore, S: SessionStore, A: LoginAttempts>(
    id: &Identity<'_, U, S, A>,
    request: LoginRequest,
    now: DateTime<Utc>,
) -> Result<LoginResponse, AppError> {
    let email = Email::parse(&request.email)?;
    let password = Password::for_login(&request.password)?;
    let number = match id.attempts.reserve(&email, id.policy, now).await? {
        Attempt::Granted { number } => number,
        Attempt::Locked { until } => return Err(locked(until, now)),
    };
    let user = id.users.find_by_email(&email).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = blocking(move || password::verify(&password, stored.as_deref())).await?;
    let user = match (matches, user) {
        (true, Some(user)) => user,
        _ if number >= id.policy.max_failures => {
            let until = now + id.policy.lockout;
            id.attempts.lock(&email, until).await?;
            tracing::warn!(email_hash = %short_hash(email.as_str()), "login locked after repeated failures");
            return Err(locked(until, now));
        }
        _ => return Err(invalid_credentials()),
    };
    id.attempts.clear(&email).await?;
    let tokens = start_session(id.tokens, id.sessions, &user, now).await?;
    Ok(LoginResponse {
        tokens,
        user: Profile::from(&user),
    })
}

/// Opens a session (a new refresh-token family) for `user` and answers its
/// first token pair.
async fn start_session(
    tokens: &AccessTokens,
    sessions: &impl SessionStore,
    user: &User,
    now: DateTime<Utc>,
) -> Result<TokenPair, AppError> {
    let family_id = uuid::Uuid::now_v7().to_string();
    let refresh = RefreshToken::generate();
    sessions
        .start(
            &StoredRefreshToken {
                hash: refresh.hash(),
                user_id: user.id.clone(),
                family_id: family_id.clone(),
                expires_at: now + tokens.settings().refresh_ttl,
            },
            now,
        )
        .await?;
    pair(tokens, user, &family_id, &refresh, now)
}
