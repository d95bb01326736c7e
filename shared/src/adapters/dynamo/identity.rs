//! Identity items: accounts, email claims, sessions, refresh tokens and
//! failed-login counters.
//!
//! | item            | PK                 | SK       |
//! |-----------------|--------------------|----------|
//! | account         | `USER#<id>`        | PROFILE  |
//! | email claim     | `EMAIL#<email>`    | EMAIL    |
//! | session         | `SESSION#<family>` | SESSION  |
//! | refresh token   | `REFRESH#<sha256>` | REFRESH  |
//! | failed logins   | `LOGIN#<email>`    | ATTEMPTS |

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    OutboxItem, cancellation_codes, is_conditional_failure, keys, n, s, transact_write,
    transaction_error,
};
use crate::events::EventEnvelope;
use crate::identity::service::LoginPolicy;
use crate::identity::{DisplayName, Email, Phone, Role, User, UserId};
use crate::ports::{Attempt, LoginAttempts, Rotation, SessionStore, StoredRefreshToken, UserStore};
use crate::{AppError, EventSource};

const PROFILE: &str = "PROFILE";
const ACTIVE: &str = "ACTIVE";
const ROTATED: &str = "ROTATED";
const REVOKED: &str = "REVOKED";

#[derive(Debug, Serialize, Deserialize)]
struct UserItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: String,
    email: String,
    name: String,
    phone: String,
    role: Role,
    password_hash: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UserItem {
    fn key(id: &UserId) -> String {
        format!("USER#{id}")
    }

    fn new(user: &User) -> Self {
        Self {
            pk: Self::key(&user.id),
            sk: PROFILE.to_owned(),
            entity: "USER".to_owned(),
            id: user.id.to_string(),
            email: user.email.to_string(),
            name: user.name.as_str().to_owned(),
            phone: user.phone.as_str().to_owned(),
            role: user.role,
            password_hash: user.password_hash.clone(),
            created_at: user.created_at,
            updated_at: user.created_at,
        }
    }

    fn into_user(self) -> Result<User, AppError> {
        let corrupt = |e: AppError| AppError::internal("reading a stored account", e.to_string());
        Ok(User {
            id: UserId::parse(&self.id).map_err(corrupt)?,
            email: Email::from_stored(self.email),
            name: DisplayName::from_stored(self.name),
            phone: Phone::from_stored(self.phone),
            role: self.role,
            password_hash: self.password_hash,
            created_at: self.created_at,
        })
    }
}

fn email_key(email: &Email) -> String {
    format!("EMAIL#{email}")
}

/// Accounts, sessions and login counters in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoIdentity {
    client: Client,
    table: String,
}

impl DynamoIdentity {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn put(&self, item: impl Serialize, condition: &str) -> Result<TransactWriteItem, AppError> {
        let item =
            serde_dynamo::to_item(item).map_err(|e| AppError::internal("encoding an item", e))?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .build()
            .map_err(|e| AppError::internal("building a put", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn outbox(
        &self,
        source: EventSource,
        event: &EventEnvelope,
    ) -> Result<TransactWriteItem, AppError> {
        let put = OutboxItem::new(source, event)
            .map_err(|e| AppError::internal("encoding the outbox item", e))?
            .to_put(&self.table)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn get_item(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<std::collections::HashMap<String, AttributeValue>>, AppError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AppError::internal("reading an item", e))?;
        Ok(out.item)
    }

    async fn user_item(&self, id: &UserId) -> Result<Option<User>, AppError> {
        match self.get_item(UserItem::key(id), PROFILE).await? {
            Some(item) => {
                let item: UserItem = serde_dynamo::from_item(item)
                    .map_err(|e| AppError::internal("decoding an account", e))?;
                item.into_user().map(Some)
            }
            None => Ok(None),
        }
    }

    async fn revoke_family(&self, family_id: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(format!("SESSION#{family_id}")))
            .key(keys::SK, s("SESSION"))
            .update_expression("SET #status = :revoked, revoked_at = :now")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":revoked", s(REVOKED))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if is_conditional_failure(&e) {
                    Ok(())
                } else {
                    Err(AppError::internal("revoking a session", e))
                }
            })
    }
}

