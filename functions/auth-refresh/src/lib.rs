//! POST /auth/refresh: spends a refresh token and answers a new token pair.
//! Each refresh token works once; presenting a spent one revokes its whole
//! session (family), since only a thief or a replay would do that.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{correlation_id, parse_json, respond};
use shared::identity::service::{self, RefreshRequest};
use shared::identity::tokens::AccessTokens;
use shared::ports::{SessionStore, UserStore};

pub async fn handle(
    users: &impl UserStore,
    sessions: &impl SessionStore,
    tokens: &AccessTokens,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let body: RefreshRequest = parse_json(&req)?;
        service::refresh(users, sessions, tokens, body, clock.now()).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;
    use shared::adapters::memory::MemoryIdentity;
    use shared::clock::SystemClock;
    use shared::identity::tokens::{SigningKey, TokenSettings};

    const FIXTURE: &str = include_str!("../../../events/auth-refresh/post-refresh.json");

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            &SigningKey::new(vec![5; 32]).unwrap(),
            TokenSettings::default(),
        )
    }

    fn code(res: &Response<Body>) -> String {
        let v: serde_json::Value = serde_json::from_slice(res.body().as_ref()).unwrap();
        v["code"].as_str().unwrap_or_default().to_owned()
    }

    #[tokio::test]
    async fn an_unknown_refresh_token_is_a_401() {
        let store = MemoryIdentity::default();
        let res = handle(
            &store,
            &store,
            &tokens(),
            &SystemClock,
            from_str(FIXTURE).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(
            (res.status().as_u16(), code(&res)),
            (401, "INVALID_REFRESH_TOKEN".to_owned())
        );
    }

    #[tokio::test]
    async fn a_token_of_the_wrong_shape_is_a_400() {
        let store = MemoryIdentity::default();
        let mut event: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        event["body"] = r#"{"refresh_token":"eyJhbGciOi.not.ours"}"#.into();
        let res = handle(
            &store,
            &store,
            &tokens(),
            &SystemClock,
            from_str(&event.to_string()).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(
            (res.status().as_u16(), code(&res)),
            (400, "INVALID_REFRESH_TOKEN_FORMAT".to_owned())
        );
    }
}
