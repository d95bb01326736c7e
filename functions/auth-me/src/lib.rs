//! GET /me (and GET /auth/me): the caller's own profile, with the companies
//! they are staff of and their role in each. Who the caller is comes from
//! the authorizer's context; this function never reads the token.

use lambda_http::{Body, Request, Response};
use shared::http::{caller, correlation_id, respond};
use shared::identity::service;
use shared::ports::UserStore;

pub async fn handle(
    users: &impl UserStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        service::me(users, &caller).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use lambda_http::request::from_str;
    use shared::adapters::memory::MemoryIdentity;
    use shared::identity::{DisplayName, Email, Phone, Profile, Role, User, UserId};

    const FIXTURE: &str = include_str!("../../../events/auth-me/get-me.json");

    fn fixture_user() -> User {
        User {
            id: UserId::parse("0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a10").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            name: DisplayName::parse("Ada").unwrap(),
            phone: Phone::parse("+442079460958").unwrap(),
            language: shared::identity::Language::En,
            role: Role::User,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
            created_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn the_caller_from_the_authorizer_context_gets_their_profile() {
        let users = MemoryIdentity::default();
        let event = shared::EventEnvelope::of(
            &shared::events::Ping::Diagnostic {
                note: "registered".into(),
            },
            shared::CorrelationId::generate(),
        )
        .unwrap();
        users.create(&fixture_user(), &event).await.unwrap();
        let res = handle(&users, from_str(FIXTURE).unwrap()).await.unwrap();
        assert_eq!(res.status(), 200);
        let text = std::str::from_utf8(res.body().as_ref()).unwrap();
        assert!(!text.contains("argon2"));
        let profile: Profile = serde_json::from_str(text).unwrap();
        assert_eq!(profile.id, "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a10");
    }

    #[tokio::test]
    async fn the_profile_lists_the_companies_the_caller_is_staff_of() {
        let users = MemoryIdentity::default();
        let event = shared::EventEnvelope::of(
            &shared::events::Ping::Diagnostic {
                note: "registered".into(),
            },
            shared::CorrelationId::generate(),
        )
        .unwrap();
        users.create(&fixture_user(), &event).await.unwrap();
        let company = "0195f0a4-5000-7000-8000-000000000001";
        let mut json: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        json["requestContext"]["authorizer"]["lambda"]["staff"] =
            format!("{company}:MANAGER").into();
        let res = handle(&users, from_str(&json.to_string()).unwrap())
            .await
            .unwrap();
        let me: serde_json::Value = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(
            me["companies"],
            serde_json::json!([{ "company_id": company, "role": "MANAGER" }])
        );
        assert_eq!(me["email"], "ada@example.com");
    }

    #[tokio::test]
    async fn without_an_authorizer_context_the_answer_is_401() {
        let users = MemoryIdentity::default();
        let mut event: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        event["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        let res = handle(&users, from_str(&event.to_string()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }

    #[tokio::test]
    async fn a_deleted_account_is_a_404() {
        let users = MemoryIdentity::default();
        let res = handle(&users, from_str(FIXTURE).unwrap()).await.unwrap();
        assert_eq!(res.status(), 404);
    }
}
