//! The identity use cases: sign up, log in, refresh, log out, who am I.
//!
//! Handlers parse the HTTP request into the `*Request` types below and call
//! these functions; every rule (password policy, lockout, rotation, reuse
//! detection) is decided here, against the [`crate::ports`] traits.

use chrono::{DateTime, Utc};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::events::AdminActivity;
use super::tokens::{AccessTokens, RefreshToken};
use super::{Caller, Email, Profile, Role, User};
use crate::ports::{LoginAttempts, Rotation, SessionStore, UserStore};
use crate::{AppError, CorrelationId, EventEnvelope};

pub use super::LoginPolicy;
#[cfg(feature = "passwords")]
pub use super::credentials::{login, signup, update_profile, verify_current_password};

/// POST /auth/signup. Its `Debug` leaves the password out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    pub phone: String,
    /// One of [`super::Language::ALL`]; English when absent.
    #[serde(default)]
    pub language: Option<String>,
}

/// POST /auth/login. Its `Debug` leaves the password out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// POST /auth/refresh and POST /auth/logout. Its `Debug` leaves the token out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A token pair, as login and refresh answer it. Its `Debug` leaves both
/// tokens out.
#[derive(Serialize, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// The answer to a successful login.
#[derive(Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub user: Profile,
}

impl fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupRequest")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("phone", &self.phone)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest").finish_non_exhaustive()
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish_non_exhaustive()
    }
}

/// Everything login needs.
pub struct Identity<'a, U, S, A> {
    pub users: &'a U,
    pub sessions: &'a S,
    pub attempts: &'a A,
    pub tokens: &'a AccessTokens,
    pub policy: &'a LoginPolicy,
}

impl<'a, T: UserStore + SessionStore + LoginAttempts> Identity<'a, T, T, T> {
    /// One store for accounts, sessions and attempts, as the DynamoDB
    /// adapter and its in-memory twin are.
    pub fn single_store(store: &'a T, tokens: &'a AccessTokens, policy: &'a LoginPolicy) -> Self {
        Self {
            users: store,
            sessions: store,
            attempts: store,
            tokens,
            policy,
        }
    }
}

pub(super) fn pair(
    tokens: &AccessTokens,
    user: &User,
    family_id: &str,
    refresh: &RefreshToken,
    now: DateTime<Utc>,
) -> Result<TokenPair, AppError> {
    let access = tokens.issue(&user.id, user.role, family_id, now)?;
    Ok(TokenPair {
        access_token: access.token,
        token_type: "Bearer".to_owned(),
        expires_in: access.expires_in,
        refresh_token: refresh.reveal().to_owned(),
        refresh_expires_in: tokens.settings().refresh_ttl.num_seconds(),
    })
}

/// Spends a refresh token and answers a new pair. The role in the new access
/// token is read from the account now, so a promotion takes effect here.
pub async fn refresh(
    users: &impl UserStore,
    sessions: &impl SessionStore,
    tokens: &AccessTokens,
    request: RefreshRequest,
    now: DateTime<Utc>,
) -> Result<TokenPair, AppError> {
    let presented = RefreshToken::parse(&request.refresh_token)?;
    let next = RefreshToken::generate();
    let refresh_ttl = tokens.settings().refresh_ttl;
    let rotation = sessions
        .rotate(&presented.hash(), &next.hash(), now + refresh_ttl, now)
        .await?;
    let (user_id, family_id) = match rotation {
        Rotation::Rotated { user_id, family_id } => (user_id, family_id),
        Rotation::Reused { family_id } => {
            tracing::warn!(%family_id, "a rotated refresh token was reused; session revoked");
            return Err(AppError::unauthorized(
                "REFRESH_TOKEN_REUSED",
                "this refresh token was already used; the session has been revoked, sign in again",
            ));
        }
        Rotation::Unknown | Rotation::Expired | Rotation::Revoked => {
            return Err(AppError::unauthorized(
                "INVALID_REFRESH_TOKEN",
                "the refresh token is invalid, expired or revoked; sign in again",
            ));
        }
    };
    let Some(user) = users.get(&user_id).await? else {
        return Err(AppError::unauthorized(
            "INVALID_REFRESH_TOKEN",
            "the refresh token is invalid, expired or revoked; sign in again",
        ));
    };
    pair(tokens, &user, &family_id, &next, now)
}

