//! The counting rules and the use cases over twins, with a fixed clock.

use chrono::{Duration, NaiveDate};

use super::ports::{Counted, FiguresStore};
use super::*;
use crate::adapters::memory::MemoryWallets;
use crate::booking::events::Placement;
use crate::booking::{Booking, BookingId};
use crate::catalog::TimeZone;
use crate::identity::{Caller, Role, UserId};
use crate::payment::ports::PaymentStore;
use crate::payment::{PaymentMethod, PaymentStatus, new_payment};
use crate::testing::booking::{at, booking_of};
use crate::testing::catalog::{self, RESOURCE};
use crate::{CorrelationId, EventEnvelope};

use super::service::RangeQuery;
use crate::testing::reporting::{Twin, twin};

fn admin() -> Caller {
    Caller::new(UserId::generate(), Role::Admin)
}

fn envelope(event: &impl crate::events::Event) -> EventEnvelope {
    EventEnvelope::of(event, CorrelationId::generate()).expect("an event")
}

fn created(b: &Booking) -> EventEnvelope {
    envelope(&BookingCreated {
        booking_id: b.id.clone(),
        number: b.number.clone(),
        user_id: b.user_id.clone(),
        kind: b.kind.clone(),
        slot_id: b.slot_id.clone(),
        quantity: b.quantity,
        price_cents: b.price_cents,
        currency: b.currency.clone(),
        hold_expires_at: b.hold_expires_at,
        starts_at: b.starts_at.to_utc(),
        payment: Some(PaymentMethod::Wallet),
    })
}

fn confirmed(b: &Booking) -> EventEnvelope {
    envelope(&BookingConfirmed {
        booking_id: b.id.clone(),
        number: b.number.clone(),
        user_id: b.user_id.clone(),
        slot_id: b.slot_id.clone(),
        quantity: b.quantity,
        price_cents: b.price_cents,
        currency: b.currency.clone(),
    })
}

fn ended(b: &Booking, from: BookingStatus, to: BookingStatus, percent: u32) -> BookingEnded {
    BookingEnded {
        booking_id: b.id.clone(),
        user_id: b.user_id.clone(),
        slot_id: b.slot_id.clone(),
        quantity: b.quantity,
        from,
        to,
        reason: "test".into(),
        refund_percent: percent,
        price_cents: b.price_cents,
        payment: Some(PaymentMethod::Wallet),
    }
}

/// Cancelled at `at(2)`, when [`stored`] bookings last changed.
fn cancelled(b: &Booking, from: BookingStatus, percent: u32) -> EventEnvelope {
    let mut event = envelope(&BookingCancelled(ended(
        b,
        from,
        BookingStatus::Cancelled,
        percent,
    )));
    event.occurred_at = at(2);
    event
}

fn day(raw: &str) -> NaiveDate {
    raw.parse().expect("a date")
}

fn query<'a>(from: &'a str, to: &'a str, by: &'a str) -> RangeQuery<'a> {
    RangeQuery {
        from: Some(from),
        to: Some(to),
        by: Some(by),
    }
}

fn range(from: &str, to: &str) -> DateRange {
    DateRange::new(day(from), day(to)).expect("a range")
}

/// A booking of the fixtures' course slot, in `status`, stored in `twin`.
fn stored(twin: &Twin, status: BookingStatus, confirmed: bool) -> Booking {
    let mut b = booking_of(BookingId::generate(), &UserId::generate(), 0);
    b.status = status;
    b.confirmed_at = confirmed.then(|| at(1));
    b.updated_at = at(2);
    twin.bookings.insert(b.clone(), Vec::new());
    b
}

#[test]
fn a_slot_at_eight_in_seoul_counts_on_its_own_day() {
    // 08:00 in Seoul on the 2nd is 23:00 UTC on the 1st.
    let mut b = booking_of(BookingId::generate(), &UserId::generate(), 0);
    b.time_zone = TimeZone::parse("Asia/Seoul").unwrap();
    b.slot_id = crate::catalog::SlotId::parse(&format!("{RESOURCE}@2027-01-02T08:00")).unwrap();
    b.starts_at = b.time_zone.local(b.time_zone.starts_at(&b.slot_id));
    assert_eq!(b.starts_at.to_utc().date_naive(), day("2027-01-01"));
    let tally = tally(&confirmed(&b), &b).unwrap().unwrap();
    assert_eq!(tally.days.len(), 1);
    assert_eq!(tally.days[0].date, day("2027-01-02"));
    assert_eq!(tally.days[0].figures.get(Counter::Places), 2);
    assert_eq!(tally.days[0].figures.money["EUR"].gross_cents, 10_000);
}

