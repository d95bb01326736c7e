//! GET /me/notifications?limit=&cursor=: the caller's in-app inbox, newest
//! first, in pages with `next_cursor`.

use lambda_http::{Body, Request, Response};
use shared::http::{caller, correlation_id, limit_param, query_param, respond};
use shared::kernel::PageRequest;
use shared::notification::inbox;
use shared::notification::ports::Inbox;

pub async fn handle(
    store: &impl Inbox,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let limit = limit_param(&req, 20, 100)?;
        let cursor = query_param(&req, "cursor");
        let page = PageRequest {
            limit,
            cursor: cursor.as_deref(),
        };
        inbox::list(store, &caller, page).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use shared::adapters::memory::MemoryNotifications;
    use shared::identity::UserId;
    use shared::testing::booking::OWNER;
    use shared::testing::notification::entry;
    use shared::testing::{body, refusal, with_queries, with_query};

    const FIXTURE: &str = include_str!("../../../events/notification-list/get-notifications.json");

    /// Three entries of the fixtures' caller, a minute apart, and one of
    /// someone else's.
    async fn store() -> (MemoryNotifications, Vec<String>) {
        let store = MemoryNotifications::default();
        let owner = UserId::parse(OWNER).unwrap();
        let start = Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0).unwrap();
        let mut ids = Vec::new();
        for n in 0..3 {
            let e = entry(start + Duration::minutes(n), n as u64);
            ids.push(e.id.to_string());
            assert!(store.deliver(&owner, &e).await.unwrap());
        }
        store
            .deliver(&UserId::generate(), &entry(start, 9))
            .await
            .unwrap();
        (store, ids)
    }

    fn ids(json: &serde_json::Value) -> Vec<String> {
        json["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn the_caller_sees_only_their_own_newest_first_in_pages() {
        let (store, made) = store().await;
        let first = body(
            &handle(&store, with_query(FIXTURE, "limit", Some("2")))
                .await
                .unwrap(),
        );
        assert_eq!(ids(&first), [made[2].clone(), made[1].clone()]);
        assert_eq!(first["notifications"][0]["kind"], "BOOKING_CONFIRMED");
        assert!(first["notifications"][0]["read_at"].is_null());
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = body(
            &handle(
                &store,
                with_queries(FIXTURE, &[("limit", "2"), ("cursor", &cursor)]),
            )
            .await
            .unwrap(),
        );
        assert_eq!(ids(&second), [made[0].clone()]);
        assert!(second["next_cursor"].is_null());
    }

    #[tokio::test]
    async fn an_empty_inbox_is_an_empty_page() {
        let store = MemoryNotifications::default();
        let page = body(
            &handle(&store, shared::testing::request(FIXTURE))
                .await
                .unwrap(),
        );
        assert_eq!(page["notifications"], serde_json::json!([]));
        assert!(page["next_cursor"].is_null());
    }

    #[tokio::test]
    async fn bad_queries_are_400s() {
        let (store, _) = store().await;
        for (name, value, expected) in [
            ("limit", "0", "INVALID_LIMIT"),
            ("limit", "101", "INVALID_LIMIT"),
            ("limit", "ten", "INVALID_LIMIT"),
            ("cursor", "garbage", "INVALID_CURSOR"),
        ] {
            let res = handle(&store, with_query(FIXTURE, name, Some(value)))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{name}={value}");
        }
    }
}
