//! POST /me/notifications/{notification_id}/read: marks one of the caller's
//! inbox entries read and answers it. Marking it again keeps the first
//! `read_at`; someone else's entry is a 404, like one that never was.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, path_param, respond};
use shared::notification::InboxId;
use shared::notification::inbox;
use shared::notification::ports::Inbox;

pub async fn handle(
    store: &impl Inbox,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let id = InboxId::parse(&path_param(&req, "notification_id")?)?;
        inbox::mark_read(store, clock, &caller, &id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration};
    use shared::adapters::memory::MemoryNotifications;
    use shared::clock::FixedClock;
    use shared::identity::UserId;
    use shared::testing::booking::OWNER;
    use shared::testing::notification::entry;
    use shared::testing::{body, refusal, request, with_path_param};

    const FIXTURE: &str = include_str!("../../../events/notification-read/post-read.json");

    /// The fixture's entry, in its caller's inbox.
    async fn store() -> MemoryNotifications {
        let store = MemoryNotifications::default();
        let created = DateTime::from_timestamp_millis(1_800_000_000_000).unwrap();
        let e = entry(created, 0x0123_4567_89ab_cdef);
        assert_eq!(e.id.as_str(), "1800000000000-0123456789abcdef");
        store
            .deliver(&UserId::parse(OWNER).unwrap(), &e)
            .await
            .unwrap();
        store
    }

    #[tokio::test]
    async fn marks_the_entry_read_once() {
        let store = store().await;
        let clock = FixedClock::at_rfc3339("2027-01-10T09:30:00Z");
        let read = body(&handle(&store, &clock, request(FIXTURE)).await.unwrap());
        assert_eq!(read["id"], "1800000000000-0123456789abcdef");
        assert_eq!(read["read_at"], "2027-01-10T09:30:00Z");

        clock.advance(Duration::hours(1));
        let again = body(&handle(&store, &clock, request(FIXTURE)).await.unwrap());
        assert_eq!(again["read_at"], "2027-01-10T09:30:00Z");
        let owner = UserId::parse(OWNER).unwrap();
        let stored = store.inbox(&owner);
        assert_eq!(stored.len(), 1);
        assert!(stored[0].read_at.is_some());
    }

    #[tokio::test]
    async fn someone_elses_entry_or_an_unknown_one_is_a_404() {
        let store = store().await;
        let clock = FixedClock::at_rfc3339("2027-01-10T09:30:00Z");
        let stranger = shared::testing::with_user(FIXTURE, &UserId::generate().to_string(), "USER");
        assert_eq!(
            refusal(&handle(&store, &clock, stranger).await.unwrap()),
            (404, "NOTIFICATION_NOT_FOUND".into())
        );
        let unknown = with_path_param(FIXTURE, "notification_id", "1800000000000-00000000000000ff");
        assert_eq!(
            refusal(&handle(&store, &clock, unknown).await.unwrap()),
            (404, "NOTIFICATION_NOT_FOUND".into())
        );
        let owner = UserId::parse(OWNER).unwrap();
        assert!(store.inbox(&owner)[0].read_at.is_none());
    }

    #[tokio::test]
    async fn a_malformed_id_is_a_400() {
        let store = store().await;
        let clock = FixedClock::at_rfc3339("2027-01-10T09:30:00Z");
        for bad in ["nope", "1800000000000-0123456789ABCDEF", "../x"] {
            let res = handle(
                &store,
                &clock,
                with_path_param(FIXTURE, "notification_id", bad),
            )
            .await
            .unwrap();
            assert_eq!(
                refusal(&res),
                (400, "INVALID_NOTIFICATION_ID".into()),
                "{bad}"
            );
        }
    }
}