#[test]
fn cancellations_are_bucketed_by_their_notice() {
    assert_eq!(Counter::notice(Duration::hours(2)), Counter::NoticeUnder24h);
    assert_eq!(
        Counter::notice(Duration::hours(30)),
        Counter::Notice1To3Days
    );
    assert_eq!(Counter::notice(Duration::days(4)), Counter::Notice3To7Days);
    assert_eq!(Counter::notice(Duration::days(7)), Counter::NoticeOver7Days);
}

#[test]
fn a_room_range_takes_one_place_per_unit_and_a_round_both_tee_times() {
    let mut room = booking_of(BookingId::generate(), &UserId::generate(), 0);
    room.kind = "range".into();
    room.quantity = 1;
    room.units = ["08:00", "08:15", "08:30"]
        .iter()
        .map(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").unwrap())
        .collect();
    let places = places_of(&room, &room.slot_id, room.quantity);
    assert_eq!(places.len(), 3);
    assert!(places.iter().all(|(_, p)| *p == 1));
    let mut round = booking_of(BookingId::generate(), &UserId::generate(), 0);
    round.back_nine_slot_id =
        Some(crate::catalog::SlotId::parse(&format!("{RESOURCE}@2027-01-15T10:10")).unwrap());
    let places = places_of(&round, &round.slot_id, round.quantity);
    assert_eq!(places.iter().map(|(_, p)| p).sum::<i64>(), 4);
}

#[test]
fn a_hold_moved_to_another_day_moves_its_count() {
    let b = booking_of(BookingId::generate(), &UserId::generate(), 0);
    let to = crate::catalog::SlotId::parse(&format!("{RESOURCE}@2027-01-16T08:00")).unwrap();
    let placement = |slot: &crate::catalog::SlotId| Placement {
        slot_id: slot.clone(),
        quantity: 2,
        price_cents: 10_000,
    };
    let event = envelope(&BookingModified {
        booking_id: b.id.clone(),
        user_id: b.user_id.clone(),
        from: placement(&b.slot_id),
        to: placement(&to),
    });
    let tally = tally(&event, &b).unwrap().unwrap();
    let by_day: Vec<(NaiveDate, i64)> = tally
        .days
        .iter()
        .map(|d| (d.date, d.figures.get(Counter::Created)))
        .collect();
    assert_eq!(
        by_day,
        vec![(day("2027-01-15"), -1), (day("2027-01-16"), 1)]
    );
}

#[tokio::test]
async fn each_event_counts_once_whatever_the_order_and_the_repeats() {
    let twin = twin().await;
    let b = stored(&twin, BookingStatus::Cancelled, true);
    let events = [
        cancelled(&b, BookingStatus::Confirmed, 50),
        created(&b),
        confirmed(&b),
    ];
    for round in 0..3 {
        for event in &events {
            let counted = twin.count(event).await.unwrap().unwrap();
            let expected = if round == 0 {
                Counted::New
            } else {
                Counted::Duplicate
            };
            assert_eq!(counted, expected);
        }
    }
    let days = twin
        .figures
        .days(
            &Subject::Venue(b.venue_id.clone()),
            range("2027-01-15", "2027-01-15"),
        )
        .await
        .unwrap();
    let f = &days[&day("2027-01-15")];
    assert_eq!(f.get(Counter::Created), 1);
    assert_eq!(f.get(Counter::Confirmed), 1);
    assert_eq!(f.get(Counter::Cancelled), 1);
    assert_eq!(f.get(Counter::Places), 0);
    // Cancelled at 09:32 on the 10th, for the 15th at 08:00: 4 days ahead.
    assert_eq!(f.get(Counter::Notice3To7Days), 1);
    assert_eq!(
        f.money["EUR"],
        Money {
            gross_cents: 10_000,
            refunds_cents: 5_000
        }
    );
    assert_eq!(twin.figures.counted(), 3);
}

#[tokio::test]
async fn events_the_figures_do_not_count_are_passed_over() {
    let twin = twin().await;
    let ping = envelope(&crate::events::Ping::Diagnostic { note: "x".into() });
    assert_eq!(twin.count(&ping).await.unwrap(), None);
    assert_eq!(twin.figures.counted(), 0);
}

#[tokio::test]
async fn statistics_sum_by_day_and_week_with_the_places_the_catalog_offers() {
    let twin = twin().await;
    let b = stored(&twin, BookingStatus::Confirmed, true);
    twin.count(&created(&b)).await.unwrap();
    twin.count(&confirmed(&b)).await.unwrap();
    let subject = Subject::Resource(b.slot_id.resource_id.clone());
    let by_day = twin
        .stats(&admin(), &subject, query("2027-01-14", "2027-01-18", "day"))
        .await
        .unwrap();
    assert_eq!(by_day.rows.len(), 5);
    let friday = &by_day.rows[1];
    assert_eq!(friday.start, Some(day("2027-01-15")));
    // Two tee times of 4 places: 2 of 8 sold.
    assert_eq!((friday.places_sold, friday.places_offered), (2, 8));
    assert_eq!(friday.occupancy, Some(0.25));
    assert_eq!(by_day.total.revenue["EUR"].net_cents, 10_000);
    let by_week = twin
        .stats(
            &admin(),
            &subject,
            query("2027-01-14", "2027-01-18", "week"),
        )
        .await
        .unwrap();
    // Thursday to Sunday is one ISO week, Monday the 18th the next.
    let starts: Vec<_> = by_week.rows.iter().map(|r| r.start).collect();
    assert_eq!(
        starts,
        vec![Some(day("2027-01-11")), Some(day("2027-01-18"))]
    );
    assert_eq!(by_week.rows[0].bookings.confirmed, 1);
}

#[tokio::test]
async fn the_dashboard_reads_today_at_the_venue_and_draws_the_week() {
    let twin = twin().await;
    let b = stored(&twin, BookingStatus::Confirmed, true);
    twin.count(&confirmed(&b)).await.unwrap();
    let dashboard = twin.dashboard(&admin(), &b.venue_id).await.unwrap();
    assert_eq!(dashboard.today, day("2027-01-10"));
    assert_eq!(dashboard.next_7_days.places_sold, 2);
    assert_eq!(dashboard.today_figures.places_sold, 0);
    assert_eq!(dashboard.busiest_slots[0].slot_id, b.slot_id.to_string());
    assert_eq!(dashboard.busiest_slots[0].occupancy, Some(0.5));
    // Friday (row 4), 08:00 (column 8): 2 of 8 places.
    let matrix = &dashboard.occupancy_matrix;
    assert_eq!(matrix.places_offered[4][8], 8);
    assert_eq!(matrix.occupancy[4][8], Some(0.25));
    assert_eq!(matrix.occupancy[0][8], None);
}

#[tokio::test]
async fn reporting_routes_refuse_a_customer_and_hide_other_companies() {
    let twin = twin().await;
    let user = Caller::new(UserId::generate(), Role::User);
    let subject = Subject::Venue(catalog::venue_id());
    let refused = twin
        .stats(&user, &subject, query("2027-01-15", "2027-01-15", "day"))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 403);
    let refused = twin
        .dashboard(&user, &catalog::venue_id())
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn an_export_pages_through_every_booking_with_its_payment() {
    let twin = twin().await;
    let payments = MemoryWallets::default();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let b = stored(&twin, BookingStatus::Confirmed, true);
        let paid = new_payment(&b.id, &b.user_id, PaymentMethod::Card, b.price_cents, at(1));
        payments
            .record_completed(&paid, &CorrelationId::generate())
            .await
            .unwrap();
        ids.push(b.id.to_string());
    }
    let resource = catalog::slot().resource_id;
    let mut csv = String::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = twin
            .export(
                &payments,
                &admin(),
                &resource,
                query("2027-01-14", "2027-01-16", "day"),
                2,
                cursor.as_deref(),
            )
            .await
            .unwrap();
        pages += 1;
        csv.push_str(&page.csv);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(pages >= 3);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], export::HEADER);
    assert_eq!(lines.len(), 6);
    for id in &ids {
        let row = lines
            .iter()
            .find(|l| l.contains(id.as_str()))
            .expect("a row");
        assert!(row.ends_with(",CONFIRMED,EUR,10000,10000,0"), "{row}");
    }
    let forged = twin
        .export(
            &payments,
            &admin(),
            &resource,
            query("2027-01-14", "2027-01-16", "day"),
            2,
            Some("bm9wZQ"),
        )
        .await
        .unwrap_err();
    assert_eq!(forged.code(), "INVALID_CURSOR");
}

