//! The use cases that handle a password: sign up and log in. They hash and
//! verify with argon2id ([`super::password`]), so they exist only with the
//! `passwords` feature; every other identity use case is in
//! [`super::service`].

use chrono::{DateTime, Utc};

use super::events::{UserRegistered, UserUpdated};
use super::password;
use super::profile::{ProfileChange, UpdateProfileRequest};
use super::service::{
    Identity, LoginRequest, LoginResponse, Me, SignupRequest, TokenPair, account_not_found, pair,
    short_hash,
};
use super::tokens::{AccessTokens, RefreshToken};
use super::{
    Caller, DisplayName, Email, Language, LoginPolicy, Password, Phone, Profile, Role, User, UserId,
};
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
    let language = request
        .language
        .as_deref()
        .map(Language::parse)
        .transpose()?
        .unwrap_or_default();
    let password = Password::parse(&request.password, &email)?;
    let password_hash = blocking(move || password::hash(&password)).await??;
    let user = User {
        id: UserId::generate(),
        email,
        name,
        phone,
        language,
        role: Role::User,
        password_hash,
        created_at: now,
    };
    let registered = UserRegistered {
        user_id: user.id.clone(),
        role: user.role,
        language: user.language,
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

/// Checks an account holder's current password before a sensitive change
/// (email, password, deletion). Each try is counted as a login attempt on
/// the account's address, so a stolen access token cannot guess the
/// password any faster than the login form can: a wrong one is
/// `WRONG_PASSWORD` (403, not 401: the caller is signed in), and the try
/// that reaches the policy's limit locks the address (429) for the login
/// form too.
pub async fn verify_current_password(
    attempts: &impl LoginAttempts,
    policy: &LoginPolicy,
    user: &User,
    raw: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let password = Password::for_login(raw)?;
    let number = match attempts.reserve(&user.email, policy, now).await? {
        Attempt::Granted { number } => number,
        Attempt::Locked { until } => return Err(locked(until, now)),
    };
    let stored = user.password_hash.clone();
    if blocking(move || password::verify(&password, Some(&stored))).await? {
        attempts.clear(&user.email).await?;
        return Ok(());
    }
    if number >= policy.max_failures {
        let until = now + policy.lockout;
        attempts.lock(&user.email, until).await?;
        return Err(locked(until, now));
    }
    Err(AppError::Forbidden {
        code: "WRONG_PASSWORD",
        message: "the current password is incorrect".into(),
    })
}

/// `PATCH /me`: the caller changes their own name, phone, language, email
/// or password. Every field is checked before anything is read; a new
/// email or password needs the current password; only what differs from
/// the account is written, with one `UserUpdated` naming the fields (none
/// written: no event). A credential change ends every other session of
/// the account (`session`, the caller's own, stays).
pub async fn update_profile<T: UserStore + SessionStore + LoginAttempts>(
    store: &T,
    policy: &LoginPolicy,
    caller: &Caller,
    session: Option<&str>,
    request: UpdateProfileRequest,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Me, AppError> {
    let name = request
        .name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?;
    let phone = request.phone.as_deref().map(Phone::parse).transpose()?;
    let language = request
        .language
        .as_deref()
        .map(Language::parse)
        .transpose()?;
    let email = request.email.as_deref().map(Email::parse).transpose()?;
    let fields_given = [
        name.is_some(),
        phone.is_some(),
        language.is_some(),
        email.is_some(),
        request.password.is_some(),
    ];
    if !fields_given.contains(&true) {
        return Err(AppError::validation(
            "EMPTY_CHANGE",
            "give at least one of name, phone, language, email, password",
        ));
    }
    let credentials = email.is_some() || request.password.is_some();
    let current = match (&request.current_password, credentials) {
        (Some(current), true) => Some(current.as_str()),
        (None, true) => {
            return Err(AppError::validation(
                "CURRENT_PASSWORD_REQUIRED",
                "changing the email or the password needs current_password",
            ));
        }
        (_, false) => None,
    };
    let user = store
        .get(&caller.user_id)
        .await?
        .ok_or_else(account_not_found)?;
    let new_password = request
        .password
        .as_deref()
        .map(|raw| Password::parse(raw, email.as_ref().unwrap_or(&user.email)))
        .transpose()?;
    if let Some(current) = current {
        verify_current_password(store, policy, &user, current, now).await?;
    }
    let password_hash = match new_password {
        Some(password) => Some(blocking(move || password::hash(&password)).await??),
        None => None,
    };
    let change = ProfileChange {
        name: name.filter(|n| *n != user.name),
        phone: phone.filter(|p| *p != user.phone),
        language: language.filter(|l| *l != user.language),
        email: email.filter(|e| *e != user.email),
        password_hash,
    };
    if change.is_empty() {
        return Ok(Me::of(&user, caller));
    }
    let updated = UserUpdated {
        user_id: user.id.clone(),
        fields: change.fields(),
    };
    let event = EventEnvelope::of(&updated, correlation_id.clone())
        .map_err(|e| AppError::internal("encoding UserUpdated", e))?;
    let user = store.update(&user, &change, &event).await?;
    if change.changes_credentials() {
        let ended = store.revoke_all(&user.id, session, now).await?;
        tracing::info!(ended, "a credential changed; the other sessions ended");
    }
    Ok(Me::of(&user, caller))
}
