//! POST /admin/resources/{resource_id}/slots/generate (catalog:write):
//! creates the slots of a daily pattern over a date range. Slots are keyed
//! by resource, date and start time, so re-running the same request creates
//! nothing new: the answer says how many were created and skipped. Emits
//! SlotsGenerated.

use lambda_http::{Body, Request, Response};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::events::SlotsGenerated;
use shared::catalog::ports::ResourceStore;
use shared::catalog::{GenerationRequest, ResourceId};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::Permission;
use shared::{AppError, EventEnvelope};

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        caller.require(Permission::CatalogWrite)?;
        let resource_id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let body: GenerationRequest = parse_json(&req)?;
        let slots = body.slots(&resource_id)?;
        if store.get_resource(&resource_id).await?.is_none() {
            return Err(AppError::NotFound { code: "RESOURCE_NOT_FOUND", what: format!("the resource {resource_id}") });
        }
        let generated = SlotsGenerated {
            resource_id: resource_id.clone(),
            from: body.from,
            to: body.to,
            requested: slots.len(),
            by: caller.user_id.to_string(),
        };
        let event = EventEnvelope::of(&generated, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding SlotsGenerated", e))?;
        let summary = store.generate(&slots, &event).await?;
        tracing::info!(%resource_id, created = summary.created, skipped = summary.skipped, "slots generated");
        Ok(summary)
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}
