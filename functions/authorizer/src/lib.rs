//! The HTTP API's Lambda authorizer (REQUEST type, simple responses).
//!
//! It verifies the bearer JWT (signature, expiry, issuer, audience; HS256
//! only, so `alg: none` is refused) and passes the user id, role and session
//! id to the route's function in the authorizer context. The token's session
//! must still be active, so logout, a detected refresh-token replay and a
//! role change cut its access tokens off too (API Gateway caches each
//! token's answer for `ReauthorizeEvery`, so this costs one read per token
//! per cache period). It also passes the caller's memberships (one query of
//! their staff items per answer), so a staff change takes effect within the
//! same cache period. A missing or bad token is the error `Unauthorized`,
//! which API Gateway answers with 401.
//! Permissions are not decided here: functions check them through
//! `shared::identity::Caller::require`, which answers a JSON 403.

use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use shared::clock::Clock;
use shared::company::ports::CompanyReader;
use shared::identity::Staff;
use shared::identity::tokens::AccessTokens;
use shared::ports::SessionStore;

/// What functions find in `requestContext.authorizer.lambda`; the keys are
/// `shared::http::authorizer_context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub user_id: String,
    pub role: String,
    pub session_id: String,
    /// The caller's memberships (`shared::identity::Staff::encode`).
    pub staff: String,
}

/// Why a request is not let through.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// API Gateway turns exactly the message "Unauthorized" into a 401.
    Unauthorized,
    /// The session could not be checked: fail closed (API Gateway answers 500).
    Unavailable,
}

impl From<Refusal> for Diagnostic {
    fn from(refusal: Refusal) -> Self {
        let message = match refusal {
            Refusal::Unauthorized => "Unauthorized",
            Refusal::Unavailable => "session store unavailable",
        };
        Diagnostic {
            error_type: format!("{refusal:?}"),
            error_message: message.to_owned(),
        }
    }
}

