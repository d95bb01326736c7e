//! Helpers for handler tests: an `events/` fixture with one thing changed,
//! and what a response says. Compiled for this crate's tests and for the
//! function crates' tests (feature `test-support`), never into a function.

use lambda_http::{Body, Request, Response};
use serde_json::Value;

fn fixture_json(fixture: &str) -> Value {
    serde_json::from_str(fixture).expect("the fixture is JSON")
}

fn request_of(json: &Value) -> Request {
    lambda_http::request::from_str(&json.to_string()).expect("the fixture is an HTTP API event")
}

/// The fixture as the request a function receives.
pub fn request(fixture: &str) -> Request {
    request_of(&fixture_json(fixture))
}

/// The fixture, changed by `change`, as JSON text: to change several
/// things at once before making it a request.
pub fn edit(fixture: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut json = fixture_json(fixture);
    change(&mut json);
    json.to_string()
}

/// The fixture with one header set, or removed (`None`).
pub fn with_header(fixture: &str, name: &str, value: Option<&str>) -> Request {
    let mut json = fixture_json(fixture);
    match value {
        Some(value) => json["headers"][name] = value.into(),
        None => {
            if let Some(headers) = json["headers"].as_object_mut() {
                headers.remove(name);
            }
        }
    }
    request_of(&json)
}

/// The fixture with another body.
pub fn with_body(fixture: &str, body: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["body"] = body.into();
    request_of(&json)
}

/// The fixture as sent by a caller of another role (`USER`, `ADMIN`).
pub fn with_role(fixture: &str, role: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["requestContext"]["authorizer"]["lambda"]["role"] = role.into();
    request_of(&json)
}

/// The fixture as sent by another caller: their user id and role.
pub fn with_user(fixture: &str, user_id: &str, role: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["requestContext"]["authorizer"]["lambda"]["user_id"] = user_id.into();
    json["requestContext"]["authorizer"]["lambda"]["role"] = role.into();
    request_of(&json)
}

/// The fixture with one path parameter changed.
pub fn with_path_param(fixture: &str, name: &str, value: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["pathParameters"][name] = value.into();
    request_of(&json)
}

