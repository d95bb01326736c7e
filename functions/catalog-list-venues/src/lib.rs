//! GET /venues (public): every venue, by name.

use lambda_http::{Body, Request, Response};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::http::{correlation_id, respond};

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = store
        .list_venues()
        .await
        .map(|venues| serde_json::json!({ "venues": venues }));
    Ok(respond(200, result, &correlation_id))
}