/// Revokes the session of a refresh token. Idempotent: an unknown or already
/// revoked token is not an error, so logout never tells what it found.
pub async fn logout(
    sessions: &impl SessionStore,
    request: RefreshRequest,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let token = RefreshToken::parse(&request.refresh_token)?;
    sessions.revoke(&token.hash(), now).await?;
    Ok(())
}

/// `GET /me`: the caller's profile and memberships.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    #[serde(flatten)]
    pub profile: Profile,
    pub companies: Vec<Membership>,
}

/// One company the caller is staff of, and their role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub company_id: super::CompanyId,
    pub role: super::StaffRole,
}

/// The caller's own profile, with the companies they are staff of and their
/// role in each (as of the authorizer's answer).
pub async fn me(users: &impl UserStore, caller: &Caller) -> Result<Me, AppError> {
    users
        .get(&caller.user_id)
        .await?
        .map(|u| Me::of(&u, caller))
        .ok_or_else(account_not_found)
}

impl Me {
    /// `user`'s profile, with the caller's memberships.
    pub fn of(user: &User, caller: &Caller) -> Self {
        Self {
            profile: Profile::from(user),
            companies: caller
                .staff
                .iter()
                .map(|(company_id, role)| Membership {
                    company_id: company_id.clone(),
                    role,
                })
                .collect(),
        }
    }
}

/// The caller's own account is gone (deleted meanwhile).
pub(crate) fn account_not_found() -> AppError {
    AppError::NotFound {
        code: "USER_NOT_FOUND",
        what: "the account".to_owned(),
    }
}

/// Gives an existing account a role, recording who did it as an
/// `AdminActivity` event in the same transaction, then ends the account's
/// sessions: tokens carrying the old role stop working, and the next login
/// carries the new one.
pub async fn change_role(
    users: &impl UserStore,
    sessions: &impl SessionStore,
    email: &str,
    role: Role,
    actor: &str,
    correlation_id: &CorrelationId,
) -> Result<Profile, AppError> {
    let email = Email::parse(email)?;
    let activity = AdminActivity::RoleChanged {
        email_hash: short_hash(email.as_str()),
        role,
        actor: actor.to_owned(),
    };
    let event = EventEnvelope::of(&activity, correlation_id.clone())
        .map_err(|e| AppError::internal("encoding AdminActivity", e))?;
    let user = users.set_role(&email, role, &event).await?;
    sessions
        .revoke_all(&user.id, None, event.occurred_at)
        .await?;
    Ok(Profile::from(&user))
}

/// A short, non-reversible tag for an email in logs (never the address).
pub(super) fn short_hash(value: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(value.as_bytes())[..6])
}

#[cfg(all(test, feature = "passwords"))]
mod tests {
    use super::*;

    /// Every test runs at one fixed instant: nothing here depends on today.
    fn fixed_now() -> DateTime<Utc> {
        use crate::clock::Clock;
        crate::clock::FixedClock::at_rfc3339("2027-01-15T10:00:00Z").now()
    }
    use crate::adapters::memory::MemoryIdentity;
    use crate::identity::tokens::{SigningKey, TokenSettings};

