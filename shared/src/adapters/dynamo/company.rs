//! Companies and their staff in the platform table.
//!
//! | item        | PK              | SK              | GSI1PK               | GSI1SK              |
//! |-------------|-----------------|-----------------|----------------------|---------------------|
//! | company     | `COMPANY#<id>`  | `COMPANY`       | `COMPANIES`          | `<name>#<id>`       |
//! | member      | `COMPANY#<id>`  | `STAFF#<user>`  | `USER#<user>#STAFF`  | `<company id>`      |
//! | memberships | `USER#<user>`   | `STAFF_COUNT`   |                      |                     |
//!
//! The company item counts its owners, so removing or demoting the last
//! one fails its condition; the memberships item counts the companies an
//! account is staff of, bounded by `MAX_MEMBERSHIPS`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    cancellation_codes, get_consistent, keys, n, outbox_write, put_write, s, transact_write,
    transaction_error,
};
use crate::company::ports::{CompanyChange, CompanyReader, CompanyStore, StaffRefused};
use crate::company::service::company_not_found;
use crate::company::{Company, CompanyStatus, Member};
use crate::identity::staff::MAX_MEMBERSHIPS;
use crate::identity::{CompanyId, Email, StaffRole, UserId};
use crate::{AppError, EventEnvelope, EventSource};

#[derive(Debug, Clone)]
pub struct DynamoCompanies {
    client: Client,
    table: String,
}

impl DynamoCompanies {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }
}

pub(crate) fn company_pk(id: &CompanyId) -> String {
    format!("COMPANY#{id}")
}

#[derive(Debug, Serialize, Deserialize)]
struct CompanyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity: String,
    id: CompanyId,
    name: String,
    contact_email: Email,
    status: CompanyStatus,
    created_at: DateTime<Utc>,
    owners: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct MemberItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity: String,
    #[serde(flatten)]
    member: Member,
}

