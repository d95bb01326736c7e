//! POST /admin/resources/{resource_id}/slots/generate (catalog:write): a
//! daily pattern of slots over up to 92 days. Idempotent: the slot key is
//! the resource, date and start time, so re-running creates nothing twice.
//! Records `SlotsGenerated` with what was asked and what was written.
//!
//! `?dry_run=true` answers what the run would do, slot by slot, and writes
//! and records nothing.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::catalog::service::{self, CatalogWriter};
use shared::catalog::{
    Deadline, GenerationPreview, GenerationRequest, GenerationSummary, ResourceId, parse_dry_run,
};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, path_param, query_param, respond};

/// The answer: what a run wrote, or what a dry run would.
#[derive(Serialize)]
#[serde(untagged)]
enum Generated {
    Run(GenerationSummary),
    DryRun(GenerationPreview),
}

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
        let dry_run = parse_dry_run(query_param(&req, "dry_run").as_deref())?;
        let body: GenerationRequest = parse_json(&req)?;
        let deadline = Deadline {
            now: clock.now(),
            cutoff,
        };
        if dry_run {
            let preview =
                service::preview_slots(store, &writer, &resource_id, body, &deadline).await?;
            tracing::info!(%resource_id, created = preview.created, skipped = preview.skipped, "slot generation previewed");
            return Ok(Generated::DryRun(preview));
        }
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
        Ok(Generated::Run(summary))
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
    use shared::testing::{body, refusal, request, with_body, with_query, with_role};

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

    fn dry_run(fixture: &str) -> Request {
        with_query(fixture, "dry_run", Some("true"))
    }

    /// The slots the store holds on the fixture's dates.
    async fn slots_held(store: &MemoryCatalog) -> usize {
        use shared::catalog::ports::SlotStore;
        let course = shared::testing::catalog::slot().resource_id;
        let mut held = 0;
        for day in 15..=19 {
            let date = chrono::NaiveDate::from_ymd_opt(2027, 1, day).unwrap();
            held += store.slots_on(&course, date).await.unwrap().len();
        }
        held
    }

    #[tokio::test]
    async fn a_dry_run_shows_every_slot_a_run_would_create_and_writes_nothing() {
        let store = store().await;
        let fixtures = store.events().len();
        let res = handle(&store, &clock(), chrono::Duration::zero(), dry_run(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(
            (&json["dry_run"], &json["created"], &json["skipped"]),
            (&true.into(), &8.into(), &0.into())
        );
        let slots = json["slots"].as_array().unwrap();
        assert_eq!(slots.len(), 8);
        // Friday the 15th at 08:00: the weekday price and the 25% premium,
        // times as the availability route writes them (London is UTC in January).
        assert_eq!(
            slots[0],
            serde_json::json!({
                "slot_id": shared::testing::catalog::SLOT,
                "date": "2027-01-15",
                "start": "08:00",
                "end": "08:10",
                "starts_at": "2027-01-15T08:00:00+00:00",
                "ends_at": "2027-01-15T08:10:00+00:00",
                "capacity": 4,
                "unit_price_cents": 6250,
                "premium": true,
                "exists": false,
            })
        );
        assert!(slots.iter().all(|s| s["exists"] == false));
        assert_eq!(slots_held(&store).await, 0, "no slot written");
        assert_eq!(store.events().len(), fixtures, "no event, no activity");
    }

    #[tokio::test]
    async fn after_a_run_a_dry_run_shows_its_slots_as_existing_and_skipped() {
        let store = store().await;
        handle(&store, &clock(), chrono::Duration::zero(), request(FIXTURE))
            .await
            .unwrap();
        let after_run = store.events().len();
        // The same pattern one day longer: the 19th is new.
        let longer = shared::testing::edit(FIXTURE, |json| {
            let mut pattern: serde_json::Value =
                serde_json::from_str(json["body"].as_str().unwrap()).unwrap();
            pattern["to"] = "2027-01-19".into();
            json["body"] = pattern.to_string().into();
        });
        let res = handle(&store, &clock(), chrono::Duration::zero(), dry_run(&longer))
            .await
            .unwrap();
        let json = body(&res);
        assert_eq!((&json["created"], &json["skipped"]), (&2.into(), &8.into()));
        let new: Vec<&str> = json["slots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["exists"] == false)
            .map(|s| s["date"].as_str().unwrap())
            .collect();
        assert_eq!(new, ["2027-01-19", "2027-01-19"]);
        assert_eq!(slots_held(&store).await, 8);
        assert_eq!(store.events().len(), after_run);
    }

    #[tokio::test]
    async fn dry_run_is_true_or_false() {
        let store = store().await;
        let fixtures = store.events().len();
        for bad in ["yes", "1", ""] {
            let res = handle(
                &store,
                &clock(),
                chrono::Duration::zero(),
                with_query(FIXTURE, "dry_run", Some(bad)),
            )
            .await
            .unwrap();
            assert_eq!(refusal(&res), (400, "INVALID_DRY_RUN".into()), "{bad:?}");
        }
        assert_eq!(
            (slots_held(&store).await, store.events().len()),
            (0, fixtures)
        );
        let run = handle(
            &store,
            &clock(),
            chrono::Duration::zero(),
            with_query(FIXTURE, "dry_run", Some("false")),
        )
        .await
        .unwrap();
        assert_eq!(
            body(&run),
            serde_json::json!({ "created": 8, "skipped": 0 })
        );
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
        let res = handle(
            &store,
            &clock(),
            chrono::Duration::zero(),
            dry_run(&shared::testing::edit(FIXTURE, |json| {
                json["requestContext"]["authorizer"]["lambda"]["role"] = "USER".into();
            })),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()), "a dry run too");
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
        for req in [request(FIXTURE), dry_run(FIXTURE)] {
            let res = handle(&store, &late, chrono::Duration::zero(), req)
                .await
                .unwrap();
            assert_eq!(refusal(&res), (409, "SLOT_IN_PAST".into()));
        }
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