    const PASSWORD: &str = "correct horse 7 battery";

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            &SigningKey::new(vec![3; 32]).unwrap(),
            TokenSettings::default(),
        )
    }

    fn signup_request(email: &str) -> SignupRequest {
        SignupRequest {
            email: email.into(),
            password: PASSWORD.into(),
            name: "Ada Lovelace".into(),
            phone: "+44 20 7946 0958".into(),
            language: None,
        }
    }

    fn login_request(email: &str, password: &str) -> LoginRequest {
        LoginRequest {
            email: email.into(),
            password: password.into(),
        }
    }

    async fn with_account(store: &MemoryIdentity) -> Profile {
        signup(
            store,
            signup_request("Ada@Example.com"),
            &CorrelationId::generate(),
            fixed_now(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn signing_up_stores_a_hash_and_emits_user_registered() {
        let store = MemoryIdentity::default();
        let profile = with_account(&store).await;
        assert_eq!(profile.email, "ada@example.com");
        assert_eq!(profile.role, Role::User);
        let user = store
            .find_by_email(&Email::parse("ada@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(user.password_hash.starts_with("$argon2id$"));
        let events = store.events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, crate::EventType::UserRegistered);
        assert!(!events[0].data.to_string().contains("argon2"));
    }

    #[tokio::test]
    async fn the_same_email_in_another_case_is_taken() {
        let store = MemoryIdentity::default();
        with_account(&store).await;
        let err = signup(
            &store,
            signup_request(" ADA@example.COM"),
            &CorrelationId::generate(),
            fixed_now(),
        )
        .await
        .unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "EMAIL_TAKEN"));
        assert_eq!(store.user_count(), 1);
    }

    #[tokio::test]
    async fn unknown_email_and_wrong_password_get_the_same_answer() {
        let store = MemoryIdentity::default();
        with_account(&store).await;
        let policy = LoginPolicy::default();
        let tokens = tokens();
        let id = Identity::single_store(&store, &tokens, &policy);
        let wrong = login(
            &id,
            login_request("ada@example.com", "wrong horse 7 battery"),
            fixed_now(),
        )
        .await
        .unwrap_err();
        let unknown = login(&id, login_request("bob@example.com", PASSWORD), fixed_now())
            .await
            .unwrap_err();
        assert_eq!(wrong.status(), 401);
        assert_eq!(wrong.body(), unknown.body());
    }

    #[tokio::test]
    async fn repeated_failures_lock_the_account_even_for_the_right_password() {
        let store = MemoryIdentity::default();
        with_account(&store).await;
        let policy = LoginPolicy {
            max_failures: 3,
            ..LoginPolicy::default()
        };
        let tokens = tokens();
        let id = Identity::single_store(&store, &tokens, &policy);
        let now = fixed_now();
        let mut codes = Vec::new();
        for _ in 0..3 {
            let wrong = login_request("ada@example.com", "wrong horse 7 battery");
            codes.push(login(&id, wrong, now).await.unwrap_err().code());
        }
        assert_eq!(
            codes,
            [
                "INVALID_CREDENTIALS",
                "INVALID_CREDENTIALS",
                "TOO_MANY_ATTEMPTS"
            ]
        );
        let err = login(&id, login_request("ada@example.com", PASSWORD), now)
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (429, "TOO_MANY_ATTEMPTS"));
        let later = now + policy.lockout + chrono::Duration::seconds(1);
        assert!(
            login(&id, login_request("ada@example.com", PASSWORD), later)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_refresh_token_rotates_and_its_reuse_revokes_the_family() {
        let store = MemoryIdentity::default();
        with_account(&store).await;
        let policy = LoginPolicy::default();
        let tokens = tokens();
        let id = Identity::single_store(&store, &tokens, &policy);
        let now = fixed_now();
        let first = login(&id, login_request("ada@example.com", PASSWORD), now)
            .await
            .unwrap();
        let refresh_with = |t: &str| RefreshRequest {
            refresh_token: t.to_owned(),
        };
        let second = refresh(
            &store,
            &store,
            &tokens,
            refresh_with(&first.tokens.refresh_token),
            now,
        )
        .await
        .unwrap();
        assert_ne!(second.refresh_token, first.tokens.refresh_token);
        let (_, claims) = tokens.verify(&second.access_token, now).unwrap();

        let replay = refresh(
            &store,
            &store,
            &tokens,
            refresh_with(&first.tokens.refresh_token),
            now,
        )
        .await
        .unwrap_err();
        assert_eq!(
            (replay.status(), replay.code()),
            (401, "REFRESH_TOKEN_REUSED")
        );
        assert_eq!(store.session_revoked(&claims.sid), Some(true));
        let child = refresh(
            &store,
            &store,
            &tokens,
            refresh_with(&second.refresh_token),
            now,
        )
        .await
        .unwrap_err();
        assert_eq!(child.code(), "INVALID_REFRESH_TOKEN");
    }

    #[tokio::test]
    async fn logout_revokes_the_refresh_token_and_is_idempotent() {
        let store = MemoryIdentity::default();
        with_account(&store).await;
        let policy = LoginPolicy::default();
        let tokens = tokens();
        let id = Identity::single_store(&store, &tokens, &policy);
        let now = fixed_now();
        let session = login(&id, login_request("ada@example.com", PASSWORD), now)
            .await
            .unwrap();
        let req = || RefreshRequest {
            refresh_token: session.tokens.refresh_token.clone(),
        };
        logout(&store, req(), now).await.unwrap();
        logout(&store, req(), now).await.unwrap();
        let err = refresh(&store, &store, &tokens, req(), now)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_REFRESH_TOKEN");
    }
}
