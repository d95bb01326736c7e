//! POST /admin/dead-letters/{queue}/redrive?limit=: moves up to `limit`
//! (1 to 100, default 100) messages of a dead-letter queue back to the
//! queue they came from. Needs `dlq:redrive`.

use lambda_http::{Body, Request, Response};
use shared::adapters::sqs::{DeadLetters, MAX_BATCH};
use shared::http::{caller, correlation_id, limit_param, path_param, respond};
use shared::identity::Permission;

pub async fn handle(
    queues: &DeadLetters,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let admin = caller(&req)?;
        admin.require(Permission::DlqRedrive)?;
        let name = path_param(&req, "queue")?;
        let limit = limit_param(&req, MAX_BATCH, MAX_BATCH)?;
        let moved = queues.redrive(&name, limit).await?;
        tracing::info!(queue = %name, moved, admin = %admin.user_id, "redrive");
        Ok(serde_json::json!({ "queue": name, "moved": moved }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}