/// The fixture with one query parameter set, or removed (`None`).
pub fn with_query(fixture: &str, name: &str, value: Option<&str>) -> Request {
    let mut json = fixture_json(fixture);
    let mut query = json["queryStringParameters"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    match value {
        Some(value) => query.insert(name.to_owned(), value.into()),
        None => query.remove(name),
    };
    set_query(&mut json, query);
    request_of(&json)
}

/// The fixture with exactly these query parameters.
pub fn with_queries(fixture: &str, pairs: &[(&str, &str)]) -> Request {
    let mut json = fixture_json(fixture);
    let query = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    set_query(&mut json, query);
    request_of(&json)
}

fn set_query(json: &mut Value, query: serde_json::Map<String, Value>) {
    json["rawQueryString"] = query
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("&")
        .into();
    json["queryStringParameters"] = Value::Object(query);
}

/// The response's JSON body.
pub fn body(res: &Response<Body>) -> Value {
    serde_json::from_slice(res.body().as_ref()).expect("a JSON body")
}

/// The stable code of an error response.
pub fn code(res: &Response<Body>) -> String {
    body(res)["code"].as_str().unwrap_or_default().to_owned()
}

/// Status and code of an error response, to compare in one assertion.
pub fn refusal(res: &Response<Body>) -> (u16, String) {
    (res.status().as_u16(), code(res))
}

/// A catalog to test against, matching the `events/catalog-*` fixtures.
pub mod notification;
pub mod reporting;

pub mod catalog {
    use crate::CorrelationId;
    use crate::adapters::memory::MemoryCatalog;
    use crate::catalog::events::SlotsGenerated;
    use crate::catalog::ports::{ResourceStore, SlotStore, VenueStore};
    use crate::catalog::{
        CatalogStatus, GenerationRequest, Resource, ResourceId, ResourceKind, SeatMapRequest,
        SlotId, TimeZone, Venue, VenueId, VenueKind,
    };

    /// The venue the fixtures name.
    pub const VENUE: &str = "0195f0a4-0000-7000-8000-000000000001";

    pub fn venue_id() -> VenueId {
        VenueId::parse(VENUE).expect("an id")
    }

    /// The fixtures' venue's zone, `Europe/London`: UTC in January, when
    /// the fixtures' slots are.
    pub fn zone() -> TimeZone {
        TimeZone::parse("Europe/London").expect("a zone")
    }

    /// The company that owns the fixtures' venue.
    pub const COMPANY: &str = "0195f0a4-5000-7000-8000-000000000001";

    pub fn company_id() -> crate::identity::CompanyId {
        crate::identity::CompanyId::parse(COMPANY).expect("an id")
    }

    /// The event a fixture's catalog write records as its activity.
    pub fn activity() -> crate::EventEnvelope {
        crate::EventEnvelope::of(
            &crate::events::Ping::Diagnostic {
                note: "a fixture's catalog write".into(),
            },
            crate::CorrelationId::generate(),
        )
        .expect("an event")
    }

    /// The fixtures' company, Links Holdings, which owns their venue.
    pub async fn company(store: &crate::adapters::memory::MemoryCompanies) {
        use crate::company::ports::CompanyStore;
        let company = crate::company::Company {
            id: company_id(),
            name: "Links Holdings".into(),
            contact_email: crate::identity::Email::parse("office@links.example").expect("an email"),
            status: crate::company::CompanyStatus::Active,
            created_at: "2027-01-01T00:00:00Z".parse().expect("an instant"),
        };
        let activity = crate::EventEnvelope::of(
            &crate::identity::events::AdminActivity::CompanyCreated {
                company_id: company.id.clone(),
                name: company.name.clone(),
                actor: "fixtures".into(),
            },
            crate::CorrelationId::generate(),
        )
        .expect("an event");
        store.create(&company, &activity).await.expect("a company");
    }

    /// The fixtures' venue, a golf club called Royal Links.
    pub async fn venue(store: &MemoryCatalog) {
        let venue = Venue {
            id: venue_id(),
            company_id: Some(company_id()),
            name: "Royal Links".into(),
            kind: VenueKind::GolfClub,
            city: "St Andrews".into(),
            time_zone: zone(),
            status: CatalogStatus::Open,
        };
        store
            .create_venue(&venue, &activity())
            .await
            .expect("a venue");
    }

    /// The course the fixtures name.
    pub const RESOURCE: &str = "0195f0a4-0000-7000-8000-000000000012";
    /// Its 08:00 tee time on 2027-01-15, the slot the fixtures name.
    pub const SLOT: &str = "0195f0a4-0000-7000-8000-000000000012@2027-01-15T08:00";

    pub fn slot() -> SlotId {
        SlotId::parse(SLOT).expect("a slot id")
    }

    /// The fixtures' course, of the fixtures' venue (created too), with no
    /// slots yet.
    pub async fn course(store: &MemoryCatalog) {
        venue(store).await;
        let course = Resource {
            id: ResourceId::parse(RESOURCE).expect("an id"),
            venue_id: venue_id(),
            name: "Old Course".into(),
            kind: ResourceKind::Course,
            status: CatalogStatus::Open,
            range: None,
            back_nine: None,
            waiting_room: None,
        };
        store
            .create_resource(&course, &activity())
            .await
            .expect("a resource");
    }

    /// The course with tee times at 08:00 (premium) and 08:10 on
    /// 2027-01-15, 4 places each, 5000 cents on weekdays.
    pub async fn course_with_slots(store: &MemoryCatalog) {
        course(store).await;
        let id = ResourceId::parse(RESOURCE).expect("an id");
        let pattern: GenerationRequest = serde_json::from_str(
            r#"{"from":"2027-01-15","to":"2027-01-15","start_times":["08:00","08:10"],
                "duration_minutes":10,"capacity":4,
                "prices":{"weekday":5000,"weekend":7000,"holiday":9000},
                "premium_start_times":["08:00"]}"#,
        )
        .expect("a pattern");
        let slots = pattern.slots(&id).expect("slots");
        let announce = SlotsGenerated {
            resource_id: id,
            from: pattern.from,
            to: pattern.to,
            requested: slots.len(),
            by: "test".into(),
            created: 0,
            skipped: 0,
            part: 1,
            parts: 1,
        };
        store
            .generate(
                &slots,
                &announce,
                &|_| Ok(activity()),
                &CorrelationId::generate(),
            )
            .await
            .expect("generated");
    }

    /// [`course_with_slots`], with the 08:00 slot seated: A-1 and A-2 in
    /// tier A (9000 cents), B-1 in tier B (5000).
    pub async fn seated_slot(store: &MemoryCatalog) {
        course_with_slots(store).await;
        let map: SeatMapRequest = serde_json::from_str(
            r#"{"tiers":{"A":9000,"B":5000},"seats":[
                {"id":"A-1","section":"Stalls","tier":"A"},
                {"id":"A-2","section":"Stalls","tier":"A"},
                {"id":"B-1","section":"Balcony","tier":"B"}]}"#,
        )
        .expect("a seat map");
        store
            .set_seat_map(&slot(), &map.seats().expect("seats"), &|_| Ok(activity()))
            .await
            .expect("seated");
    }
}

