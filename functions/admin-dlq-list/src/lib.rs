//! GET /admin/dead-letters and GET /admin/dead-letters/{queue}?limit=
//! (dlq:redrive): the depth of every consumer's dead-letter queue, or up to
//! `limit` of one queue's messages, left in place (card tokens shown as
//! `[redacted]`).

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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryDeadLetters;
    use shared::adapters::sqs::DeadLetter;
    use shared::testing::{body, edit, refusal, request, with_query, with_role};

    const FIXTURE: &str = include_str!("../../../events/admin-dlq-list/get-dead-letters.json");

    fn letter(id: &str) -> DeadLetter {
        DeadLetter {
            message_id: id.into(),
            receive_count: Some(5),
            sent_at: None,
            event: Some(serde_json::json!({ "type": "BookingCreated" })),
            body: None,
        }
    }

    fn queues() -> MemoryDeadLetters {
        let queues = MemoryDeadLetters::with_queues(&["payment-processor", "payment-refunder"]);
        for id in ["m-1", "m-2", "m-3"] {
            queues.put("payment-processor", letter(id));
        }
        queues
    }

    #[tokio::test]
    async fn an_admin_sees_every_depth_and_one_queue_s_messages_left_in_place() {
        let queues = queues();
        let all = body(&handle(&queues, request(FIXTURE)).await.unwrap());
        assert_eq!(
            all["queues"],
            serde_json::json!({ "payment-processor": 3, "payment-refunder": 0 })
        );
        let one = edit(FIXTURE, |json| {
            json["pathParameters"] = serde_json::json!({ "queue": "payment-processor" });
        });
        let listed = body(
            &handle(&queues, with_query(&one, "limit", Some("2")))
                .await
                .unwrap(),
        );
        let ids: Vec<&str> = listed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["m-1", "m-2"]);
        assert_eq!(queues.depths().await.unwrap()["payment-processor"], 3);
    }

    #[tokio::test]
    async fn customers_unknown_queues_and_bad_limits_are_refused() {
        let queues = queues();
        let res = handle(&queues, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let nope = edit(FIXTURE, |json| {
            json["pathParameters"] = serde_json::json!({ "queue": "nope" });
        });
        let res = handle(&queues, request(&nope)).await.unwrap();
        assert_eq!(refusal(&res), (404, "QUEUE_NOT_FOUND".into()));
        let res = handle(&queues, with_query(&nope, "limit", Some("101")))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_LIMIT".into()));
    }
}
