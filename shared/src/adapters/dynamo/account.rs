//! Closing an account: identity's, bookings' and payments' items of one
//! account in one transaction (see [`crate::ports::AccountCloser`]).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, TransactWriteItem, Update};

use super::booking::writes::usage_pk;
use super::identity::users::email_key;
use super::identity::{UserItem, attempts::attempts_key};
use super::payment::{LedgerItem, wallet_pk};
use super::{
    OutboxItem, cancellation_codes, keys, n, put_write, s, transact_write, transaction_error,
};
use crate::AppError;
use crate::EventSource;
use crate::payment::{LedgerEntry, LedgerKind};
use crate::ports::{AccountCloser, CloseRefused, Closing};

/// Ends accounts in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoAccounts {
    client: Client,
    table: String,
}

impl DynamoAccounts {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn delete(
        &self,
        pk: String,
        sk: &str,
        condition: Option<(&str, &str, String)>,
    ) -> Result<TransactWriteItem, AppError> {
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk));
        if let Some((expression, name, value)) = condition {
            delete = delete
                .condition_expression(expression)
                .expression_attribute_values(name, s(value));
        }
        let delete = delete
            .build()
            .map_err(|e| AppError::internal("building a delete", e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

/// What each item of the closing transaction stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Account,
    Holds,
    Wallet,
    Other,
}

impl AccountCloser for DynamoAccounts {
    #[tracing::instrument(skip_all, fields(user_id = %closing.user.id))]
    async fn close(&self, closing: &Closing<'_>) -> Result<(), CloseRefused> {
        let user = closing.user;
        let mut parts = Vec::new();
        let mut items = Vec::new();
        let profile = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(UserItem::key(&user.id)))
            .key(keys::SK, s("PROFILE"))
            .condition_expression("email = :email AND password_hash = :hash")
            .expression_attribute_values(":email", s(user.email.to_string()))
            .expression_attribute_values(":hash", s(&user.password_hash))
            .build()
            .map_err(|e| AppError::internal("building the account delete", e))?;
        parts.push(Part::Account);
        items.push(TransactWriteItem::builder().delete(profile).build());
        parts.push(Part::Account);
        items.push(self.delete(
            email_key(&user.email),
            "EMAIL",
            Some(("user_id = :id", ":id", user.id.to_string())),
        )?);
        parts.push(Part::Other);
        items.push(self.delete(attempts_key(&user.email), "ATTEMPTS", None)?);
        // Every booking starts as an unpaid hold counted here: one made
        // while the deletion read the bookings refuses the deletion.
        let holds = ConditionCheck::builder()
            .table_name(&self.table)
            .key(keys::PK, s(usage_pk(&user.id)))
            .key(keys::SK, s("HOLDS"))
            .condition_expression("attribute_not_exists(pending) OR pending <= :zero")
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(|e| AppError::internal("building the holds check", e))?;
        parts.push(Part::Holds);
        items.push(TransactWriteItem::builder().condition_check(holds).build());
        let now = closing.event.occurred_at;
        if closing.forfeit > 0 {
            let wallet = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(wallet_pk(&user.id)))
                .key(keys::SK, s("WALLET"))
                .update_expression("SET balance = :zero, updated_at = :now")
                .condition_expression("balance = :before")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":before", n(closing.forfeit))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .build()
                .map_err(|e| AppError::internal("building the wallet write-off", e))?;
            parts.push(Part::Wallet);
            items.push(TransactWriteItem::builder().update(wallet).build());
            let entry = LedgerEntry {
                entry_id: uuid::Uuid::now_v7().to_string(),
                kind: LedgerKind::Forfeit,
                points: -i64::try_from(closing.forfeit).unwrap_or(i64::MAX),
                balance_after: 0,
                booking_id: None,
                charge_id: None,
                reason: Some("the account was deleted; its holder gave up the points".into()),
                granted_by: None,
                at: now,
            };
            parts.push(Part::Other);
            items.push(put_write(
                &self.table,
                LedgerItem::of(&user.id, &entry),
                Some("attribute_not_exists(PK)"),
            )?);
        } else {
            let empty = ConditionCheck::builder()
                .table_name(&self.table)
                .key(keys::PK, s(wallet_pk(&user.id)))
                .key(keys::SK, s("WALLET"))
                .condition_expression("attribute_not_exists(PK) OR balance = :zero")
                .expression_attribute_values(":zero", n(0))
                .build()
                .map_err(|e| AppError::internal("building the wallet check", e))?;
            parts.push(Part::Wallet);
            items.push(TransactWriteItem::builder().condition_check(empty).build());
        }
        let outbox = OutboxItem::new(EventSource::Identity, closing.event)
            .map_err(|e| AppError::internal("encoding the outbox item", e))?
            .to_put(&self.table)?;
        parts.push(Part::Other);
        items.push(TransactWriteItem::builder().put(outbox).build());
        let Err(e) = transact_write(&self.client, items).await else {
            return Ok(());
        };
        let codes = cancellation_codes(&e).unwrap_or_default();
        let failed = |part: Part| {
            parts
                .iter()
                .zip(&codes)
                .any(|(p, code)| *p == part && code == "ConditionalCheckFailed")
        };
        Err(if failed(Part::Account) {
            CloseRefused::AccountChanged
        } else if failed(Part::Holds) {
            CloseRefused::LiveHolds
        } else if failed(Part::Wallet) {
            CloseRefused::WalletChanged
        } else {
            CloseRefused::Failed(transaction_error("deleting an account", e))
        })
    }
}