impl UserStore for DynamoIdentity {
    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    async fn create(&self, user: &User, event: &EventEnvelope) -> Result<(), AppError> {
        let claim = serde_json::json!({
            "PK": email_key(&user.email),
            "SK": "EMAIL",
            "entity": "USER_EMAIL",
            "user_id": user.id,
        });
        let result = transact_write(
            &self.client,
            vec![
                self.put(UserItem::new(user), "attribute_not_exists(PK)")?,
                self.put(claim, "attribute_not_exists(PK)")?,
                self.outbox(EventSource::Identity, event)?,
            ],
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") => Err(
                    AppError::conflict("EMAIL_TAKEN", "an account with this email already exists"),
                ),
                _ => Err(transaction_error("creating an account", e)),
            },
        }
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, AppError> {
        let Some(claim) = self.get_item(email_key(email), "EMAIL").await? else {
            // The same second read a known email costs, so response time
            // does not tell whether an address has an account.
            self.get_item(UserItem::key(&UserId::nil()), PROFILE)
                .await?;
            return Ok(None);
        };
        let id = super::string_attr(&claim, "user_id")
            .ok_or_else(|| AppError::internal("reading an email claim", "no user_id"))?;
        let id = UserId::parse(id)
            .map_err(|e| AppError::internal("reading an email claim", e.to_string()))?;
        self.user_item(&id).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn get(&self, id: &UserId) -> Result<Option<User>, AppError> {
        self.user_item(id).await
    }

    #[tracing::instrument(skip_all, fields(role = role.as_str()))]
    async fn set_role(
        &self,
        email: &Email,
        role: Role,
        event: &EventEnvelope,
    ) -> Result<User, AppError> {
        let not_found = || AppError::NotFound {
            code: "USER_NOT_FOUND",
            what: format!("an account with the email {email}"),
        };
        let mut user = self.find_by_email(email).await?.ok_or_else(not_found)?;
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(UserItem::key(&user.id)))
            .key(keys::SK, s(PROFILE))
            .update_expression("SET #role = :role, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", s(role.as_str()))
            .expression_attribute_values(":now", s(event.occurred_at.to_rfc3339()))
            .build()
            .map_err(|e| AppError::internal("building the role update", e))?;
        transact_write(
            &self.client,
            vec![
                TransactWriteItem::builder().update(update).build(),
                self.outbox(EventSource::Identity, event)?,
            ],
        )
        .await
        .map_err(|e| transaction_error("changing a role", e))?;
        user.role = role;
        Ok(user)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RefreshItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    family_id: String,
    status: String,
    created_at: DateTime<Utc>,
    /// Epoch seconds; also the TTL attribute.
    expires_at: i64,
}

impl RefreshItem {
    fn key(hash: &str) -> String {
        format!("REFRESH#{hash}")
    }

    fn new(
        hash: &str,
        user_id: &str,
        family_id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: Self::key(hash),
            sk: "REFRESH".to_owned(),
            entity: "REFRESH_TOKEN".to_owned(),
            user_id: user_id.to_owned(),
            family_id: family_id.to_owned(),
            status: ACTIVE.to_owned(),
            created_at: now,
            expires_at: expires_at.timestamp(),
        }
    }
}

