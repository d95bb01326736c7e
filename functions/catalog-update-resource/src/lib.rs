//! PATCH /admin/resources/{resource_id} (catalog:write): `{"name","status"}`.
//! A CLOSED resource refuses new bookings of any of its slots or ranges
//! (409 RESOURCE_CLOSED, checked inside the booking's transaction) and keeps
//! the bookings it has.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::{CatalogStatus, ResourceId, parse_name};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::Permission;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateResource {
    name: Option<String>,
    status: Option<CatalogStatus>,
}

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        caller(&req)?.require(Permission::CatalogWrite)?;
        let id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let body: UpdateResource = parse_json(&req)?;
        let mut fields = Vec::new();
        if let Some(name) = &body.name {
            let name = parse_name(name)?;
            fields.push((
                "GSI1SK",
                AttributeValue::S(format!("{}#{id}", name.to_lowercase())),
            ));
            fields.push(("name", AttributeValue::S(name)));
        }
        if let Some(status) = body.status {
            let value = match status {
                CatalogStatus::Open => "OPEN",
                CatalogStatus::Closed => "CLOSED",
            };
            fields.push(("status", AttributeValue::S(value.into())));
        }
        store
            .update_entity(
                format!("RESOURCE#{id}"),
                "RESOURCE",
                &fields,
                &format!("the resource {id}"),
            )
            .await?;
        store.get_resource(&id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}
