//! PATCH /me: the caller changes their own name, phone, language, email or
//! password. A new email or password needs `current_password` (a wrong one
//! is 403 `WRONG_PASSWORD`, counted like a failed login), and ends every
//! other session of the account; the caller's own stays. Each change that
//! writes emits one `UserUpdated` through the outbox, naming the fields.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, respond, session_id};
use shared::identity::LoginPolicy;
use shared::identity::profile::UpdateProfileRequest;
use shared::identity::service;
use shared::ports::{LoginAttempts, SessionStore, UserStore};

pub async fn handle<T: UserStore + SessionStore + LoginAttempts>(
    store: &T,
    policy: &LoginPolicy,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let request: UpdateProfileRequest = parse_json(&req)?;
        let session = session_id(&req);
        service::update_profile(
            store,
            policy,
            &caller,
            session.as_deref(),
            request,
            &correlation_id,
            clock.now(),
        )
        .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryIdentity;
    use shared::clock::FixedClock;
    use shared::identity::service::{Identity, LoginRequest, SignupRequest, login, signup};
    use shared::identity::tokens::{AccessTokens, SigningKey, TokenSettings};
    use shared::testing::{body, refusal, with_body};
    use shared::{CorrelationId, EventType};

    const FIXTURE: &str = include_str!("../../../events/account-update/patch-me.json");
    const PASSWORD: &str = "correct horse 7 battery";

    fn clock() -> FixedClock {
        FixedClock::at_rfc3339("2027-01-10T09:30:00Z")
    }

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            &SigningKey::new(vec![5; 32]).unwrap(),
            TokenSettings::default(),
        )
    }

    /// An account and two sessions of it; answers its id and the two
    /// sessions' ids.
    async fn account(store: &MemoryIdentity) -> (String, String, String) {
        let profile = signup(
            store,
            SignupRequest {
                email: "ada@example.com".into(),
                password: PASSWORD.into(),
                name: "Ada Lovelace".into(),
                phone: "+44 20 7946 0958".into(),
                language: None,
            },
            &CorrelationId::generate(),
            clock().now(),
        )
        .await
        .unwrap();
        let (tokens, policy) = (tokens(), LoginPolicy::default());
        let id = Identity::single_store(store, &tokens, &policy);
        let mut sessions = Vec::new();
        for _ in 0..2 {
            let answer = login(
                &id,
                LoginRequest {
                    email: "ada@example.com".into(),
                    password: PASSWORD.into(),
                },
                clock().now(),
            )
            .await
            .unwrap();
            let (_, claims) = tokens
                .verify(&answer.tokens.access_token, clock().now())
                .unwrap();
            sessions.push(claims.sid);
        }
        (profile.id, sessions.remove(0), sessions.remove(0))
    }

    /// The fixture as `user`, in session `session`, with `body`.
    fn patch(user: &str, session: &str, body: &str) -> Request {
        let fixture = shared::testing::edit(FIXTURE, |json| {
            let context = &mut json["requestContext"]["authorizer"]["lambda"];
            context["session_id"] = session.into();
            context["user_id"] = user.into();
        });
        with_body(&fixture, body)
    }

    async fn run(store: &MemoryIdentity, req: Request) -> Response<Body> {
        handle(store, &LoginPolicy::default(), &clock(), req)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn name_phone_and_language_change_with_one_user_updated() {
        let store = MemoryIdentity::default();
        let (user, session, _) = account(&store).await;
        let res = run(
            &store,
            patch(
                &user,
                &session,
                r#"{"name":" Ada King ","phone":"+33 1 23 45 67 89","language":"FR"}"#,
            ),
        )
        .await;
        assert_eq!(res.status(), 200);
        let me = body(&res);
        assert_eq!(
            (
                me["name"].as_str(),
                me["phone"].as_str(),
                me["language"].as_str()
            ),
            (Some("Ada King"), Some("+33123456789"), Some("fr"))
        );
        let updates: Vec<_> = store
            .events()
            .into_iter()
            .filter(|e| e.event_type == EventType::UserUpdated)
            .collect();
        assert_eq!(updates.len(), 1);
        assert_eq!(
            updates[0].data["fields"],
            serde_json::json!(["language", "name", "phone"])
        );
        assert!(!updates[0].data.to_string().contains("King"));
    }

    #[tokio::test]
    async fn the_same_values_again_write_nothing() {
        let store = MemoryIdentity::default();
        let (user, session, _) = account(&store).await;
        let before = store.events().len();
        let res = run(&store, patch(&user, &session, r#"{"name":"Ada Lovelace"}"#)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(store.events().len(), before);
    }

    #[tokio::test]
    async fn bad_values_are_400s_and_change_nothing() {
        let store = MemoryIdentity::default();
        let (user, session, _) = account(&store).await;
        let before = store.events().len();
        for (body, code) in [
            (r#"{}"#, "EMPTY_CHANGE"),
            (r#"{"phone":"0207 946 0958"}"#, "INVALID_PHONE"),
            (r#"{"language":"tlh"}"#, "UNSUPPORTED_LANGUAGE"),
            (r#"{"name":""}"#, "INVALID_NAME"),
            (r#"{"email":"ada@"}"#, "INVALID_EMAIL"),
            (
                r#"{"email":"ada2@example.com"}"#,
                "CURRENT_PASSWORD_REQUIRED",
            ),
            (r#"{"role":"ADMIN"}"#, "INVALID_BODY"),
        ] {
            let res = run(&store, patch(&user, &session, body)).await;
            assert_eq!(refusal(&res), (400, code.to_owned()), "{body}");
        }
        assert_eq!(store.events().len(), before);
    }

    #[tokio::test]
    async fn a_wrong_current_password_changes_nothing() {
        let store = MemoryIdentity::default();
        let (user, session, other) = account(&store).await;
        let before = store.events().len();
        let res = run(
            &store,
            patch(
                &user,
                &session,
                r#"{"password":"a brand new 9 phrase","current_password":"wrong horse 7 battery"}"#,
            ),
        )
        .await;
        assert_eq!(refusal(&res), (403, "WRONG_PASSWORD".to_owned()));
        assert_eq!(store.events().len(), before);
        assert_eq!(store.session_revoked(&other), Some(false));
    }

    #[tokio::test]
    async fn a_password_change_ends_every_other_session_but_the_callers() {
        let store = MemoryIdentity::default();
        let (user, session, other) = account(&store).await;
        let body =
            format!(r#"{{"password":"a brand new 9 phrase","current_password":"{PASSWORD}"}}"#);
        let res = run(&store, patch(&user, &session, &body)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(store.session_revoked(&other), Some(true));
        assert_eq!(store.session_revoked(&session), Some(false));
        let (tokens, policy) = (tokens(), LoginPolicy::default());
        let id = Identity::single_store(&store, &tokens, &policy);
        let new_login = |password: &str| LoginRequest {
            email: "ada@example.com".into(),
            password: password.into(),
        };
        assert!(
            login(&id, new_login(PASSWORD), clock().now())
                .await
                .is_err()
        );
        assert!(
            login(&id, new_login("a brand new 9 phrase"), clock().now())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_email_change_frees_the_old_address_and_refuses_a_taken_one() {
        let store = MemoryIdentity::default();
        let (user, session, _) = account(&store).await;
        signup(
            &store,
            SignupRequest {
                email: "taken@example.com".into(),
                password: PASSWORD.into(),
                name: "Taken".into(),
                phone: "+44 20 7946 0958".into(),
                language: Some("de".into()),
            },
            &CorrelationId::generate(),
            clock().now(),
        )
        .await
        .unwrap();
        let change =
            |email: &str| format!(r#"{{"email":"{email}","current_password":"{PASSWORD}"}}"#);
        let res = run(&store, patch(&user, &session, &change("taken@example.com"))).await;
        assert_eq!(refusal(&res), (409, "EMAIL_TAKEN".to_owned()));
        let res = run(
            &store,
            patch(&user, &session, &change("ada.king@example.com")),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["email"], "ada.king@example.com");
        let again = signup(
            &store,
            SignupRequest {
                email: "ada@example.com".into(),
                password: PASSWORD.into(),
                name: "Another Ada".into(),
                phone: "+44 20 7946 0958".into(),
                language: None,
            },
            &CorrelationId::generate(),
            clock().now(),
        )
        .await;
        assert!(again.is_ok(), "the old address is free: {again:?}");
    }
}