/// Bookings to test against, matching the `events/booking-*` fixtures.
pub mod booking {
    use std::sync::Arc;

    use chrono::{DateTime, Duration, Utc};

    use crate::CorrelationId;
    use crate::adapters::memory::{MemoryBookings, MemoryCatalog};
    use crate::booking::service::{self, Attempt, Created};
    use crate::booking::{
        Booking, BookingId, BookingNumber, BookingRequest, BookingStatus, HistoryEntry,
        IdempotencyKey,
    };
    use crate::catalog::SlotId;
    use crate::identity::UserId;

    /// The booking the fixtures name.
    pub const BOOKING: &str = "0195f0a4-7b00-7000-8000-000000000001";
    /// Its owner, the caller of the fixtures.
    pub const OWNER: &str = "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a20";

    /// `minutes` after 2027-01-10T09:30Z, the fixtures' "now".
    pub fn at(minutes: i64) -> DateTime<Utc> {
        "2027-01-10T09:30:00Z"
            .parse::<DateTime<Utc>>()
            .expect("an instant")
            + Duration::minutes(minutes)
    }

    /// A PENDING booking of 2 places on 2027-01-15 at 08:00 by `user`,
    /// made `minutes` after 2027-01-10T09:30Z.
    pub fn booking_of(id: BookingId, user: &UserId, minutes: i64) -> Booking {
        let slot = SlotId::parse(super::catalog::SLOT).expect("a slot");
        Booking {
            id,
            number: BookingNumber::generate(),
            user_id: user.clone(),
            kind: "counted".into(),
            venue_id: super::catalog::venue_id(),
            company_id: Some(super::catalog::company_id()),
            time_zone: super::catalog::zone(),
            slot_id: slot.clone(),
            starts_at: super::catalog::zone().local(super::catalog::zone().starts_at(&slot)),
            quantity: 2,
            unit_price_cents: Some(5000),
            seats: Vec::new(),
            back_nine_slot_id: None,
            ends_at: None,
            units: Vec::new(),
            price_cents: 10_000,
            currency: "EUR".into(),
            payment: None,
            status: BookingStatus::Pending,
            confirmed_at: None,
            hold_expires_at: at(minutes + 15),
            created_at: at(minutes),
            updated_at: at(minutes),
        }
    }

    /// The fixtures' booking, of their caller.
    pub fn booking() -> Booking {
        booking_of(
            BookingId::parse(BOOKING).expect("an id"),
            &UserId::parse(OWNER).expect("an id"),
            0,
        )
    }

    /// The bookings twin over the fixtures' course with its slots
    /// ([`super::catalog::course_with_slots`]).
    pub async fn over_course() -> MemoryBookings {
        let catalog = Arc::new(MemoryCatalog::default());
        super::catalog::course_with_slots(&catalog).await;
        MemoryBookings::over(catalog)
    }

    /// Holds `quantity` places of `slot` for `user` at `now`, as
    /// `POST /bookings` would (a fresh idempotency key, no payment).
    pub async fn hold(
        bookings: &MemoryBookings,
        user: &UserId,
        slot: &SlotId,
        quantity: i64,
        now: DateTime<Utc>,
    ) -> Booking {
        let request = BookingRequest::Counted {
            slot_id: slot.to_string(),
            quantity,
            holes: None,
            payment: None,
        };
        let key = IdempotencyKey::parse(Some(&uuid::Uuid::now_v7().to_string())).expect("a key");
        let attempt = Attempt {
            user,
            key: &key,
            fingerprint: "test",
            hold: Duration::minutes(crate::booking::DEFAULT_HOLD_MINUTES),
            cutoff: Duration::zero(),
            correlation_id: &CorrelationId::generate(),
            now,
            payment: None,
            limits: None,
            pass_token: None,
            passes: None,
        };
        let valid = request.validate().expect("a valid request");
        match service::create(bookings, bookings.catalog(), &attempt, &valid)
            .await
            .expect("held")
        {
            Created::New(booking) => *booking,
            Created::Replayed(_) => panic!("a fresh key replayed"),
        }
    }

    /// How many places of `slot` are booked.
    pub async fn booked(bookings: &MemoryBookings, slot: &SlotId) -> u32 {
        use crate::catalog::ports::SlotStore;
        bookings
            .catalog()
            .get_slot(slot)
            .await
            .expect("a read")
            .expect("the slot")
            .booked
    }

    /// Held, then cancelled by its owner.
    pub fn cancelled_history() -> Vec<HistoryEntry> {
        vec![
            HistoryEntry {
                at: at(0),
                from: None,
                to: BookingStatus::Pending,
                by: OWNER.into(),
                reason: "held".into(),
            },
            HistoryEntry {
                at: at(5),
                from: Some(BookingStatus::Pending),
                to: BookingStatus::Cancelled,
                by: OWNER.into(),
                reason: "cancelled by the customer".into(),
            },
        ]
    }
}