#[tokio::test]
async fn a_rebuild_agrees_with_the_kept_figures_and_names_a_difference() {
    let twin = twin().await;
    let payments = MemoryWallets::default();
    let kept = stored(&twin, BookingStatus::Confirmed, true);
    let refunded = stored(&twin, BookingStatus::Cancelled, true);
    let expired = stored(&twin, BookingStatus::Expired, false);
    let failed = stored(&twin, BookingStatus::Failed, false);
    for b in [&kept, &refunded] {
        let paid = new_payment(&b.id, &b.user_id, PaymentMethod::Card, b.price_cents, at(1));
        payments
            .record_completed(&paid, &CorrelationId::generate())
            .await
            .unwrap();
    }
    let paid = payments.payment(&refunded.id).await.unwrap().unwrap();
    let back = crate::payment::Payment {
        status: PaymentStatus::Refunded,
        refunded_cents: 5_000,
        ..paid
    };
    payments
        .record_card_refund(
            &back,
            PaymentStatus::Completed,
            "50%",
            &CorrelationId::generate(),
        )
        .await
        .unwrap();
    let mut events = Vec::new();
    for b in [&kept, &refunded, &expired, &failed] {
        events.push(created(b));
    }
    events.push(confirmed(&kept));
    events.push(confirmed(&refunded));
    events.push(cancelled(&refunded, BookingStatus::Confirmed, 50));
    events.push(envelope(&BookingExpired(ended(
        &expired,
        BookingStatus::Pending,
        BookingStatus::Expired,
        100,
    ))));
    events.push(envelope(&BookingCancelled(ended(
        &failed,
        BookingStatus::Pending,
        BookingStatus::Failed,
        100,
    ))));
    for event in &events {
        twin.count(event).await.unwrap();
    }
    let venue = catalog::venue_id();
    let days = range("2027-01-14", "2027-01-16");
    let report = twin.rebuild(&payments, &venue, days).await.unwrap();
    assert_eq!(report.bookings, 4);
    assert_eq!(report.differences, Vec::new());
    // A confirmation counted that no booking backs.
    let stray = stored(&twin, BookingStatus::Pending, false);
    twin.count(&confirmed(&stray)).await.unwrap();
    let report = twin.rebuild(&payments, &venue, days).await.unwrap();
    let figures: Vec<(&str, &str)> = report
        .differences
        .iter()
        .map(|d| (d.subject, d.figure.as_str()))
        .collect();
    assert!(figures.contains(&("resource", "confirmed")), "{figures:?}");
    assert!(
        figures.contains(&("venue", "gross_cents.EUR")),
        "{figures:?}"
    );
}

#[test]
fn date_ranges_are_bounded_and_ordered() {
    assert_eq!(
        DateRange::parse(None, Some("2027-01-01"))
            .unwrap_err()
            .code(),
        "MISSING_DATE"
    );
    assert_eq!(
        DateRange::parse(Some("2027-13-01"), Some("2027-01-01"))
            .unwrap_err()
            .code(),
        "INVALID_DATE"
    );
    assert_eq!(
        DateRange::parse(Some("2027-01-02"), Some("2027-01-01"))
            .unwrap_err()
            .code(),
        "INVALID_RANGE"
    );
    assert_eq!(
        DateRange::parse(Some("2027-01-01"), Some("2028-01-02"))
            .unwrap_err()
            .code(),
        "RANGE_TOO_LONG"
    );
    assert_eq!(
        Period::parse(Some("month")).unwrap_err().code(),
        "INVALID_PERIOD"
    );
}
