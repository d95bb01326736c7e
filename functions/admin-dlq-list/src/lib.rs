//! GET /admin/dead-letters: each consumer's dead-letter queue and how many
//! messages wait in it. GET /admin/dead-letters/{queue}?limit=: up to
//! `limit` (1 to 100, default 20) of its messages, left in place. Both
//! need `dlq:redrive`.

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
        caller(&req)?.require(Permission::DlqRedrive)?;
        match path_param(&req, "queue").ok() {
            None => Ok(serde_json::json!({ "queues": queues.depths().await? })),
            Some(name) => {
                let limit = limit_param(&req, 20, MAX_BATCH)?;
                let messages = queues.list(&name, limit).await?;
                Ok(serde_json::json!({ "queue": name, "messages": messages }))
            }
        }
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}