/// Payments to test against, matching the `events/payment-*` fixtures.
pub mod payment {
    use chrono::{DateTime, Utc};

    use crate::CorrelationId;
    use crate::adapters::memory::{MemoryCards, MemoryWallets};
    use crate::clock::FixedClock;
    use crate::identity::UserId;
    use crate::kernel::IdempotencyKey;
    use crate::payment::TopUp;
    use crate::payment::ports::{Credit, CreditOrder, WalletStore};
    use crate::payment::service::Payments;

    /// The customer of the payment fixtures.
    pub const CUSTOMER: &str = "0193a5f2-7a00-7000-8000-000000000001";

    pub fn customer() -> UserId {
        UserId::parse(CUSTOMER).expect("an id")
    }

    /// The fixtures' "now": ten minutes after their holds were taken, five
    /// before they run out.
    pub fn now() -> DateTime<Utc> {
        "2026-11-21T10:10:00Z".parse().expect("an instant")
    }

    /// The payment saga over twins.
    pub type TwinPayments = Payments<MemoryWallets, MemoryCards, FixedClock>;

    /// The payment saga over twins, at [`now`].
    pub fn payments() -> TwinPayments {
        Payments {
            store: MemoryWallets::default(),
            cards: MemoryCards::default(),
            clock: FixedClock::at(now()),
        }
    }

    /// Tops up `user`'s wallet by `points`, as a paid card top-up does.
    pub async fn fund(wallets: &MemoryWallets, user: &UserId, points: i64) {
        let key = IdempotencyKey::parse(Some(&uuid::Uuid::now_v7().to_string())).expect("a key");
        wallets
            .credit(&CreditOrder {
                user,
                key: &key,
                fingerprint: "test",
                points: TopUp::parse(points).expect("points"),
                credit: Credit::Card {
                    charge_id: "ch_test",
                },
                correlation_id: &CorrelationId::generate(),
                now: now(),
            })
            .await
            .expect("funded");
    }
}

pub mod identity;

pub mod waiting_room {
    use chrono::{DateTime, Utc};

    use crate::CorrelationId;
    use crate::adapters::memory::MemoryWaitingRooms;
    use crate::identity::tokens::SigningKey;
    use crate::waiting_room::pass::PassKeys;
    use crate::waiting_room::ports::WaitingRooms;
    use crate::waiting_room::{Room, RoomId, RoomStatus, Settings};

    /// The room the fixtures name.
    pub const ROOM: &str = "0195f0a4-8000-7000-8000-00000000a001";

    /// One a second, at most ten active, the default pass lifetime and
    /// abandonment.
    pub fn settings() -> Settings {
        Settings {
            rate_per_minute: 60,
            max_active: 10,
            pass_ttl_seconds: crate::waiting_room::DEFAULT_PASS_TTL_SECONDS,
            abandon_after_seconds: crate::waiting_room::DEFAULT_ABANDON_AFTER_SECONDS,
        }
    }

    /// An open room over one resource of the fixtures' venue, created at
    /// `at`, with these settings and optional sale opening.
    pub fn room(
        id: RoomId,
        settings: Settings,
        opens: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Room {
        Room {
            id,
            name: "Spring tour".into(),
            company_id: Some(super::catalog::company_id()),
            resource_ids: vec![
                crate::catalog::ResourceId::parse(super::catalog::RESOURCE).expect("an id"),
            ],
            time_zone: super::catalog::zone(),
            settings,
            sale_opens_at: opens,
            status: RoomStatus::Open,
            created_at: at,
            updated_at: at,
        }
    }

    /// Creates `room` in the store.
    pub async fn create(rooms: &MemoryWaitingRooms, room: &Room) {
        rooms
            .create(room, &super::catalog::activity())
            .await
            .expect("a room");
    }

    /// The fixtures' room, open since `at`, in a store of its own.
    pub async fn fixture_room(at: DateTime<Utc>) -> (MemoryWaitingRooms, Room) {
        let rooms = MemoryWaitingRooms::default();
        let room = room(RoomId::parse(ROOM).expect("an id"), settings(), None, at);
        create(&rooms, &room).await;
        (rooms, room)
    }

    /// Pass keys under a test signing key.
    pub fn passes() -> PassKeys {
        PassKeys::new(&SigningKey::new(vec![7; 32]).expect("a key"), "tests")
    }

    /// A correlation id for a tick.
    pub fn correlation() -> CorrelationId {
        CorrelationId::generate()
    }
}
