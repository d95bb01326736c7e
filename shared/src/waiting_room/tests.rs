use super::*;
use chrono::TimeZone as _;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap()
}

fn room() -> Room {
    Room {
        id: RoomId::parse("0195f0a4-8000-7000-8000-00000000a001").unwrap(),
        name: "Spring tour".into(),
        company_id: None,
        resource_ids: vec![],
        time_zone: TimeZone::parse("Europe/London").unwrap(),
        settings: Settings {
            rate_per_minute: 60,
            max_active: 10,
            pass_ttl_seconds: 300,
            abandon_after_seconds: 60,
        },
        sale_opens_at: None,
        status: RoomStatus::Open,
        created_at: now(),
        updated_at: now(),
    }
}

fn ticket(position: Option<u64>) -> Ticket {
    let user = UserId::parse("0195f0a4-5000-7000-8000-000000000001").unwrap();
    Ticket {
        position,
        ..Ticket::new(&room(), &user, now())
    }
}

#[test]
fn settings_out_of_bounds_are_refused_with_their_own_code() {
    let ok = room().settings;
    assert!(ok.validate().is_ok());
    for (bad, code) in [
        (
            Settings {
                rate_per_minute: 0,
                ..ok
            },
            "INVALID_RATE",
        ),
        (
            Settings {
                max_active: 0,
                ..ok
            },
            "INVALID_MAX_ACTIVE",
        ),
        (
            Settings {
                pass_ttl_seconds: 5,
                ..ok
            },
            "INVALID_PASS_TTL",
        ),
        (
            Settings {
                abandon_after_seconds: 1,
                ..ok
            },
            "INVALID_ABANDON_AFTER",
        ),
    ] {
        assert_eq!(bad.validate().unwrap_err().code(), code);
    }
}

#[test]
fn a_waiting_ticket_sees_its_place_the_wait_and_when_to_poll() {
    let progress = Progress {
        cursor: 10,
        ..Progress::default()
    };
    let status = Status::of(&room(), &progress, &ticket(Some(41)), None, now());
    assert_eq!(status.state, Standing::Waiting);
    assert_eq!(status.ahead, Some(30));
    assert_eq!(
        status.estimated_wait_seconds,
        Some(30),
        "30 ahead at 60 a minute"
    );
    assert_eq!(status.retry_after_seconds, 7);
    // Far back: polls seldom, but often enough to keep the place (60 s).
    let far = Status::of(&room(), &progress, &ticket(Some(5_000)), None, now());
    assert_eq!(far.retry_after_seconds, 20);
    // Not yet positioned: soon.
    let new = Status::of(&room(), &progress, &ticket(None), None, now());
    assert_eq!((new.position, new.retry_after_seconds), (None, 2));
}

#[test]
fn sold_out_closed_silent_and_lapsed_tickets_say_so() {
    let sold = Progress {
        sold_out: true,
        ..Progress::default()
    };
    let t = ticket(Some(3));
    assert_eq!(
        Status::of(&room(), &sold, &t, None, now()).state,
        Standing::SoldOut
    );
    let closed = Room {
        status: RoomStatus::Closed,
        ..room()
    };
    let p = Progress::default();
    assert_eq!(
        Status::of(&closed, &p, &t, None, now()).state,
        Standing::Closed
    );
    let later = now() + Duration::seconds(61);
    assert_eq!(
        Status::of(&room(), &p, &t, None, later).state,
        Standing::Expired
    );
    let admitted = Ticket {
        state: TicketState::Admitted,
        pass_id: Some("p".into()),
        pass_expires_at: Some(now() + Duration::minutes(5)),
        ..t.clone()
    };
    let s = Status::of(&room(), &p, &admitted, Some("token".into()), now());
    assert_eq!(
        (s.state, s.pass_token.as_deref()),
        (Standing::Admitted, Some("token"))
    );
    let lapsed = Status::of(
        &room(),
        &p,
        &admitted,
        Some("token".into()),
        now() + Duration::minutes(5),
    );
    assert_eq!((lapsed.state, lapsed.pass_token), (Standing::Expired, None));
    let used = Ticket {
        state: TicketState::Used,
        ..admitted
    };
    let s = Status::of(&room(), &p, &used, None, now());
    assert_eq!((s.state, s.pass_used), (Standing::Admitted, true));
}

#[test]
fn the_prequeue_is_who_enters_before_the_opening_and_the_gate_refuses_early_bookings() {
    let opening = Room {
        sale_opens_at: Some(now() + Duration::minutes(10)),
        ..room()
    };
    let user = UserId::parse("0195f0a4-5000-7000-8000-000000000001").unwrap();
    assert!(Ticket::new(&opening, &user, now()).prequeue);
    assert!(!Ticket::new(&opening, &user, now() + Duration::minutes(10)).prequeue);
    let gate = Gate {
        room_id: opening.id.clone(),
        sale_opens_at: opening.sale_opens_at,
    };
    assert_eq!(gate.check_open(now()).unwrap_err().code(), "SALE_NOT_OPEN");
    assert!(gate.check_open(now() + Duration::minutes(10)).is_ok());
    let status = Status::of(
        &opening,
        &Progress::default(),
        &Ticket::new(&opening, &user, now()),
        None,
        now(),
    );
    assert_eq!(status.estimated_wait_seconds, Some(600));
}

#[test]
fn a_change_names_its_fields_and_a_closed_room_changes_no_more() {
    let request = UpdateRoomRequest {
        rate_per_minute: Some(120),
        status: Some(RoomStatus::Paused),
        ..UpdateRoomRequest::default()
    };
    let (after, fields) = request.apply(&room()).unwrap();
    assert_eq!(fields, vec!["rate_per_minute", "status"]);
    assert_eq!(
        (after.settings.rate_per_minute, after.status),
        (120, RoomStatus::Paused)
    );
    let same = UpdateRoomRequest {
        rate_per_minute: Some(60),
        ..UpdateRoomRequest::default()
    };
    assert_eq!(same.apply(&room()).unwrap_err().code(), "NOTHING_TO_CHANGE");
    let closed = Room {
        status: RoomStatus::Closed,
        ..room()
    };
    assert_eq!(request.apply(&closed).unwrap_err().code(), "ROOM_CLOSED");
    let bad = UpdateRoomRequest {
        rate_per_minute: Some(0),
        ..UpdateRoomRequest::default()
    };
    assert_eq!(bad.apply(&room()).unwrap_err().code(), "INVALID_RATE");
}

#[test]
fn a_creation_names_one_to_twenty_distinct_resources() {
    let request = |ids: Vec<String>| CreateRoomRequest {
        name: "Tour".into(),
        resource_ids: ids,
        rate_per_minute: 100,
        max_active: 50,
        pass_ttl_seconds: None,
        abandon_after_seconds: None,
        sale_opens_at: None,
    };
    let id = "0195f0a4-5000-7000-8000-000000000009".to_owned();
    let ok = request(vec![id.clone()]).validate().unwrap();
    assert_eq!(ok.settings.pass_ttl_seconds, DEFAULT_PASS_TTL_SECONDS);
    assert_eq!(
        request(vec![]).validate().unwrap_err().code(),
        "INVALID_RESOURCES"
    );
    assert_eq!(
        request(vec![id.clone(), id]).validate().unwrap_err().code(),
        "INVALID_RESOURCES"
    );
    assert_eq!(
        request(vec!["x".into()]).validate().unwrap_err().code(),
        "INVALID_RESOURCE_ID"
    );
}
