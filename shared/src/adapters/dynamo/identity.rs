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

use super::{OutboxItem, cancellation_codes, is_conditional_failure, keys};
use crate::events::EventEnvelope;
use crate::identity::service::LoginPolicy;
use crate::identity::{DisplayName, Email, Phone, Role, User, UserId};
use crate::ports::{LoginAttempts, Rotation, SessionStore, StoredRefreshToken, UserStore};
use crate::{AppError, EventSource};

const PROFILE: &str = "PROFILE";
const ACTIVE: &str = "ACTIVE";
const ROTATED: &str = "ROTATED";
const REVOKED: &str = "REVOKED";

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

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
            email: Email::parse(&self.email).map_err(corrupt)?,
            name: DisplayName::parse(&self.name).map_err(corrupt)?,
            phone: Phone::parse(&self.phone).map_err(corrupt)?,
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
        let result = self
            .client
            .transact_write_items()
            .transact_items(self.put(UserItem::new(user), "attribute_not_exists(PK)")?)
            .transact_items(self.put(claim, "attribute_not_exists(PK)")?)
            .transact_items(self.outbox(EventSource::Identity, event)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") => Err(
                    AppError::conflict("EMAIL_TAKEN", "an account with this email already exists"),
                ),
                _ => Err(AppError::internal("creating an account", e)),
            },
        }
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, AppError> {
        let Some(claim) = self.get_item(email_key(email), "EMAIL").await? else {
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
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(self.outbox(EventSource::Identity, event)?)
            .send()
            .await
            .map_err(|e| AppError::internal("changing a role", e))?;
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
            "entity": "SESSION",
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
        self.client
            .transact_write_items()
            .transact_items(self.put(session, "attribute_not_exists(PK)")?)
            .transact_items(self.put(refresh, "attribute_not_exists(PK)")?)
            .send()
            .await
            .map_err(|e| AppError::internal("starting a session", e))?;
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
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(spend).build())
            .transact_items(TransactWriteItem::builder().update(extend).build())
            .transact_items(self.put(next, "attribute_not_exists(PK)")?)
            .send()
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
                _ => Err(AppError::internal("rotating a refresh token", e)),
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
}

fn attempts_key(email: &Email) -> String {
    format!("LOGIN#{email}")
}

impl LoginAttempts for DynamoIdentity {
    #[tracing::instrument(skip_all)]
    async fn locked_until(
        &self,
        email: &Email,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, AppError> {
        let item = self.get_item(attempts_key(email), "ATTEMPTS").await?;
        let until = item
            .as_ref()
            .and_then(|i| i.get("locked_until"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
        Ok(until.filter(|u| *u > now))
    }

    #[tracing::instrument(skip_all)]
    async fn record_failure(
        &self,
        email: &Email,
        policy: &LoginPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, AppError> {
        let key = attempts_key(email);
        let cutoff = (now - policy.window).timestamp();
        let keep_until = (now + policy.window.max(policy.lockout)).timestamp() + 60;
        // Count within the open window; if there is none, open one. Two
        // tries, because a concurrent failure may open the window first.
        let mut failures = None;
        for _ in 0..2 {
            let counted = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(&key))
                .key(keys::SK, s("ATTEMPTS"))
                .update_expression("SET failures = failures + :one, expires_at = :keep")
                .condition_expression("window_started_at > :cutoff")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":keep", n(keep_until))
                .expression_attribute_values(":cutoff", n(cutoff))
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await;
            match counted {
                Ok(out) => {
                    failures = out
                        .attributes()
                        .and_then(|a| a.get("failures"))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u32>().ok());
                    break;
                }
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(AppError::internal("counting a failed login", e)),
            }
            let opened = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(&key))
                .key(keys::SK, s("ATTEMPTS"))
                .update_expression(
                    "SET entity = :entity, failures = :one, window_started_at = :now, expires_at = :keep",
                )
                .condition_expression("attribute_not_exists(window_started_at) OR window_started_at <= :cutoff")
                .expression_attribute_values(":entity", s("LOGIN_ATTEMPTS"))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now.timestamp()))
                .expression_attribute_values(":keep", n(keep_until))
                .expression_attribute_values(":cutoff", n(cutoff))
                .send()
                .await;
            match opened {
                Ok(_) => {
                    failures = Some(1);
                    break;
                }
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(AppError::internal("counting a failed login", e)),
            }
        }
        if failures.unwrap_or(0) < policy.max_failures {
            return Ok(None);
        }
        let until = now + policy.lockout;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(&key))
            .key(keys::SK, s("ATTEMPTS"))
            .update_expression("SET locked_until = :until")
            .expression_attribute_values(":until", n(until.timestamp()))
            .send()
            .await
            .map_err(|e| AppError::internal("locking a login", e))?;
        Ok(Some(until))
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
