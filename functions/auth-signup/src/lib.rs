//! POST /auth/signup: validates the account, hashes the password with
//! argon2id and writes the user, its unique email claim and UserRegistered
//! in one transaction. Answers 201 with the profile (never the hash).

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{correlation_id, parse_json, respond};
use shared::identity::service::{self, SignupRequest};
use shared::ports::UserStore;

pub async fn handle(
    users: &impl UserStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let body: SignupRequest = parse_json(&req)?;
        service::signup(users, body, &correlation_id, clock.now()).await
    }
    .await;
    if let Ok(profile) = &result {
        tracing::info!(user_id = %profile.id, %correlation_id, "account created");
    }
    Ok(respond(201, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;
    use shared::adapters::memory::MemoryIdentity;
    use shared::clock::SystemClock;
    use shared::identity::Profile;

    const FIXTURE: &str = include_str!("../../../events/auth-signup/post-signup.json");

    fn request(body: serde_json::Value) -> Request {
        let mut event: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        event["body"] = body;
        from_str(&event.to_string()).unwrap()
    }

    fn code(res: &Response<Body>) -> String {
        let v: serde_json::Value = serde_json::from_slice(res.body().as_ref()).unwrap();
        v["code"].as_str().unwrap_or_default().to_owned()
    }

    #[tokio::test]
    async fn a_signup_answers_201_with_the_profile_and_no_hash() {
        let users = MemoryIdentity::default();
        let res = handle(&users, &SystemClock, from_str(FIXTURE).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let text = std::str::from_utf8(res.body().as_ref()).unwrap();
        assert!(
            !text.contains("argon2") && !text.contains("password"),
            "{text}"
        );
        let profile: Profile = serde_json::from_str(text).unwrap();
        assert_eq!(profile.email, "ada.lovelace@example.com");
        assert_eq!(profile.phone, "+442079460958");
        assert_eq!(users.events().len(), 1);
    }

    #[tokio::test]
    async fn bad_fields_are_400s_with_their_code_and_write_nothing() {
        let good = serde_json::json!({
            "email": "ada@example.com", "password": "analytical engine 1843",
            "name": "Ada", "phone": "+442079460958"
        });
        let with = |key: &str, value: serde_json::Value| {
            let mut body = good.clone();
            body[key] = value;
            body
        };
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("phone");
        let cases = [
            (serde_json::json!("{\"email\":"), "MALFORMED_JSON"),
            (serde_json::json!(missing.to_string()), "INVALID_BODY"),
            (
                serde_json::json!(with("extra", 1.into()).to_string()),
                "INVALID_BODY",
            ),
            (
                serde_json::json!(with("email", "ada@".into()).to_string()),
                "INVALID_EMAIL",
            ),
            (
                serde_json::json!(with("password", "short1".into()).to_string()),
                "WEAK_PASSWORD",
            ),
            (
                serde_json::json!(with("password", "password123".into()).to_string()),
                "WEAK_PASSWORD",
            ),
            (
                serde_json::json!(with("name", "x".repeat(101).into()).to_string()),
                "INVALID_NAME",
            ),
            (
                serde_json::json!(with("phone", "12345".into()).to_string()),
                "INVALID_PHONE",
            ),
        ];
        let users = MemoryIdentity::default();
        for (body, expected) in cases {
            let res = handle(&users, &SystemClock, request(body.clone()))
                .await
                .unwrap();
            assert_eq!(
                (res.status().as_u16(), code(&res)),
                (400, expected.to_owned()),
                "{body}"
            );
        }
        assert_eq!(users.user_count(), 0);
        assert!(users.events().is_empty());
    }

    #[tokio::test]
    async fn a_second_signup_with_the_same_email_is_a_409() {
        let users = MemoryIdentity::default();
        handle(&users, &SystemClock, from_str(FIXTURE).unwrap())
            .await
            .unwrap();
        let res = handle(&users, &SystemClock, from_str(FIXTURE).unwrap())
            .await
            .unwrap();
        assert_eq!(
            (res.status().as_u16(), code(&res)),
            (409, "EMAIL_TAKEN".to_owned())
        );
    }
}
