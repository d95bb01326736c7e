//! GET /me/notification-preferences: the channels the caller wants
//! reminders by (every channel until they choose). Receipts and
//! cancellations do not depend on them.

use lambda_http::{Body, Request, Response};
use shared::http::{caller, correlation_id, respond};
use shared::notification::inbox;
use shared::notification::ports::PreferenceStore;

pub async fn handle(
    store: &impl PreferenceStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        inbox::preferences(store, &caller).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;
    use shared::adapters::memory::MemoryNotifications;
    use shared::identity::UserId;
    use shared::notification::{ChannelChoice, Preferences};
    use shared::testing::booking::OWNER;
    use shared::testing::{body, request, with_user};

    const FIXTURE: &str =
        include_str!("../../../events/notification-preferences-get/get-preferences.json");

    #[tokio::test]
    async fn every_channel_until_the_caller_chooses_then_their_choice() {
        let store = MemoryNotifications::default();
        let defaults = body(&handle(&store, request(FIXTURE)).await.unwrap());
        assert_eq!(
            defaults,
            json!({ "reminders": { "email": true, "sms": true, "inbox": true } })
        );

        let chosen = Preferences {
            reminders: ChannelChoice {
                email: false,
                sms: false,
                inbox: true,
            },
        };
        store
            .set_preferences(&UserId::parse(OWNER).unwrap(), &chosen, Utc::now())
            .await
            .unwrap();
        let mine = body(&handle(&store, request(FIXTURE)).await.unwrap());
        assert_eq!(mine["reminders"]["sms"], false);
        assert_eq!(mine["reminders"]["inbox"], true);

        // Another customer still has the defaults.
        let other = with_user(FIXTURE, &UserId::generate().to_string(), "USER");
        assert_eq!(body(&handle(&store, other).await.unwrap()), defaults);
    }
}
