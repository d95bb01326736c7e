//! The HTTP API's Lambda authorizer (REQUEST type, simple responses).
//!
//! It verifies the bearer JWT (signature, expiry, issuer, audience; HS256
//! only, so `alg: none` is refused) and passes the user id, role and session
//! id to the route's function in the authorizer context. A missing or bad
//! token is the error `Unauthorized`, which API Gateway answers with 401.
//! Permissions are not decided here: functions check them through
//! `shared::identity::Caller::require`, which answers a JSON 403.

use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use shared::identity::tokens::AccessTokens;

/// What functions find in `requestContext.authorizer.lambda`; the keys are
/// `shared::http::authorizer_context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub user_id: String,
    pub role: String,
    pub session_id: String,
}

/// The one refusal: API Gateway turns exactly this message into a 401.
#[derive(Debug, PartialEq, Eq)]
pub struct Unauthorized;

impl From<Unauthorized> for Diagnostic {
    fn from(_: Unauthorized) -> Self {
        Diagnostic {
            error_type: "Unauthorized".to_owned(),
            error_message: "Unauthorized".to_owned(),
        }
    }
}

pub async fn handle(
    tokens: &AccessTokens,
    event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>,
) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse<Context>, Unauthorized> {
    let request = event.payload;
    let header = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    match tokens.verify_header(header) {
        Ok((caller, claims)) => {
            tracing::info!(user_id = %caller.user_id, role = caller.role.as_str(), route = ?request.route_key, "authorized");
            let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
            response.is_authorized = true;
            response.context = Context {
                user_id: caller.user_id.to_string(),
                role: caller.role.as_str().to_owned(),
                session_id: claims.sid,
            };
            Ok(response)
        }
        Err(why) => {
            tracing::info!(reason = %why, route = ?request.route_key, at = %Utc::now(), "token refused");
            Err(Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::identity::tokens::{SigningKey, TokenSettings};
    use shared::identity::{Role, UserId};

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
            .issue(&user, Role::Admin, "sess-1", Utc::now())
            .unwrap()
            .token;
        let res = handle(&tokens(), event(Some(&format!("Bearer {token}"))))
            .await
            .unwrap();
        assert!(res.is_authorized);
        assert_eq!(
            res.context,
            Context {
                user_id: user.to_string(),
                role: "ADMIN".into(),
                session_id: "sess-1".into()
            }
        );
        let json = serde_json::to_value(&res).unwrap();
        assert_eq!(json["isAuthorized"], true);
        assert_eq!(json["context"]["user_id"], user.to_string());
    }

    #[tokio::test]
    async fn missing_forged_and_fixture_tokens_are_unauthorized() {
        let forged = AccessTokens::new(
            &SigningKey::new(vec![5; 32]).unwrap(),
            TokenSettings::default(),
        )
        .issue(&UserId::generate(), Role::Admin, "s", Utc::now())
        .unwrap()
        .token;
        for header in [
            None,
            Some("Bearer"),
            Some(format!("Bearer {forged}").as_str()),
        ] {
            assert_eq!(
                handle(&tokens(), event(header)).await.unwrap_err(),
                Unauthorized,
                "{header:?}"
            );
        }
        let fixture = LambdaEvent::new(serde_json::from_str(FIXTURE).unwrap(), Default::default());
        assert_eq!(handle(&tokens(), fixture).await.unwrap_err(), Unauthorized);
        let diagnostic = Diagnostic::from(Unauthorized);
        assert_eq!(diagnostic.error_message, "Unauthorized");
    }
}
