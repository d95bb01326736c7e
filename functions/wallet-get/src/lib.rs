//! GET /wallet?limit=&cursor=: the caller's own balance and ledger, newest
//! first. `limit` 1 to 100 (default 20); `cursor` from the previous page.
//! A wallet never charged has a balance of 0 and an empty ledger.

use lambda_http::{Body, Request, Response};
use shared::adapters::dynamo::payment::DynamoPayments;
use shared::http::{caller, correlation_id, limit_param, query_param, respond};

pub async fn handle(
    store: &DynamoPayments,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let limit = limit_param(&req, 20, 100)?;
        let cursor = query_param(&req, "cursor");
        store
            .wallet(&caller.user_id, limit, cursor.as_deref())
            .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}
