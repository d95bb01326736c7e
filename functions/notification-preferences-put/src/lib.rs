//! PUT /me/notification-preferences: replaces the channels the caller
//! wants reminders by; answers them as stored. Every field is required, so
//! a client never turns a channel off by leaving it out.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, respond};
use shared::notification::inbox;
use shared::notification::ports::PreferenceStore;

pub async fn handle(
    store: &impl PreferenceStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let preferences = parse_json(&req)?;
        inbox::set_preferences(store, clock, &caller, preferences).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryNotifications;
    use shared::clock::FixedClock;
    use shared::identity::UserId;
    use shared::notification::Preferences;
    use shared::testing::booking::OWNER;
    use shared::testing::{body, refusal, request, with_body};

    const FIXTURE: &str =
        include_str!("../../../events/notification-preferences-put/put-preferences.json");

    fn owner() -> UserId {
        UserId::parse(OWNER).unwrap()
    }

    #[tokio::test]
    async fn stores_the_callers_choice() {
        let store = MemoryNotifications::default();
        let clock = FixedClock::at_rfc3339("2027-01-10T09:00:00Z");
        let res = handle(&store, &clock, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["reminders"]["sms"], false);
        let stored = store.preferences(&owner()).await.unwrap();
        assert!(stored.reminders.email && !stored.reminders.sms && stored.reminders.inbox);
    }

    #[tokio::test]
    async fn bad_bodies_are_400s_and_change_nothing() {
        let store = MemoryNotifications::default();
        let clock = FixedClock::at_rfc3339("2027-01-10T09:00:00Z");
        for (bad, code) in [
            (
                r#"{"reminders": {"email": true, "inbox": true}}"#,
                "INVALID_BODY",
            ),
            (
                r#"{"reminders": {"email": true, "sms": "no", "inbox": true}}"#,
                "INVALID_BODY",
            ),
            (
                r#"{"reminders": {"email": true, "sms": true, "inbox": true, "push": true}}"#,
                "INVALID_BODY",
            ),
            (r#"{}"#, "INVALID_BODY"),
            ("not json", "MALFORMED_JSON"),
        ] {
            let res = handle(&store, &clock, with_body(FIXTURE, bad))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, code.into()), "{bad}");
        }
        assert_eq!(
            store.preferences(&owner()).await.unwrap(),
            Preferences::default()
        );
    }
}
