//! POST /admin/dead-letters/{queue}/redrive?limit= (dlq:redrive): moves up
//! to `limit` messages of a consumer's dead-letter queue back to its queue.
//! Consumers are idempotent, so a message that was in fact handled changes
//! nothing the second time.

use lambda_http::{Body, Request, Response};
use shared::adapters::sqs::{DeadLetterQueues, MAX_BATCH};
use shared::http::{caller, correlation_id, limit_param, path_param, respond};
use shared::identity::Permission;

pub async fn handle(
    queues: &impl DeadLetterQueues,
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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryDeadLetters;
    use shared::adapters::sqs::DeadLetter;
    use shared::testing::{body, refusal, request, with_path_param, with_query, with_role};

    const FIXTURE: &str = include_str!("../../../events/admin-dlq-redrive/post-redrive.json");

    fn queues(n: usize) -> MemoryDeadLetters {
        let queues = MemoryDeadLetters::with_queues(&["payment-processor"]);
        for i in 0..n {
            queues.put(
                "payment-processor",
                DeadLetter {
                    message_id: format!("m-{i}"),
                    receive_count: Some(5),
                    sent_at: None,
                    event: None,
                    body: Some("not an event".into()),
                },
            );
        }
        queues
    }

    #[tokio::test]
    async fn a_redrive_moves_the_messages_back_up_to_its_limit() {
        let queues = queues(3);
        let res = handle(&queues, with_query(FIXTURE, "limit", Some("2")))
            .await
            .unwrap();
        assert_eq!(
            body(&res),
            serde_json::json!({ "queue": "payment-processor", "moved": 2 })
        );
        assert_eq!(queues.redriven("payment-processor").len(), 2);
        let rest = handle(&queues, request(FIXTURE)).await.unwrap();
        assert_eq!(body(&rest)["moved"], 1);
        assert_eq!(queues.depths().await.unwrap()["payment-processor"], 0);
    }

    #[tokio::test]
    async fn refusals_move_nothing() {
        let queues = queues(2);
        let res = handle(&queues, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let res = handle(&queues, with_path_param(FIXTURE, "queue", "nope"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "QUEUE_NOT_FOUND".into()));
        let res = handle(&queues, with_query(FIXTURE, "limit", Some("0")))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_LIMIT".into()));
        assert!(queues.redriven("payment-processor").is_empty());
    }
}
