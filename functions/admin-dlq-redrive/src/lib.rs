//! POST /admin/dead-letters/{queue}/redrive?limit= (dlq:redrive): moves up
//! to `limit` messages of a consumer's dead-letter queue back to its queue.
//! Consumers are idempotent, so a message that was in fact handled changes
//! nothing the second time. A redrive that moved messages is recorded as
//! `AdminActivity` (`dead_letters_redriven`), written to the outbox after
//! the move (queues and the table share no transaction); a failure to
//! record it is logged, and the answer still says what moved, so the admin
//! does not redrive twice.

use lambda_http::{Body, Request, Response};
use shared::EventEnvelope;
use shared::adapters::sqs::{DeadLetterQueues, MAX_BATCH};
use shared::http::{caller, correlation_id, limit_param, path_param, respond};
use shared::identity::Permission;
use shared::identity::events::AdminActivity;
use shared::ports::ActivityRecorder;

pub async fn handle(
    queues: &impl DeadLetterQueues,
    activity: &impl ActivityRecorder,
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
        if moved > 0 {
            let recorded = EventEnvelope::of(
                &AdminActivity::DeadLettersRedriven {
                    queue: name.clone(),
                    moved,
                    actor: admin.user_id.to_string(),
                },
                correlation_id.clone(),
            )
            .map_err(|e| shared::AppError::internal("encoding AdminActivity", e));
            let recorded = match recorded {
                Ok(event) => activity.record(&event).await,
                Err(e) => Err(e),
            };
            if let Err(error) = recorded {
                tracing::error!(queue = %name, moved, %error, "the redrive moved messages but was not recorded as activity");
            }
        }
        Ok(serde_json::json!({ "queue": name, "moved": moved }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryDeadLetters, MemoryOutbox};
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
    async fn a_redrive_that_moved_messages_is_recorded_once_as_activity() {
        let queues = queues(3);
        let outbox = MemoryOutbox::default();
        let res = handle(&queues, &outbox, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let empty = handle(&queues, &outbox, request(FIXTURE)).await.unwrap();
        assert_eq!(body(&empty)["moved"], 0);
        let written = outbox.written.lock().unwrap();
        assert_eq!(written.len(), 1, "nothing moved, nothing recorded");
        let activity: AdminActivity = written[0].decode().unwrap();
        assert_eq!(activity.action(), "dead_letters_redriven");
        let json = serde_json::to_value(&activity).unwrap();
        assert_eq!(json["moved"], 3);
        assert_eq!(json["queue"], "payment-processor");
    }

    #[tokio::test]
    async fn a_redrive_moves_the_messages_back_up_to_its_limit() {
        let queues = queues(3);
        let res = handle(
            &queues,
            &MemoryOutbox::default(),
            with_query(FIXTURE, "limit", Some("2")),
        )
        .await
        .unwrap();
        assert_eq!(
            body(&res),
            serde_json::json!({ "queue": "payment-processor", "moved": 2 })
        );
        assert_eq!(queues.redriven("payment-processor").len(), 2);
        let rest = handle(&queues, &MemoryOutbox::default(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(body(&rest)["moved"], 1);
        assert_eq!(queues.depths().await.unwrap()["payment-processor"], 0);
    }

    #[tokio::test]
    async fn refusals_move_nothing() {
        let queues = queues(2);
        let res = handle(
            &queues,
            &MemoryOutbox::default(),
            with_role(FIXTURE, "USER"),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let res = handle(
            &queues,
            &MemoryOutbox::default(),
            with_path_param(FIXTURE, "queue", "nope"),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (404, "QUEUE_NOT_FOUND".into()));
        let res = handle(
            &queues,
            &MemoryOutbox::default(),
            with_query(FIXTURE, "limit", Some("0")),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_LIMIT".into()));
        assert!(queues.redriven("payment-processor").is_empty());
    }
}