fn company_of(item: CompanyItem) -> Company {
    Company {
        id: item.id,
        name: item.name,
        contact_email: item.contact_email,
        status: item.status,
        created_at: item.created_at,
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    item: std::collections::HashMap<String, AttributeValue>,
    what: &'static str,
) -> Result<T, AppError> {
    serde_dynamo::from_item(item).map_err(|e| AppError::internal(what, e))
}

impl DynamoCompanies {
    fn key_update(&self, pk: String, sk: &str) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
    }

    /// The company's owners counted `delta` more; a decrease on the
    /// condition that one is left.
    fn count_owners(&self, company: &CompanyId, delta: i32) -> Result<TransactWriteItem, AppError> {
        let condition = if delta < 0 {
            "attribute_exists(PK) AND owners > :one"
        } else {
            "attribute_exists(PK) AND owners >= :zero"
        };
        let update = self
            .key_update(company_pk(company), "COMPANY")
            .update_expression("ADD owners :d")
            .condition_expression(condition)
            .expression_attribute_values(":d", n(delta))
            .expression_attribute_values(
                if delta < 0 { ":one" } else { ":zero" },
                n(i32::from(delta < 0)),
            )
            .build()
            .map_err(|e| AppError::internal("building the owners count", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The account's memberships counted `delta` more; an increase on the
    /// condition that the bound holds.
    fn count_memberships(&self, user: &UserId, delta: i32) -> Result<TransactWriteItem, AppError> {
        let mut update = self
            .key_update(format!("USER#{user}"), "STAFF_COUNT")
            .update_expression("ADD companies :d SET entity = :entity")
            .expression_attribute_values(":d", n(delta))
            .expression_attribute_values(":entity", s("STAFF_COUNT"));
        if delta > 0 {
            update = update
                .condition_expression("attribute_not_exists(companies) OR companies < :most")
                .expression_attribute_values(":most", n(MAX_MEMBERSHIPS));
        }
        let update = update
            .build()
            .map_err(|e| AppError::internal("building the memberships count", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Sends a staff change whose items are: the member, the owners count,
    /// then the rest. A refusal is read from which of the first three failed.
    async fn send_staff(&self, items: Vec<TransactWriteItem>) -> Result<(), StaffRefused> {
        let Err(err) = transact_write(&self.client, items).await else {
            return Ok(());
        };
        let failed = |i: usize| {
            cancellation_codes(&err)
                .and_then(|codes| codes.get(i).cloned())
                .is_some_and(|code| code == "ConditionalCheckFailed")
        };
        if failed(0) {
            Err(StaffRefused::Moved)
        } else if failed(1) {
            Err(StaffRefused::LastOwner)
        } else if failed(2) {
            Err(StaffRefused::TooManyMemberships)
        } else {
            Err(StaffRefused::Failed(transaction_error(
                "changing staff",
                err,
            )))
        }
    }

    async fn query_all(
        &self,
        index: Option<&str>,
        key: &str,
        value: String,
        sk_prefix: Option<&str>,
    ) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>, AppError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let condition = match sk_prefix {
                Some(_) => format!("{key} = :v AND begins_with(SK, :prefix)"),
                None => format!("{key} = :v"),
            };
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .expression_attribute_values(":v", s(value.clone()))
                .set_exclusive_start_key(start.take());
            if let Some(prefix) = sk_prefix {
                query = query.expression_attribute_values(":prefix", s(prefix));
            }
            let page = query
                .send()
                .await
                .map_err(|e| AppError::internal("querying companies", e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok(items),
            }
        }
    }
}

impl CompanyReader for DynamoCompanies {
    async fn company(&self, id: &CompanyId) -> Result<Option<Company>, AppError> {
        get_consistent(&self.client, &self.table, company_pk(id), "COMPANY")
            .await?
            .map(|item| decode::<CompanyItem>(item, "decoding a company").map(company_of))
            .transpose()
    }

    async fn memberships(&self, user: &UserId) -> Result<Vec<(CompanyId, StaffRole)>, AppError> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK",
            format!("USER#{user}#STAFF"),
            None,
        )
        .await?
        .into_iter()
        .map(|item| {
            decode::<MemberItem>(item, "decoding a member")
                .map(|m| (m.member.company_id, m.member.role))
        })
        .collect()
    }
}

impl CompanyStore for DynamoCompanies {
    async fn create(&self, company: &Company, activity: &EventEnvelope) -> Result<(), AppError> {
        let item = CompanyItem {
            pk: company_pk(&company.id),
            sk: "COMPANY".into(),
            gsi1pk: "COMPANIES".into(),
            gsi1sk: format!("{}#{}", company.name.to_lowercase(), company.id),
            entity: "COMPANY".into(),
            id: company.id.clone(),
            name: company.name.clone(),
            contact_email: company.contact_email.clone(),
            status: company.status,
            created_at: company.created_at,
            owners: 0,
        };
        let items = vec![
            put_write(&self.table, item, Some("attribute_not_exists(PK)"))?,
            outbox_write(&self.table, EventSource::Identity, activity)?,
        ];
        transact_write(&self.client, items)
            .await
            .map_err(|e| transaction_error("creating a company", e))
    }

    async fn update(
        &self,
        id: &CompanyId,
        change: &CompanyChange,
        activity: &EventEnvelope,
    ) -> Result<Company, AppError> {
        let mut sets = Vec::new();
        let mut update = self.key_update(company_pk(id), "COMPANY");
        if let Some(name) = &change.name {
            sets.push("#name = :name, GSI1SK = :sort");
            update = update
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", s(name.clone()))
                .expression_attribute_values(":sort", s(format!("{}#{id}", name.to_lowercase())));
        }
        if let Some(email) = &change.contact_email {
            sets.push("contact_email = :email");
            update = update.expression_attribute_values(":email", s(email.to_string()));
        }
        if let Some(status) = change.status {
            sets.push("#status = :status");
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        let update = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(|e| AppError::internal("building a company update", e))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            outbox_write(&self.table, EventSource::Identity, activity)?,
        ];
        if let Err(err) = transact_write(&self.client, items).await {
            let missing = cancellation_codes(&err)
                .is_some_and(|codes| codes.first().is_some_and(|c| c == "ConditionalCheckFailed"));
            return Err(if missing {
                company_not_found(id)
            } else {
                transaction_error("changing a company", err)
            });
        }
        self.company(id).await?.ok_or_else(|| company_not_found(id))
    }

    async fn list(&self) -> Result<Vec<Company>, AppError> {
        self.query_all(Some(keys::GSI1), "GSI1PK", "COMPANIES".into(), None)
            .await?
            .into_iter()
            .map(|item| decode::<CompanyItem>(item, "decoding a company").map(company_of))
            .collect()
    }

    async fn staff(&self, id: &CompanyId) -> Result<Vec<Member>, AppError> {
        self.query_all(None, "PK", company_pk(id), Some("STAFF#"))
            .await?
            .into_iter()
            .map(|item| decode::<MemberItem>(item, "decoding a member").map(|m| m.member))
            .collect()
    }

    async fn put_member(
        &self,
        member: &Member,
        previous: Option<StaffRole>,
        activity: &EventEnvelope,
    ) -> Result<(), StaffRefused> {
        let failed = StaffRefused::Failed;
        let item = MemberItem {
            pk: company_pk(&member.company_id),
            sk: format!("STAFF#{}", member.user_id),
            gsi1pk: format!("USER#{}#STAFF", member.user_id),
            gsi1sk: member.company_id.to_string(),
            entity: "STAFF".into(),
            member: member.clone(),
        };
        let put = match previous {
            None => put_write(&self.table, item, Some("attribute_not_exists(PK)")),
            Some(role) => {
                let mut put = put_write(&self.table, item, Some("#role = :was")).map_err(failed)?;
                if let Some(p) = put.put.as_mut() {
                    p.expression_attribute_names = Some([("#role".into(), "role".into())].into());
                    p.expression_attribute_values =
                        Some([(":was".into(), s(role.as_str()))].into());
                }
                Ok(put)
            }
        }
        .map_err(failed)?;
        let owner = |r: Option<StaffRole>| i32::from(r == Some(StaffRole::Owner));
        let delta = owner(Some(member.role)) - owner(previous);
        let mut items = vec![
            put,
            self.count_owners(&member.company_id, delta)
                .map_err(failed)?,
        ];
        if previous.is_none() {
            items.push(self.count_memberships(&member.user_id, 1).map_err(failed)?);
        }
        items.push(outbox_write(&self.table, EventSource::Identity, activity).map_err(failed)?);
        self.send_staff(items).await
    }

    async fn remove_member(
        &self,
        member: &Member,
        activity: &EventEnvelope,
    ) -> Result<(), StaffRefused> {
        let failed = StaffRefused::Failed;
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(company_pk(&member.company_id)))
            .key(keys::SK, s(format!("STAFF#{}", member.user_id)))
            .condition_expression("#role = :was")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":was", s(member.role.as_str()))
            .build()
            .map_err(|e| failed(AppError::internal("building a member delete", e)))?;
        let delta = -i32::from(member.role == StaffRole::Owner);
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.count_owners(&member.company_id, delta)
                .map_err(failed)?,
            self.count_memberships(&member.user_id, -1)
                .map_err(failed)?,
            outbox_write(&self.table, EventSource::Identity, activity).map_err(failed)?,
        ];
        self.send_staff(items).await
    }
}