pub async fn handle(
    tokens: &AccessTokens,
    sessions: &impl SessionStore,
    companies: &impl CompanyReader,
    clock: &impl Clock,
    event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>,
) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse<Context>, Refusal> {
    let request = event.payload;
    let header = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    match tokens.verify_header(header, clock.now()) {
        Ok((caller, claims)) => {
            // Both reads at once: a cache miss (every new token) waits for
            // one round trip, not two.
            let (active, memberships) = tokio::join!(
                sessions.is_active(&claims.sid),
                companies.memberships(&caller.user_id)
            );
            match active {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(user_id = %caller.user_id, "token of an ended session refused");
                    return Err(Refusal::Unauthorized);
                }
                Err(err) => {
                    tracing::error!(error = %err, "session check failed");
                    return Err(Refusal::Unavailable);
                }
            }
            let staff = match memberships {
                Ok(memberships) => Staff::of(memberships),
                Err(err) => {
                    tracing::error!(error = %err, "memberships lookup failed");
                    return Err(Refusal::Unavailable);
                }
            };
            tracing::info!(user_id = %caller.user_id, role = caller.role.as_str(), route = ?request.route_key, "authorized");
            let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
            response.is_authorized = true;
            response.context = Context {
                user_id: caller.user_id.to_string(),
                role: caller.role.as_str().to_owned(),
                session_id: claims.sid,
                staff: staff.encode(),
            };
            Ok(response)
        }
        Err(why) => {
            tracing::info!(reason = %why, route = ?request.route_key, at = %clock.now(), "token refused");
            Err(Refusal::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryCompanies, MemoryIdentity};
    use shared::clock::FixedClock;
    use shared::identity::tokens::{SigningKey, TokenSettings};
    use shared::identity::{Role, UserId};
    use shared::ports::StoredRefreshToken;

    /// A store holding one active session, `sess-1`, of `user`.
    async fn sessions(user: &UserId) -> MemoryIdentity {
        let store = MemoryIdentity::default();
        let token = StoredRefreshToken {
            hash: "h".into(),
            user_id: user.clone(),
            family_id: "sess-1".into(),
            expires_at: clock().now() + chrono::Duration::days(1),
        };
        store.start(&token, clock().now()).await.unwrap();
        store
    }

    /// Every test runs at one fixed instant.
    fn clock() -> FixedClock {
        FixedClock::at_rfc3339("2027-01-15T10:00:00Z")
    }

    const FIXTURE: &str = include_str!("../../../events/authorizer/request.json");

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            &SigningKey::new(vec![4; 32]).unwrap(),
            TokenSettings::default(),
        )
    }

    fn event(authorization: Option<&str>) -> LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request> {
        let mut json: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        match authorization {
            Some(value) => json["headers"]["authorization"] = value.into(),
            None => {
                json["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorization");
            }
        }
        LambdaEvent::new(serde_json::from_value(json).unwrap(), Default::default())
    }

    #[tokio::test]
    async fn a_valid_token_passes_its_user_and_role_in_the_context() {
        let user = UserId::generate();
        let token = tokens()
            .issue(&user, Role::Admin, "sess-1", clock().now())
            .unwrap()
            .token;
        let store = sessions(&user).await;
        let res = handle(
            &tokens(),
            &store,
            &MemoryCompanies::default(),
            &clock(),
            event(Some(&format!("Bearer {token}"))),
        )
        .await
        .unwrap();
        assert!(res.is_authorized);
        assert_eq!(
            res.context,
            Context {
                user_id: user.to_string(),
                role: "ADMIN".into(),
                session_id: "sess-1".into(),
                staff: String::new(),
            }
        );
        let json = serde_json::to_value(&res).unwrap();
        assert_eq!(json["isAuthorized"], true);
        assert_eq!(json["context"]["user_id"], user.to_string());
    }

    #[tokio::test]
    async fn a_token_is_let_through_until_its_expiry_and_the_allowed_skew_and_not_after() {
        let user = UserId::generate();
        let clock = clock();
        let issued = tokens()
            .issue(&user, Role::User, "sess-1", clock.now())
            .unwrap();
        let store = sessions(&user).await;
        let bearer = format!("Bearer {}", issued.token);
        clock.advance(chrono::Duration::seconds(
            issued.expires_in + shared::identity::tokens::CLOCK_SKEW_SECS,
        ));
        let last = handle(
            &tokens(),
            &store,
            &MemoryCompanies::default(),
            &clock,
            event(Some(&bearer)),
        )
        .await;
        assert!(last.unwrap().is_authorized, "at the last accepted second");
        clock.advance(chrono::Duration::seconds(1));
        let late = handle(
            &tokens(),
            &store,
            &MemoryCompanies::default(),
            &clock,
            event(Some(&bearer)),
        )
        .await;
        assert_eq!(late.unwrap_err(), Refusal::Unauthorized);
    }

    #[tokio::test]
    async fn a_valid_token_of_an_ended_session_is_unauthorized() {
        let user = UserId::generate();
        let token = tokens()
            .issue(&user, Role::User, "sess-1", clock().now())
            .unwrap()
            .token;
        let store = sessions(&user).await;
        store.revoke_all(&user, None, clock().now()).await.unwrap();
        let res = handle(
            &tokens(),
            &store,
            &MemoryCompanies::default(),
            &clock(),
            event(Some(&format!("Bearer {token}"))),
        )
        .await;
        assert_eq!(res.unwrap_err(), Refusal::Unauthorized);
    }

    #[tokio::test]
    async fn missing_forged_and_fixture_tokens_are_unauthorized() {
        let store = MemoryIdentity::default();
        let forged = AccessTokens::new(
            &SigningKey::new(vec![5; 32]).unwrap(),
            TokenSettings::default(),
        )
        .issue(&UserId::generate(), Role::Admin, "s", clock().now())
        .unwrap()
        .token;
        for header in [
            None,
            Some("Bearer"),
            Some(format!("Bearer {forged}").as_str()),
        ] {
            assert_eq!(
                handle(
                    &tokens(),
                    &store,
                    &MemoryCompanies::default(),
                    &clock(),
                    event(header)
                )
                .await
                .unwrap_err(),
                Refusal::Unauthorized,
                "{header:?}"
            );
        }
        let fixture = LambdaEvent::new(serde_json::from_str(FIXTURE).unwrap(), Default::default());
        assert_eq!(
            handle(
                &tokens(),
                &store,
                &MemoryCompanies::default(),
                &clock(),
                fixture
            )
            .await
            .unwrap_err(),
            Refusal::Unauthorized
        );
        let diagnostic = Diagnostic::from(Refusal::Unauthorized);
        assert_eq!(diagnostic.error_message, "Unauthorized");
    }
}
