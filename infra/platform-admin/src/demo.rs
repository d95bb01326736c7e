//! The demo catalog `infra/up.sh` loads: something to book on a fresh local
//! cloud. Fixed ids, so loading it twice (`--persist`) changes nothing. Two
//! companies: Fairway & Hall Group owns the golf club and the concert hall,
//! Canal Spaces the coworking hub.

use chrono::Duration;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::adapters::dynamo::company::DynamoCompanies;
use shared::catalog::events::SlotsGenerated;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::catalog::{
    BackNine, CatalogStatus, GenerationRequest, Prices, RangeRules, Resource, ResourceId,
    ResourceKind, SeatMapRequest, SeatSpec, SlotId, TimeZone, Venue, VenueId, VenueKind,
};
use shared::company::ports::{CompanyReader, CompanyStore};
use shared::company::{Company, CompanyStatus};
use shared::identity::events::AdminActivity;
use shared::identity::{CompanyId, Email};
use shared::{AppError, CorrelationId};

/// Who the demo's catalog writes are recorded as done by.
const DEMO: &str = "platform-admin seed-demo";

/// `activity`, done by the demo loader, as the event its write records.
fn demo_activity(activity: &AdminActivity) -> Result<shared::EventEnvelope, AppError> {
    shared::EventEnvelope::of(activity, CorrelationId::generate())
        .map_err(|e| AppError::internal("encoding AdminActivity", e))
}

fn id<T>(parse: fn(&str) -> Result<T, AppError>, raw: &str) -> Result<T, AppError> {
    parse(raw)
}

/// The demo's companies, created unless they exist.
async fn companies(store: &DynamoCompanies) -> Result<(CompanyId, CompanyId), AppError> {
    let group = id(CompanyId::parse, "0195f0a4-0000-7000-8000-0000000000c1")?;
    let canal = id(CompanyId::parse, "0195f0a4-0000-7000-8000-0000000000c2")?;
    for (company, name, contact) in [
        (
            &group,
            "Fairway & Hall Group",
            "office@fairway-hall.example",
        ),
        (&canal, "Canal Spaces", "hello@canal-spaces.example"),
    ] {
        if store.company(company).await?.is_some() {
            continue;
        }
        let company = Company {
            id: company.clone(),
            name: name.into(),
            contact_email: Email::parse(contact)?,
            status: CompanyStatus::Active,
            created_at: shared::clock::Clock::now(&shared::clock::SystemClock),
        };
        let activity = demo_activity(&AdminActivity::CompanyCreated {
            company_id: company.id.clone(),
            name: company.name.clone(),
            actor: DEMO.into(),
        })?;
        store.create(&company, &activity).await?;
    }
    Ok((group, canal))
}

