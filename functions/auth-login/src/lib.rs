//! POST /auth/login: checks the credentials (same answer for an unknown
//! email and a wrong password; repeated failures lock the address for a
//! while) and answers an access token, a refresh token and the profile.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{correlation_id, parse_json, respond};
use shared::identity::service::{self, Identity, LoginRequest};
use shared::ports::{LoginAttempts, SessionStore, UserStore};

pub async fn handle<U: UserStore, S: SessionStore, A: LoginAttempts>(
    identity: &Identity<'_, U, S, A>,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let body: LoginRequest = parse_json(&req)?;
        service::login(identity, body, clock.now()).await
    }
    .await;
    if let Ok(login) = &result {
        tracing::info!(user_id = %login.user.id, %correlation_id, "signed in");
    }
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;
    use shared::CorrelationId;
    use shared::adapters::memory::MemoryIdentity;
    use shared::clock::{Clock, FixedClock, SystemClock};
    use shared::identity::service::{LoginPolicy, LoginResponse, SignupRequest};
    use shared::identity::tokens::{AccessTokens, SigningKey, TokenSettings};

    const FIXTURE: &str = include_str!("../../../events/auth-login/post-login.json");

    fn request(body: &str) -> Request {
        let mut event: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        event["body"] = body.into();
        from_str(&event.to_string()).unwrap()
    }

    async fn store() -> MemoryIdentity {
        let store = MemoryIdentity::default();
        let signup = SignupRequest {
            email: "ada.lovelace@example.com".into(),
            password: "analytical engine 1843".into(),
            name: "Ada".into(),
            phone: "+442079460958".into(),
            language: None,
        };
        service::signup(
            &store,
            signup,
            &CorrelationId::generate(),
            SystemClock.now(),
        )
        .await
        .unwrap();
        store
    }

    fn body(res: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(res.body().as_ref()).unwrap()
    }

    #[tokio::test]
    async fn good_credentials_answer_a_verifiable_token_pair() {
        let store = store().await;
        let tokens = AccessTokens::new(
            &SigningKey::new(vec![9; 32]).unwrap(),
            TokenSettings::default(),
        );
        let policy = LoginPolicy::default();
        let identity = Identity::single_store(&store, &tokens, &policy);
        let clock = FixedClock::at_rfc3339("2027-01-15T10:00:00Z");
        let res = handle(&identity, &clock, from_str(FIXTURE).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let login: LoginResponse = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(login.tokens.token_type, "Bearer");
        assert!(login.tokens.refresh_token.starts_with("rt_"));
        let (caller, _) = tokens
            .verify(&login.tokens.access_token, clock.now())
            .unwrap();
        assert_eq!(caller.user_id.to_string(), login.user.id);
    }

    #[tokio::test]
    async fn failures_look_alike_then_lock_with_retry_after() {
        let store = store().await;
        let tokens = AccessTokens::new(
            &SigningKey::new(vec![9; 32]).unwrap(),
            TokenSettings::default(),
        );
        let policy = LoginPolicy {
            max_failures: 2,
            ..LoginPolicy::default()
        };
        let identity = Identity::single_store(&store, &tokens, &policy);
        let unknown = handle(
            &identity,
            &SystemClock,
            request(r#"{"email":"nobody@example.com","password":"x"}"#),
        )
        .await
        .unwrap();
        let wrong = handle(
            &identity,
            &SystemClock,
            request(r#"{"email":"ada.lovelace@example.com","password":"x"}"#),
        )
        .await
        .unwrap();
        assert_eq!(
            (unknown.status(), body(&unknown)),
            (wrong.status(), body(&wrong))
        );
        assert_eq!(wrong.status(), 401);
        let locked = handle(
            &identity,
            &SystemClock,
            request(r#"{"email":"ada.lovelace@example.com","password":"y"}"#),
        )
        .await
        .unwrap();
        assert_eq!(locked.status(), 429);
        assert_eq!(body(&locked)["code"], "TOO_MANY_ATTEMPTS");
        assert!(locked.headers().contains_key("retry-after"));
    }

    #[tokio::test]
    async fn a_malformed_body_is_a_400() {
        let store = store().await;
        let tokens = AccessTokens::new(
            &SigningKey::new(vec![9; 32]).unwrap(),
            TokenSettings::default(),
        );
        let policy = LoginPolicy::default();
        let identity = Identity::single_store(&store, &tokens, &policy);
        for bad in [
            "{",
            r#"{"email":"a@example.com"}"#,
            r#"{"email":"a@example.com","password":""}"#,
        ] {
            let res = handle(&identity, &SystemClock, request(bad)).await.unwrap();
            assert_eq!(res.status(), 400, "{bad}");
        }
    }
}
