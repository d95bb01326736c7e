//! POST /admin/resources/{resource_id}/slots/generate (catalog:write): a
//! daily pattern of slots over up to 92 days. Idempotent: the slot key is
//! the resource, date and start time, so re-running creates nothing twice.
//! Records `SlotsGenerated` with what was asked and what was written.

use lambda_http::{Body, Request, Response};
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::catalog::service::{self, CatalogWriter};
use shared::catalog::{Deadline, GenerationRequest, ResourceId};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, path_param, respond};

pub async fn handle<S: VenueStore + ResourceStore + SlotStore>(
    store: &S,
    clock: &impl Clock,
    cutoff: chrono::Duration,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let writer = CatalogWriter::of(&caller(&req)?)?;
        let resource_id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let body: GenerationRequest = parse_json(&req)?;
        let deadline = Deadline {
            now: clock.now(),
            cutoff,
        };
        let summary = service::generate_slots(
            store,
            &writer,
            &resource_id,
            body,
            &correlation_id,
            &deadline,
        )
        .await?;
        tracing::info!(%resource_id, created = summary.created, skipped = summary.skipped, "slots generated");
        Ok(summary)
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::events::SlotsGenerated;
    use shared::testing::catalog::course;
    use shared::testing::{body, refusal, request, with_body, with_role};

    const FIXTURE: &str = include_str!("../../../events/catalog-generate-slots/post-generate.json");

    /// The fixtures' "now", days before the fixture's dates.
    fn clock() -> shared::clock::FixedClock {
        shared::clock::FixedClock::at(shared::testing::booking::at(0))
    }

    async fn store() -> MemoryCatalog {
        let store = MemoryCatalog::default();
        course(&store).await;
        store
    }

    #[tokio::test]
    async fn generating_twice_creates_each_slot_once_and_announces_both_runs() {
        let store = store().await;
        let first = handle(&store, &clock(), chrono::Duration::zero(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(
            body(&first),
            serde_json::json!({ "created": 8, "skipped": 0 })
        );
        let again = handle(&store, &clock(), chrono::Duration::zero(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(
            body(&again),
            serde_json::json!({ "created": 0, "skipped": 8 })
        );
        let of = |kind: shared::EventType| {
            store
                .events()
                .into_iter()
                .filter(move |e| e.event_type == kind)
        };
        let announced: Vec<SlotsGenerated> = of(shared::EventType::SlotsGenerated)
            .map(|e| e.decode().unwrap())
            .collect();
        let recorded: Vec<shared::identity::events::AdminActivity> =
            of(shared::EventType::AdminActivity)
                .map(|e| e.decode().unwrap())
                .collect();
        assert!(
            matches!(
                recorded.as_slice(),
                [
                    shared::identity::events::AdminActivity::SlotsGenerated {
                        created: 8,
                        skipped: 0,
                        ..
                    },
                    shared::identity::events::AdminActivity::SlotsGenerated {
                        created: 0,
                        skipped: 8,
                        ..
                    },
                ]
            ),
            "{recorded:?}"
        );
        assert_eq!(
            announced
                .iter()
                .map(|a| (a.requested, a.created, a.skipped))
                .collect::<Vec<_>>(),
            [(8, 8, 0), (8, 0, 8)]
        );
        assert_eq!(announced[0].by, "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a20");
    }

    #[tokio::test]
    async fn refusals_write_nothing() {
        let store = store().await;
        let fixtures = store.events().len();
        let res = handle(
            &store,
            &clock(),
            chrono::Duration::zero(),
            with_role(FIXTURE, "USER"),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let backwards = r#"{"from":"2027-01-18","to":"2027-01-15","start_times":["08:00"],
            "duration_minutes":10,"capacity":4,"prices":{"weekday":1,"weekend":1,"holiday":1}}"#;
        let res = handle(
            &store,
            &clock(),
            chrono::Duration::zero(),
            with_body(FIXTURE, backwards),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_DATE_RANGE".into()));
        let unknown = MemoryCatalog::default();
        let res = handle(
            &unknown,
            &clock(),
            chrono::Duration::zero(),
            request(FIXTURE),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (404, "RESOURCE_NOT_FOUND".into()));
        assert_eq!(store.events().len(), fixtures);
        assert!(unknown.events().is_empty());
    }

    #[tokio::test]
    async fn a_pattern_with_a_slot_that_already_started_is_refused_whole() {
        let store = store().await;
        let fixtures = store.events().len();
        // 2027-01-15T08:05Z: the first 08:00 slot has started.
        let late = shared::clock::FixedClock::at("2027-01-15T08:05:00Z".parse().unwrap());
        let res = handle(&store, &late, chrono::Duration::zero(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (409, "SLOT_IN_PAST".into()));
        assert_eq!(store.events().len(), fixtures);
        // A day earlier, but with bookings closing 25 hours before a start.
        let early = shared::clock::FixedClock::at("2027-01-14T08:05:00Z".parse().unwrap());
        let res = handle(
            &store,
            &early,
            chrono::Duration::hours(25),
            request(FIXTURE),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (409, "SLOT_IN_PAST".into()));
    }
}