pub async fn seed(
    store: &DynamoCatalog,
    company_store: &DynamoCompanies,
    days: i64,
) -> Result<String, AppError> {
    if !(1..=60).contains(&days) {
        return Err(AppError::validation("INVALID_DAYS", "days must be 1 to 60"));
    }
    let (group, canal) = companies(company_store).await?;
    // From tomorrow at the venue furthest ahead of UTC (Seoul): today's
    // slots may have started already, and a started slot takes no bookings.
    let zone = |name| TimeZone::parse(name);
    let (seoul, vienna, amsterdam) = (
        zone("Asia/Seoul")?,
        zone("Europe/Vienna")?,
        zone("Europe/Amsterdam")?,
    );
    let from = shared::clock::today_in(
        seoul.tz(),
        shared::clock::Clock::now(&shared::clock::SystemClock),
    ) + Duration::days(1);
    let to = from + Duration::days(days - 1);
    let links = id(VenueId::parse, "0195f0a4-0000-7000-8000-000000000001")?;
    let hall = id(VenueId::parse, "0195f0a4-0000-7000-8000-000000000002")?;
    let hub = id(VenueId::parse, "0195f0a4-0000-7000-8000-000000000003")?;
    let back = id(ResourceId::parse, "0195f0a4-0000-7000-8000-000000000011")?;
    let front = id(ResourceId::parse, "0195f0a4-0000-7000-8000-000000000012")?;
    let concert = id(ResourceId::parse, "0195f0a4-0000-7000-8000-000000000021")?;
    let room = id(ResourceId::parse, "0195f0a4-0000-7000-8000-000000000031")?;
    for (vid, company, name, kind, city, time_zone) in [
        (
            &links,
            &group,
            "Royal Links",
            VenueKind::GolfClub,
            "Seoul",
            seoul,
        ),
        (
            &hall,
            &group,
            "Musikverein",
            VenueKind::ConcertHall,
            "Vienna",
            vienna,
        ),
        (
            &hub,
            &canal,
            "Canal Hub",
            VenueKind::Coworking,
            "Amsterdam",
            amsterdam,
        ),
    ] {
        let activity = demo_activity(&AdminActivity::VenueCreated {
            company_id: company.clone(),
            venue_id: vid.to_string(),
            name: name.into(),
            actor: DEMO.into(),
        })?;
        store
            .create_venue(
                &Venue {
                    id: vid.clone(),
                    company_id: Some(company.clone()),
                    name: name.into(),
                    kind,
                    city: city.into(),
                    time_zone,
                    status: CatalogStatus::Open,
                },
                &activity,
            )
            .await?;
    }
    let resource = |id: &ResourceId, venue: &VenueId, name: &str, kind| Resource {
        id: id.clone(),
        venue_id: venue.clone(),
        name: name.into(),
        kind,
        status: CatalogStatus::Open,
        range: None,
        back_nine: None,
        waiting_room: None,
    };
    for (resource, company) in [
        (
            resource(&back, &links, "Old Course, back nine", ResourceKind::Course),
            &group,
        ),
        (
            Resource {
                back_nine: Some(BackNine {
                    resource_id: back.clone(),
                    turn_minutes: 120,
                }),
                ..resource(&front, &links, "Old Course", ResourceKind::Course)
            },
            &group,
        ),
        (
            resource(
                &concert,
                &hall,
                "Evening concert",
                ResourceKind::Performance,
            ),
            &group,
        ),
        (
            Resource {
                range: Some(RangeRules {
                    unit_minutes: 15,
                    opens: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
                    closes: chrono::NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
                    unit_price_cents: 500,
                }),
                ..resource(&room, &hub, "Meeting room 1", ResourceKind::Room)
            },
            &canal,
        ),
    ] {
        let activity = demo_activity(&AdminActivity::ResourceCreated {
            company_id: Some(company.clone()),
            venue_id: resource.venue_id.to_string(),
            resource_id: resource.id.to_string(),
            kind: resource.kind.as_str().into(),
            actor: DEMO.into(),
        })?;
        store.create_resource(&resource, &activity).await?;
    }

    let tee_times = |first: u32, count: u32| -> Vec<String> {
        (0..count)
            .map(|i| format!("{:02}:{:02}", first + i / 6, (i % 6) * 10))
            .collect()
    };
    let pattern =
        |start_times: Vec<String>, capacity, prices, premium: Vec<String>| GenerationRequest {
            from,
            to,
            start_times,
            duration_minutes: 10,
            capacity,
            prices,
            holidays: Vec::new(),
            premium_start_times: premium,
            premium_surcharge_percent: 25,
            weekdays: None,
        };
    let golf = Prices {
        weekday: 8000,
        weekend: 11000,
        holiday: 12000,
    };
    let mut created = 0;
    for (rid, request) in [
        (&front, pattern(tee_times(7, 30), 4, golf, tee_times(8, 6))),
        (&back, pattern(tee_times(9, 30), 4, golf, Vec::new())),
        (
            &concert,
            GenerationRequest {
                duration_minutes: 150,
                ..pattern(
                    vec!["19:30".into()],
                    100,
                    Prices {
                        weekday: 0,
                        weekend: 0,
                        holiday: 0,
                    },
                    Vec::new(),
                )
            },
        ),
    ] {
        let slots = request.slots(rid)?;
        let generated = SlotsGenerated {
            resource_id: rid.clone(),
            from,
            to,
            requested: slots.len(),
            by: "demo".into(),
            created: 0,
            skipped: 0,
            part: 1,
            parts: 1,
        };
        let activity = |summary: &shared::catalog::GenerationSummary| {
            demo_activity(&AdminActivity::SlotsGenerated {
                company_id: Some(group.clone()),
                resource_id: rid.to_string(),
                from,
                to,
                created: summary.created,
                skipped: summary.skipped,
                actor: DEMO.into(),
            })
        };
        created += store
            .generate(&slots, &generated, &activity, &CorrelationId::generate())
            .await?
            .created;
    }
    let seats: Vec<SeatSpec> = ["A", "B", "C", "D", "E"]
        .iter()
        .flat_map(|row| {
            (1..=10).map(move |n| SeatSpec {
                id: format!("{row}-{n}"),
                section: if *row < "C" {
                    "Stalls".into()
                } else {
                    "Balcony".into()
                },
                tier: if *row < "C" { "A".into() } else { "B".into() },
            })
        })
        .collect();
    let map = SeatMapRequest {
        tiers: [("A".into(), 9000), ("B".into(), 5000)].into(),
        seats,
    };
    let seats = map.seats()?;
    let mut date = from;
    while date <= to {
        let slot = SlotId {
            resource_id: concert.clone(),
            date,
            start: chrono::NaiveTime::from_hms_opt(19, 30, 0).unwrap_or_default(),
        };
        let activity = |summary: &shared::catalog::SeatMapSummary| {
            demo_activity(&AdminActivity::SeatMapSet {
                company_id: Some(group.clone()),
                slot_id: slot.to_string(),
                created: summary.created,
                skipped: summary.skipped,
                capacity: summary.capacity,
                actor: DEMO.into(),
            })
        };
        store.set_seat_map(&slot, &seats, &activity).await?;
        date += Duration::days(1);
    }
    Ok(format!(
        "demo catalog loaded ({created} new slots, {from} to {to}): GET /venues; \
         tee times GET /resources/{front}/availability?date={from} (\"holes\":18 turns onto the back nine); \
         seats GET /slots/{concert}@{from}T19:30/seats; room GET /resources/{room}/free-ranges?date={from}"
    ))
}
