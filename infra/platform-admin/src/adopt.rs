//! `platform-admin adopt-venues`: gives every venue written before
//! companies existed to the default company, and every booking of a venue
//! its venue's company. Idempotent: each write is conditional on the item
//! having no company yet, so a second run changes nothing and says so.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use shared::adapters::dynamo::company::DynamoCompanies;
use shared::company::ports::{CompanyReader, CompanyStore};
use shared::company::{Company, CompanyStatus};
use shared::identity::events::AdminActivity;
use shared::identity::{CompanyId, Email};
use shared::{AppError, CorrelationId, EventEnvelope};

/// The default company's id: the same on every deployment.
pub const DEFAULT_COMPANY: &str = "0190d000-0000-7000-8000-000000000001";

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// Every item of the table with `entity = <entity>` and no `company_id`.
async fn without_company(
    client: &Client,
    table: &str,
    entity: &str,
) -> Result<Vec<HashMap<String, AttributeValue>>, AppError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("entity = :entity AND attribute_not_exists(company_id)")
            .expression_attribute_values(":entity", s(entity))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| AppError::internal("scanning the table", e))?;
        items.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(key) => start = Some(key.clone()),
            None => return Ok(items),
        }
    }
}

/// Sets `company_id` on the item, unless it has one already; whether it did.
async fn give(
    client: &Client,
    table: &str,
    item: &HashMap<String, AttributeValue>,
    company: &str,
) -> Result<bool, AppError> {
    let key = |k: &str| item.get(k).cloned().unwrap_or_else(|| s(""));
    match client
        .update_item()
        .table_name(table)
        .key("PK", key("PK"))
        .key("SK", key("SK"))
        .update_expression("SET company_id = :company")
        .condition_expression("attribute_exists(PK) AND attribute_not_exists(company_id)")
        .expression_attribute_values(":company", s(company))
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if shared::adapters::dynamo::is_conditional_failure(&e) => Ok(false),
        Err(e) => Err(AppError::internal("adopting an item", e)),
    }
}

pub async fn adopt(client: &Client, table: &str, contact: &str) -> Result<String, AppError> {
    let companies = DynamoCompanies::new(client.clone(), table.to_owned());
    let id = CompanyId::parse(DEFAULT_COMPANY)?;
    let created = if companies.company(&id).await?.is_none() {
        let company = Company {
            id: id.clone(),
            name: "Default company".into(),
            contact_email: Email::parse(contact)?,
            status: CompanyStatus::Active,
            created_at: shared::clock::Clock::now(&shared::clock::SystemClock),
        };
        let activity = AdminActivity::CompanyCreated {
            company_id: id.clone(),
            name: company.name.clone(),
            actor: "platform-admin adopt-venues".into(),
        };
        let activity = EventEnvelope::of(&activity, CorrelationId::generate())
            .map_err(|e| AppError::internal("encoding AdminActivity", e))?;
        companies.create(&company, &activity).await?;
        true
    } else {
        false
    };
    let mut venues = 0;
    for venue in without_company(client, table, "VENUE").await? {
        if give(client, table, &venue, DEFAULT_COMPANY).await? {
            venues += 1;
        }
    }
    // Each booking takes its venue's company (now every venue has one).
    let mut of_venue: HashMap<String, Option<String>> = HashMap::new();
    let mut bookings = 0;
    for booking in without_company(client, table, "BOOKING").await? {
        let Some(AttributeValue::S(venue)) = booking.get("venue_id") else {
            continue;
        };
        if !of_venue.contains_key(venue) {
            let item = client
                .get_item()
                .table_name(table)
                .key("PK", s(&format!("VENUE#{venue}")))
                .key("SK", s("VENUE"))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| AppError::internal("reading a venue", e))?;
            let company = item
                .item()
                .and_then(|i| i.get("company_id"))
                .and_then(|v| v.as_s().ok())
                .cloned();
            of_venue.insert(venue.clone(), company);
        }
        if let Some(Some(company)) = of_venue.get(venue)
            && give(client, table, &booking, company).await?
        {
            bookings += 1;
        }
    }
    Ok(format!(
        "default company {DEFAULT_COMPANY} ({}); venues moved to it: {venues}; bookings given their venue's company: {bookings}",
        if created { "created" } else { "already there" }
    ))
}