impl SessionStore for DynamoIdentity {
    #[tracing::instrument(skip_all, fields(family_id = %token.family_id))]
    async fn start(&self, token: &StoredRefreshToken, now: DateTime<Utc>) -> Result<(), AppError> {
        let session = serde_json::json!({
            "PK": format!("SESSION#{}", token.family_id),
            "SK": "SESSION",
            "GSI1PK": sessions_of(&token.user_id),
            "GSI1SK": format!("{}#{}", now.to_rfc3339(), token.family_id),
            "entity": "SESSION",
            "family_id": token.family_id,
            "user_id": token.user_id,
            "status": ACTIVE,
            "created_at": now,
            "expires_at": token.expires_at.timestamp(),
        });
        let refresh = RefreshItem::new(
            &token.hash,
            token.user_id.as_str(),
            &token.family_id,
            token.expires_at,
            now,
        );
        transact_write(
            &self.client,
            vec![
                self.put(session, "attribute_not_exists(PK)")?,
                self.put(refresh, "attribute_not_exists(PK)")?,
            ],
        )
        .await
        .map_err(|e| transaction_error("starting a session", e))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Rotation, AppError> {
        let Some(item) = self.get_item(RefreshItem::key(old_hash), "REFRESH").await? else {
            return Ok(Rotation::Unknown);
        };
        let old: RefreshItem = serde_dynamo::from_item(item)
            .map_err(|e| AppError::internal("decoding a refresh token", e))?;
        if old.expires_at <= now.timestamp() {
            return Ok(Rotation::Expired);
        }
        match old.status.as_str() {
            ACTIVE => {}
            REVOKED => return Ok(Rotation::Revoked),
            _ => {
                self.revoke_family(&old.family_id, now).await?;
                return Ok(Rotation::Reused {
                    family_id: old.family_id,
                });
            }
        }
        let spend = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(RefreshItem::key(old_hash)))
            .key(keys::SK, s("REFRESH"))
            .update_expression("SET #status = :rotated, rotated_at = :now")
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":rotated", s(ROTATED))
            .expression_attribute_values(":active", s(ACTIVE))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()
            .map_err(|e| AppError::internal("building the token update", e))?;
        let extend = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(format!("SESSION#{}", old.family_id)))
            .key(keys::SK, s("SESSION"))
            .update_expression("SET expires_at = :exp, last_rotated_at = :now")
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(ACTIVE))
            .expression_attribute_values(":exp", n(new_expires_at.timestamp()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()
            .map_err(|e| AppError::internal("building the session update", e))?;
        let next = RefreshItem::new(new_hash, &old.user_id, &old.family_id, new_expires_at, now);
        let result = transact_write(
            &self.client,
            vec![
                TransactWriteItem::builder().update(spend).build(),
                TransactWriteItem::builder().update(extend).build(),
                self.put(next, "attribute_not_exists(PK)")?,
            ],
        )
        .await;
        let family_id = old.family_id;
        match result {
            Ok(_) => Ok(Rotation::Rotated {
                user_id: UserId::parse(&old.user_id)
                    .map_err(|e| AppError::internal("reading a refresh token", e.to_string()))?,
                family_id,
            }),
            Err(e) => match cancellation_codes(&e) {
                // Spent by a concurrent request between our read and write: a replay.
                Some(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                    self.revoke_family(&family_id, now).await?;
                    Ok(Rotation::Reused { family_id })
                }
                Some(codes) if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") => {
                    Ok(Rotation::Revoked)
                }
                _ => Err(transaction_error("rotating a refresh token", e)),
            },
        }
    }

    #[tracing::instrument(skip_all)]
    async fn revoke(&self, hash: &str, now: DateTime<Utc>) -> Result<bool, AppError> {
        let Some(item) = self.get_item(RefreshItem::key(hash), "REFRESH").await? else {
            return Ok(false);
        };
        let token: RefreshItem = serde_dynamo::from_item(item)
            .map_err(|e| AppError::internal("decoding a refresh token", e))?;
        self.revoke_family(&token.family_id, now).await?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(RefreshItem::key(hash)))
            .key(keys::SK, s("REFRESH"))
            .update_expression("SET #status = :revoked")
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":revoked", s(REVOKED))
            .expression_attribute_values(":active", s(ACTIVE))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if is_conditional_failure(&e) {
                    Ok(())
                } else {
                    Err(AppError::internal("revoking a refresh token", e))
                }
            })?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn is_active(&self, family_id: &str) -> Result<bool, AppError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(format!("SESSION#{family_id}")))
            .key(keys::SK, s("SESSION"))
            .projection_expression("#status")
            .expression_attribute_names("#status", "status")
            .send()
            .await
            .map_err(|e| AppError::internal("reading a session", e))?
            .item;
        Ok(item.as_ref().and_then(|i| super::string_attr(i, "status")) == Some(ACTIVE))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user))]
    async fn revoke_all(&self, user: &UserId, now: DateTime<Utc>) -> Result<usize, AppError> {
        let mut revoked = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .filter_expression("#status = :active")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(sessions_of(user)))
                .expression_attribute_values(":active", s(ACTIVE))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| AppError::internal("listing sessions", e))?;
            for item in page.items() {
                if let Some(family) = super::string_attr(item, "family_id") {
                    self.revoke_family(family, now).await?;
                    revoked += 1;
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(revoked);
            }
        }
    }
}

