//! The waiting room's use cases over the in-memory store, with a fixed
//! clock: entering, polling, and the admitter's tick (order, rate, cap,
//! stock, abandonment, lapsed passes, the pre-queue, two admitters at once).

use chrono::{DateTime, Duration, TimeZone as _, Utc};

use super::pass::PassKeys;
use super::ports::WaitingRooms as _;
use super::service::{self, EXPIRY_GRACE_SECONDS, OPENING_GRACE_SECONDS};
use super::*;
use crate::CorrelationId;
use crate::adapters::memory::MemoryWaitingRooms;
use crate::events::EventType;
use crate::identity::{Caller, Role, UserId};
use crate::testing::waiting_room as testing;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

fn passes() -> PassKeys {
    testing::passes()
}

/// An open room created at `t0` with these settings.
async fn open_room(settings: Settings, opens: Option<DateTime<Utc>>) -> (MemoryWaitingRooms, Room) {
    let rooms = MemoryWaitingRooms::default();
    let room = testing::room(RoomId::generate(), settings, opens, t0());
    testing::create(&rooms, &room).await;
    (rooms, room)
}

fn settings(rate_per_minute: u32, max_active: u32) -> Settings {
    Settings {
        rate_per_minute,
        max_active,
        pass_ttl_seconds: 300,
        abandon_after_seconds: 120,
    }
}

fn callers(n: usize) -> Vec<Caller> {
    (0..n)
        .map(|_| Caller::new(UserId::generate(), Role::User))
        .collect()
}

/// Everyone enters, one millisecond apart from `from`.
async fn enter_all(rooms: &MemoryWaitingRooms, room: &Room, who: &[Caller], from: DateTime<Utc>) {
    for (i, c) in who.iter().enumerate() {
        let now = from + Duration::milliseconds(i as i64);
        let entered = service::enter(rooms, &passes(), c, &room.id, now)
            .await
            .unwrap();
        assert!(entered.new);
    }
}

async fn tick(rooms: &MemoryWaitingRooms, now: DateTime<Utc>) -> service::TickReport {
    service::tick(rooms, &CorrelationId::generate(), now)
        .await
        .unwrap()
}

async fn standing(
    rooms: &MemoryWaitingRooms,
    room: &Room,
    c: &Caller,
    now: DateTime<Utc>,
) -> Status {
    service::status(rooms, &passes(), c, &room.id, now)
        .await
        .unwrap()
}

/// The positions of the admitted tickets, sorted.
fn admitted(rooms: &MemoryWaitingRooms, room: &Room) -> Vec<u64> {
    let mut p: Vec<u64> = rooms
        .tickets(&room.id)
        .iter()
        .filter(|t| t.state == TicketState::Admitted)
        .map(|t| t.position.unwrap())
        .collect();
    p.sort_unstable();
    p
}

#[tokio::test]
async fn entering_again_answers_the_same_ticket() {
    let (rooms, room) = open_room(settings(60, 10), None).await;
    let who = callers(2);
    enter_all(&rooms, &room, &who, at(0)).await;
    let again = service::enter(&rooms, &passes(), &who[0], &room.id, at(5))
        .await
        .unwrap();
    assert!(!again.new);
    assert_eq!(again.status.entered_at, at(0));
    assert_eq!(rooms.tickets(&room.id).len(), 2);
}

