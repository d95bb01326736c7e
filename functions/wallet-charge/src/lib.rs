//! POST /wallet/charge: adds points to the caller's own wallet. Requires an
//! `Idempotency-Key`: the same key and body answer the first response again
//! (`idempotent-replayed: true`); another body with that key is a 422. The
//! balance, a ledger entry and `WalletCharged` are one transaction.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::payment::{DynamoPayments, ToppedUp};
use shared::clock::Clock;
use shared::http::{
    caller, correlation_id, error_response, idempotency_key, json_response, parse_json, replayed,
};
use shared::kernel::fingerprint;
use shared::payment::{TopUp, TopUpRequest};

pub async fn handle(
    store: &DynamoPayments,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let key = idempotency_key(&req)?;
        let body: TopUpRequest = parse_json(&req)?;
        let points = TopUp::parse(body.points)?;
        let canonical =
            serde_json::to_vec(&body).map_err(|e| AppError::internal("encoding the request", e))?;
        store
            .top_up(
                &caller.user_id,
                &key,
                &fingerprint(&canonical),
                points,
                &correlation_id,
                clock.now(),
            )
            .await
    }
    .await;
    Ok(match result {
        Ok(ToppedUp::New(entry)) => {
            tracing::info!(entry_id = %entry.entry_id, points = entry.points, "wallet charged");
            json_response(201, &entry, &correlation_id)
        }
        Ok(ToppedUp::Replayed(first)) => replayed(&first, &correlation_id),
        Err(err) => error_response(&err, &correlation_id),
    })
}
