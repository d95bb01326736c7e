//! PATCH /admin/venues/{venue_id} (catalog:write): `{"name","city","status"}`,
//! any of them. A CLOSED venue is hidden from nothing but says so; its
//! resources are closed one by one (PATCH /admin/resources/{id}).

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::{CatalogStatus, VenueId, parse_name};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::Permission;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateVenue {
    name: Option<String>,
    city: Option<String>,
    status: Option<CatalogStatus>,
}

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        caller(&req)?.require(Permission::CatalogWrite)?;
        let id = VenueId::parse(&path_param(&req, "venue_id")?)?;
        let body: UpdateVenue = parse_json(&req)?;
        let mut fields = Vec::new();
        if let Some(name) = &body.name {
            let name = parse_name(name)?;
            fields.push((
                "GSI1SK",
                AttributeValue::S(format!("{}#{id}", name.to_lowercase())),
            ));
            fields.push(("name", AttributeValue::S(name)));
        }
        if let Some(city) = &body.city {
            fields.push(("city", AttributeValue::S(parse_name(city)?)));
        }
        if let Some(status) = body.status {
            fields.push(("status", AttributeValue::S(status_name(status).into())));
        }
        store
            .update_entity(
                format!("VENUE#{id}"),
                "VENUE",
                &fields,
                &format!("the venue {id}"),
            )
            .await?;
        store.get_venue(&id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

fn status_name(status: CatalogStatus) -> &'static str {
    match status {
        CatalogStatus::Open => "OPEN",
        CatalogStatus::Closed => "CLOSED",
    }
}
