//! POST /auth/logout: revokes the session of a refresh token. Answers 204
//! whether or not the token was known, so logout reveals nothing.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{correlation_id, error_response, no_content, parse_json};
use shared::identity::service::{self, RefreshRequest};
use shared::ports::SessionStore;

pub async fn handle(
    sessions: &impl SessionStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let body: RefreshRequest = parse_json(&req)?;
        service::logout(sessions, body, clock.now()).await
    }
    .await;
    Ok(match result {
        Ok(()) => no_content(&correlation_id),
        Err(err) => error_response(&err, &correlation_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;
    use shared::adapters::memory::MemoryIdentity;
    use shared::clock::SystemClock;

    const FIXTURE: &str = include_str!("../../../events/auth-logout/post-logout.json");

    #[tokio::test]
    async fn logging_out_an_unknown_token_is_still_a_204() {
        let store = MemoryIdentity::default();
        let res = handle(&store, &SystemClock, from_str(FIXTURE).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }

    #[tokio::test]
    async fn a_missing_body_is_a_400() {
        let store = MemoryIdentity::default();
        let mut event: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        event.as_object_mut().unwrap().remove("body");
        let res = handle(&store, &SystemClock, from_str(&event.to_string()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
    }
}
