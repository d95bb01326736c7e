//! Identity items: accounts, email claims, sessions, refresh tokens and
//! failed-login counters.
//!
//! | item            | PK                 | SK       |
//! |-----------------|--------------------|----------|
//! | account         | `USER#<id>`        | PROFILE  |
//! | email claim     | `EMAIL#<email>`    | EMAIL    |
//! | session         | `SESSION#<family>` | SESSION  |
//! | refresh token   | `REFRESH#<sha256>` | REFRESH  |
//! | failed logins   | `LOGIN#<sha256 of email>` | ATTEMPTS |

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    OutboxItem, cancellation_codes, is_conditional_failure, keys, n, s, transact_write,
    transaction_error,
};
use crate::events::EventEnvelope;
use crate::identity::profile::ProfileChange;
use crate::identity::service::LoginPolicy;
use crate::identity::{DisplayName, Email, Language, Phone, Role, User, UserId};
use crate::ports::{Attempt, LoginAttempts, Rotation, SessionStore, StoredRefreshToken, UserStore};
use crate::{AppError, EventSource};

const PROFILE: &str = "PROFILE";
const ACTIVE: &str = "ACTIVE";
const ROTATED: &str = "ROTATED";
const REVOKED: &str = "REVOKED";

pub(crate) mod attempts;
mod sessions;
pub(crate) mod users;

pub(crate) use users::UserItem;

/// Accounts, sessions and login counters in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoIdentity {
    pub(crate) client: Client,
    pub(crate) table: String,
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

#[cfg(test)]
mod tests {
    //! DynamoDB Local serializes transactions, so it never answers with a
    //! `TransactionConflict` or throttles; these tests inject both.

    use super::super::test_support::cancelled;
    use super::sessions::RefreshItem;
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
            language: crate::identity::Language::En,
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