#[tokio::test]
async fn admission_keeps_to_the_rate_the_cap_and_the_order() {
    // One a second, at most three active.
    let (rooms, room) = open_room(settings(60, 3), None).await;
    let who = callers(6);
    enter_all(&rooms, &room, &who, at(0)).await;

    // The first tick positions everyone by arrival and spends the one
    // second of banked credit: two admissions.
    let first = tick(&rooms, at(1)).await;
    assert_eq!((first.positioned, first.admitted), (6, 2));
    for (i, c) in who.iter().enumerate() {
        assert_eq!(
            standing(&rooms, &room, c, at(1)).await.position,
            Some(i as u64 + 1)
        );
    }
    assert_eq!(tick(&rooms, at(2)).await.admitted, 1);
    // The cap: three active, nobody more however long it waits.
    assert_eq!(tick(&rooms, at(3)).await.admitted, 0);
    assert_eq!(tick(&rooms, at(30)).await.admitted, 0);
    assert_eq!(admitted(&rooms, &room), vec![1, 2, 3]);
    let s = standing(&rooms, &room, &who[0], at(30)).await;
    assert_eq!(s.state, Standing::Admitted);
    assert!(s.pass_token.is_some());
    assert_eq!(
        standing(&rooms, &room, &who[3], at(30)).await.ahead,
        Some(0)
    );

    // A booking uses the first pass: its place goes to the next in line.
    let pass = rooms
        .tickets(&room.id)
        .into_iter()
        .find(|t| t.position == Some(1))
        .unwrap();
    assert!(rooms.use_pass(&room.id, &pass.user_id, pass.pass_id.as_deref().unwrap()));
    assert_eq!(tick(&rooms, at(31)).await.admitted, 1);
    assert_eq!(admitted(&rooms, &room), vec![2, 3, 4]);

    // One UserAdmitted per admission, admission n to position n.
    let events: Vec<_> = rooms
        .events()
        .into_iter()
        .filter(|e| e.event_type == EventType::UserAdmitted)
        .collect();
    let numbers: Vec<(u64, u64)> = events
        .iter()
        .map(|e| {
            (
                e.data["admission_no"].as_u64().unwrap(),
                e.data["position"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(numbers, vec![(1, 1), (2, 2), (3, 3), (4, 4)]);
}

#[tokio::test]
async fn over_any_stretch_no_more_are_admitted_than_the_rate_allows() {
    // 120 a minute, no cap to speak of, 200 waiting, ticks at uneven times.
    let (rooms, room) = open_room(settings(120, 1000), None).await;
    enter_all(&rooms, &room, &callers(200), at(0)).await;
    let mut total = 0;
    let mut now_ms = 1_000;
    for step in [1_000, 300, 2_700, 50, 5_000, 1_000, 900, 10_000] {
        now_ms += step;
        total += tick(&rooms, t0() + Duration::milliseconds(now_ms))
            .await
            .admitted;
        // Two a second since the first tick (at 2,000 ms), plus one
        // second of banked credit.
        let allowed = (now_ms - 2_000 + 1_000) / 500 + 1;
        assert!(total as i64 <= allowed, "{total} admitted by {now_ms} ms");
    }
    // A late tick makes up at most the one second of credit: the long
    // gaps (5 s, 10 s) lose the rest rather than admit it in a burst.
    // 3, 0, 3, 0, 3, 2, 1, 3 by the virtual clock.
    assert_eq!(total, 15);
}

#[tokio::test]
async fn a_silent_ticket_is_skipped_without_using_an_admission() {
    let mut s = settings(600, 10);
    s.abandon_after_seconds = 10;
    let (rooms, room) = open_room(s, None).await;
    let who = callers(3);
    enter_all(&rooms, &room, &who, at(0)).await;
    // Paused: positions, no admissions.
    let mut paused = room.clone();
    paused.status = RoomStatus::Paused;
    assert!(rooms.update(&paused, 0, &rooms.events()[0]).await.unwrap());
    assert_eq!(tick(&rooms, at(1)).await.admitted, 0);
    // The second and third keep polling; the first is silent.
    for c in &who[1..] {
        standing(&rooms, &room, c, at(8)).await;
    }
    let (current, version) = {
        let (r, p) = rooms.get(&room.id).await.unwrap().unwrap();
        (r, p.version)
    };
    let mut open = current;
    open.status = RoomStatus::Open;
    assert!(
        rooms
            .update(&open, version, &rooms.events()[0])
            .await
            .unwrap()
    );
    let report = tick(&rooms, at(12)).await;
    assert_eq!((report.skipped, report.admitted), (1, 2));
    assert_eq!(
        standing(&rooms, &room, &who[0], at(12)).await.state,
        Standing::Expired
    );
    assert_eq!(rooms.get(&room.id).await.unwrap().unwrap().1.admitted, 2);
}

#[tokio::test]
async fn sold_out_stops_admission_and_places_back_resume_it() {
    let (rooms, room) = open_room(settings(600, 10), None).await;
    let who = callers(5);
    enter_all(&rooms, &room, &who, at(0)).await;
    rooms.set_remaining(&room.id, 2);
    // Two places: two admitted, whatever the rate and the cap.
    assert_eq!(tick(&rooms, at(1)).await.admitted, 2);
    assert_eq!(tick(&rooms, at(2)).await.admitted, 0);
    // Both book: nothing is left, and everyone waiting sees it.
    for t in rooms
        .tickets(&room.id)
        .iter()
        .filter(|t| t.state == TicketState::Admitted)
    {
        assert!(rooms.use_pass(&room.id, &t.user_id, t.pass_id.as_deref().unwrap()));
    }
    rooms.set_remaining(&room.id, 0);
    tick(&rooms, at(3)).await;
    for c in &who[2..] {
        assert_eq!(
            standing(&rooms, &room, c, at(3)).await.state,
            Standing::SoldOut
        );
    }
    // A cancel gives one back: the next in line, only.
    rooms.set_remaining(&room.id, 1);
    assert_eq!(tick(&rooms, at(4)).await.admitted, 1);
    assert_eq!(admitted(&rooms, &room), vec![3]);
    assert_eq!(
        standing(&rooms, &room, &who[3], at(4)).await.state,
        Standing::Waiting
    );
}

#[tokio::test]
async fn a_lapsed_pass_frees_its_place() {
    let mut s = settings(600, 1);
    s.pass_ttl_seconds = 30;
    let (rooms, room) = open_room(s, None).await;
    let who = callers(2);
    enter_all(&rooms, &room, &who, at(0)).await;
    assert_eq!(tick(&rooms, at(1)).await.admitted, 1);
    // Still within the pass's life (and the grace after it): held.
    assert_eq!(
        tick(&rooms, at(1 + 30 + EXPIRY_GRACE_SECONDS - 1))
            .await
            .expired,
        0
    );
    standing(&rooms, &room, &who[1], at(30)).await;
    let later = tick(&rooms, at(1 + 30 + EXPIRY_GRACE_SECONDS + 1)).await;
    assert_eq!((later.expired, later.admitted), (1, 1));
    assert_eq!(
        standing(&rooms, &room, &who[0], at(40)).await.state,
        Standing::Expired
    );
    assert_eq!(
        standing(&rooms, &room, &who[1], at(40)).await.state,
        Standing::Admitted
    );
}

#[tokio::test]
async fn the_prequeue_is_shuffled_at_the_opening_and_goes_first() {
    let opens = at(60);
    let (rooms, room) = open_room(settings(6000, 100), Some(opens)).await;
    let early = callers(20);
    enter_all(&rooms, &room, &early, at(0)).await;
    assert_eq!(tick(&rooms, at(30)).await.positioned, 0);
    // Not before the grace after the opening, so every early entry is in.
    assert_eq!(
        tick(&rooms, opens + Duration::seconds(OPENING_GRACE_SECONDS - 1))
            .await
            .positioned,
        0
    );
    let at_opening = tick(&rooms, opens + Duration::seconds(OPENING_GRACE_SECONDS)).await;
    assert_eq!(at_opening.positioned, 20);
    let late = callers(1);
    enter_all(&rooms, &room, &late, opens + Duration::seconds(3)).await;
    tick(&rooms, opens + Duration::seconds(4)).await;
    let mut positions = Vec::new();
    for c in &early {
        positions.push(
            standing(&rooms, &room, c, opens + Duration::seconds(4))
                .await
                .position
                .unwrap(),
        );
    }
    let mut sorted = positions.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=20).collect::<Vec<_>>());
    // The lottery's order, not the arrival's (equal by chance: 1 in 20!).
    assert_ne!(positions, sorted);
    let last = standing(&rooms, &room, &late[0], opens + Duration::seconds(4)).await;
    assert_eq!(last.position, Some(21));
}

#[tokio::test]
async fn two_admitters_at_once_never_admit_anyone_twice() {
    let (rooms, room) = open_room(settings(6000, 1000), None).await;
    enter_all(&rooms, &room, &callers(300), at(0)).await;
    for second in 1..=4 {
        let (a, b) = futures::join!(tick(&rooms, at(second)), tick(&rooms, at(second)));
        assert!(a.admitted + b.admitted <= 101, "one second's worth, once");
    }
    let (_, progress) = rooms.get(&room.id).await.unwrap().unwrap();
    let tickets = rooms.tickets(&room.id);
    let mut numbers: Vec<u64> = tickets.iter().filter_map(|t| t.admission_no).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=progress.admitted).collect::<Vec<_>>());
    assert_eq!(
        admitted(&rooms, &room),
        (1..=progress.admitted).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_room_whose_step_fails_does_not_hold_back_the_others() {
    let (rooms, broken) = open_room(settings(60, 10), None).await;
    // The second room guards a resource of its own.
    let mut healthy = testing::room(RoomId::generate(), settings(60, 10), None, t0());
    healthy.resource_ids = vec![crate::catalog::ResourceId::generate()];
    testing::create(&rooms, &healthy).await;
    enter_all(&rooms, &broken, &callers(3), at(0)).await;
    enter_all(&rooms, &healthy, &callers(3), at(0)).await;
    rooms.break_stock(&broken.id);

    // Whichever of the two comes first, the healthy room moves on.
    let report = tick(&rooms, at(1)).await;
    assert_eq!((report.rooms, report.failed), (2, 1));
    assert_eq!(admitted(&rooms, &healthy), vec![1, 2]);
    assert_eq!(tick(&rooms, at(2)).await.failed, 1);
    assert_eq!(admitted(&rooms, &healthy), vec![1, 2, 3]);
    assert!(admitted(&rooms, &broken).is_empty());
}