/// GSI1 partition of a user's sessions.
fn sessions_of(user: &UserId) -> String {
    format!("USER#{user}#SESSIONS")
}

fn attempts_key(email: &Email) -> String {
    format!("LOGIN#{email}")
}

impl LoginAttempts for DynamoIdentity {
    #[tracing::instrument(skip_all)]
    async fn reserve(
        &self,
        email: &Email,
        policy: &LoginPolicy,
        now: DateTime<Utc>,
    ) -> Result<Attempt, AppError> {
        let key = attempts_key(email);
        let cutoff = (now - policy.window).timestamp();
        let keep_until = (now + policy.window.max(policy.lockout)).timestamp() + 60;
        // A concurrent attempt may open the window between our two writes;
        // a few rounds settle it.
        for _ in 0..3 {
            let counted = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(&key))
                .key(keys::SK, s("ATTEMPTS"))
                .update_expression("SET failures = failures + :one, expires_at = :keep")
                .condition_expression(
                    "window_started_at > :cutoff AND failures < :max \
                     AND (attribute_not_exists(locked_until) OR locked_until <= :now)",
                )
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":keep", n(keep_until))
                .expression_attribute_values(":cutoff", n(cutoff))
                .expression_attribute_values(":max", n(policy.max_failures))
                .expression_attribute_values(":now", n(now.timestamp()))
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await;
            match counted {
                Ok(out) => {
                    let number = out
                        .attributes()
                        .and_then(|a| a.get("failures"))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u32>().ok())
                        .unwrap_or(policy.max_failures);
                    return Ok(Attempt::Granted { number });
                }
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(AppError::internal("counting a login attempt", e)),
            }
            // No open window, or a lock that has ended: start counting afresh.
            let opened = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(&key))
                .key(keys::SK, s("ATTEMPTS"))
                .update_expression(
                    "SET entity = :entity, failures = :one, window_started_at = :now, \
                     expires_at = :keep REMOVE locked_until",
                )
                .condition_expression(
                    "(attribute_not_exists(locked_until) OR locked_until <= :now) \
                     AND (attribute_not_exists(window_started_at) OR window_started_at <= :cutoff \
                          OR attribute_exists(locked_until))",
                )
                .expression_attribute_values(":entity", s("LOGIN_ATTEMPTS"))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now.timestamp()))
                .expression_attribute_values(":keep", n(keep_until))
                .expression_attribute_values(":cutoff", n(cutoff))
                .send()
                .await;
            match opened {
                Ok(_) => return Ok(Attempt::Granted { number: 1 }),
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(AppError::internal("counting a login attempt", e)),
            }
            // Neither: locked, or the limit is used up by attempts in flight.
            let item = self
                .get_item(key.clone(), "ATTEMPTS")
                .await?
                .unwrap_or_default();
            let number = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
            };
            if let Some(until) = number("locked_until").filter(|u| *u > now.timestamp()) {
                return Ok(Attempt::Locked {
                    until: DateTime::from_timestamp(until, 0).unwrap_or(now + policy.lockout),
                });
            }
            let window_open = number("window_started_at").is_some_and(|w| w > cutoff);
            let used_up = number("failures").is_some_and(|f| f >= i64::from(policy.max_failures));
            if window_open && used_up {
                return Ok(Attempt::Locked {
                    until: now + policy.lockout,
                });
            }
        }
        Err(AppError::Unavailable {
            code: "TRY_AGAIN",
            message: "too many simultaneous sign-ins for this account; try again".to_owned(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn lock(&self, email: &Email, until: DateTime<Utc>) -> Result<(), AppError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(attempts_key(email)))
            .key(keys::SK, s("ATTEMPTS"))
            .update_expression("SET locked_until = :until")
            .expression_attribute_values(":until", n(until.timestamp()))
            .send()
            .await
            .map_err(|e| AppError::internal("locking a login", e))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn clear(&self, email: &Email) -> Result<(), AppError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(attempts_key(email)))
            .key(keys::SK, s("ATTEMPTS"))
            .send()
            .await
            .map_err(|e| AppError::internal("clearing failed logins", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! DynamoDB Local serializes transactions, so it never answers with a
    //! `TransactionConflict` or throttles; these tests inject both.

    use super::super::test_support::cancelled;
    use super::*;
    use crate::CorrelationId;
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn user() -> User {
        User {
            id: UserId::generate(),
            email: Email::parse("ada@example.com").unwrap(),
            name: DisplayName::parse("Ada").unwrap(),
            phone: Phone::parse("+442079460958").unwrap(),
            role: Role::User,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: Utc::now(),
        }
    }

    fn registered() -> EventEnvelope {
        EventEnvelope::of(
            &crate::events::Ping::Diagnostic {
                note: "registered".into(),
            },
            CorrelationId::generate(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_signup_that_loses_a_transaction_conflict_is_retried_and_then_sees_the_email_taken() {
        let conflict = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["None", "TransactionConflict", "None"]));
        let taken = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["None", "ConditionalCheckFailed", "None"]));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&conflict, &taken]);
        let err = DynamoIdentity::new(client, "t")
            .create(&user(), &registered())
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "EMAIL_TAKEN"));
        assert_eq!((conflict.num_calls(), taken.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_signup_retried_past_a_conflict_succeeds() {
        let conflict = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["TransactionConflict", "None", "None"]));
        let ok = mock!(Client::transact_write_items)
            .then_output(|| TransactWriteItemsOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&conflict, &ok]);
        DynamoIdentity::new(client, "t")
            .create(&user(), &registered())
            .await
            .unwrap();
        assert_eq!(ok.num_calls(), 1);
    }

    #[tokio::test]
    async fn throttling_that_never_ends_is_a_503_not_a_500() {
        let throttled = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["ThrottlingError", "None", "None"]));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&throttled]);
        let err = DynamoIdentity::new(client, "t")
            .create(&user(), &registered())
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (503, "CONTENTION"));
        assert_eq!(throttled.num_calls(), 4);
    }

    #[tokio::test]
    async fn a_refresh_token_spent_concurrently_counts_as_reuse_and_revokes_the_family() {
        let now = Utc::now();
        let token = RefreshItem::new(
            "old",
            &UserId::generate().to_string(),
            "fam-1",
            now + chrono::Duration::days(1),
            now,
        );
        let read = mock!(Client::get_item).then_output(move || {
            GetItemOutput::builder()
                .set_item(Some(serde_dynamo::to_item(&token).unwrap()))
                .build()
        });
        let conflict = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["TransactionConflict", "None", "None"]));
        let spent = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["ConditionalCheckFailed", "None", "None"]));
        let revoke = mock!(Client::update_item)
            .match_requests(|r| {
                r.key()
                    .and_then(|k| k.get("PK"))
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|pk| pk == "SESSION#fam-1")
            })
            .then_output(|| UpdateItemOutput::builder().build());
        let client = mock_client!(
            aws_sdk_dynamodb,
            RuleMode::Sequential,
            [&read, &conflict, &spent, &revoke]
        );
        let rotation = DynamoIdentity::new(client, "t")
            .rotate("old", "new", now + chrono::Duration::days(7), now)
            .await
            .unwrap();
        assert_eq!(
            rotation,
            Rotation::Reused {
                family_id: "fam-1".into()
            }
        );
        assert_eq!(revoke.num_calls(), 1);
    }
}
