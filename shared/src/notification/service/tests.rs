use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::CorrelationId;
use crate::adapters::memory::LedgerRecord;
use crate::booking::events::BookingEnded;
use crate::identity::{Language, UserId};
use crate::notification::{ChannelChoice, Preferences};
use crate::payment::events::PaymentFacts;
use crate::payment::{FailureReason, PaymentMethod};
use crate::testing::booking::{at, booking};

use crate::testing::notification::Twin;

/// The fixtures' booking (2 places at Royal Links' Old Course, 2027-01-15
/// 08:00 Europe/London, 100.00 EUR), confirmed, of an account speaking
/// `language`.
async fn twin(language: Language) -> (Twin, Booking) {
    let mut booking = booking();
    booking.status = BookingStatus::Confirmed;
    booking.payment = Some(PaymentMethod::Wallet);
    let twin = crate::testing::notification::twin(&booking, language).await;
    (twin, booking)
}

fn confirmed(booking: &Booking) -> EventEnvelope {
    EventEnvelope::of(
        &BookingConfirmed {
            booking_id: booking.id.clone(),
            number: booking.number.clone(),
            user_id: booking.user_id.clone(),
            slot_id: booking.slot_id.clone(),
            quantity: booking.quantity,
            price_cents: booking.price_cents,
            currency: booking.currency.clone(),
        },
        CorrelationId::generate(),
    )
    .unwrap()
}

fn reminder(booking: &Booking, starts_at: DateTime<Utc>, minutes_before: u32) -> Reminder {
    Reminder {
        booking_id: booking.id.clone(),
        starts_at,
        minutes_before,
    }
}

fn modified(booking: &Booking) -> EventEnvelope {
    let placement = crate::booking::events::Placement {
        slot_id: booking.slot_id.clone(),
        quantity: booking.quantity,
        price_cents: booking.price_cents,
    };
    EventEnvelope::of(
        &BookingModified {
            booking_id: booking.id.clone(),
            user_id: booking.user_id.clone(),
            from: placement.clone(),
            to: placement,
        },
        CorrelationId::generate(),
    )
    .unwrap()
}

fn ended(booking: &Booking, to: BookingStatus, refund_percent: u32) -> BookingEnded {
    BookingEnded {
        booking_id: booking.id.clone(),
        user_id: booking.user_id.clone(),
        slot_id: booking.slot_id.clone(),
        quantity: booking.quantity,
        from: BookingStatus::Confirmed,
        to,
        reason: "cancelled by its customer".into(),
        refund_percent,
        price_cents: booking.price_cents,
        payment: booking.payment,
    }
}

fn facts(booking: &Booking, refunded_cents: u64) -> PaymentFacts {
    PaymentFacts {
        booking_id: booking.id.clone(),
        user_id: booking.user_id.clone(),
        method: PaymentMethod::Wallet,
        amount_cents: booking.price_cents,
        refunded_cents,
        charge_id: None,
    }
}

fn sent(outcome: &Outcome) -> Vec<Channel> {
    match outcome {
        Outcome::Notified(deliveries) => deliveries
            .iter()
            .filter(|(_, d)| matches!(d, Delivery::Sent { .. }))
            .map(|(c, _)| *c)
            .collect(),
        Outcome::Nothing { .. } => Vec::new(),
    }
}

#[tokio::test]
async fn a_confirmation_is_sent_once_by_each_channel_however_often_it_is_delivered() {
    let (n, booking) = twin(Language::En).await;
    let event = confirmed(&booking);
    let first = n.on_event(&event).await.unwrap();
    assert_eq!(sent(&first), [Channel::Inbox, Channel::Email, Channel::Sms]);
    for _ in 0..2 {
        let again = n.on_event(&event).await.unwrap();
        assert!(sent(&again).is_empty(), "{again:?}");
    }
    let mails = n.mail.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].to.to_string(),
        format!("{}@example.com", booking.user_id)
    );
    let number = booking.number.as_str().to_owned();
    assert_eq!(mails[0].subject, format!("Booking {number} is confirmed"));
    assert!(
        mails[0].text.contains("Royal Links, Old Course"),
        "{}",
        mails[0].text
    );
    assert!(
        mails[0]
            .text
            .contains("Friday 15 January 2027, 08:00 (Europe/London, UTC+00:00)"),
        "{}",
        mails[0].text
    );
    assert!(mails[0].text.contains("2 places, 100.00 EUR"));
    assert_eq!(n.sms.texts().len(), 1);
    assert_eq!(n.sms.texts()[0].0.as_str(), "+442079460958");
    let inbox = n.store.inbox(&booking.user_id);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].booking_number.as_deref(), Some(number.as_str()));
    assert_eq!(inbox[0].read_at, None);
}

#[tokio::test]
async fn an_account_in_korean_reads_korean() {
    let (n, booking) = twin(Language::Ko).await;
    n.on_event(&confirmed(&booking)).await.unwrap();
    let mail = &n.mail.mails()[0];
    assert_eq!(
        mail.subject,
        format!("예약 {}이(가) 확정되었습니다", booking.number.as_str())
    );
    assert!(
        mail.text.contains("2027년 1월 15일 (금) 08:00"),
        "{}",
        mail.text
    );
}

#[tokio::test]
async fn a_cancellation_tells_the_refund_and_a_failed_payment_its_reason() {
    let (n, booking) = twin(Language::En).await;
    let cancelled = EventEnvelope::of(
        &BookingCancelled(ended(&booking, BookingStatus::Cancelled, 50)),
        CorrelationId::generate(),
    )
    .unwrap();
    n.on_event(&cancelled).await.unwrap();
    let failed = EventEnvelope::of(
        &PaymentFailed {
            payment: facts(&booking, 0),
            reason: FailureReason::InsufficientFunds,
            message: "The wallet holds 2,000 points; 10,000 are needed.".into(),
        },
        CorrelationId::generate(),
    )
    .unwrap();
    n.on_event(&failed).await.unwrap();
    let mails = n.mail.mails();
    assert_eq!(mails.len(), 2);
    assert!(
        mails[0]
            .text
            .contains("You get 50.00 EUR back (50% of the price)"),
        "{}",
        mails[0].text
    );
    assert!(n.sms.texts()[0].1.contains("Refund: 50.00 EUR."));
    assert!(
        mails[1]
            .text
            .contains("The wallet holds 2,000 points; 10,000 are needed."),
        "{}",
        mails[1].text
    );
}

#[tokio::test]
async fn a_booking_failed_by_its_payment_hears_it_once_and_other_events_say_nothing() {
    let (n, booking) = twin(Language::En).await;
    let failed_booking = EventEnvelope::of(
        &BookingCancelled(ended(&booking, BookingStatus::Failed, 0)),
        CorrelationId::generate(),
    )
    .unwrap();
    let ping = EventEnvelope::of(
        &crate::events::Ping::Diagnostic { note: "p".into() },
        CorrelationId::generate(),
    )
    .unwrap();
    for event in [failed_booking, ping] {
        assert!(matches!(
            n.on_event(&event).await.unwrap(),
            Outcome::Nothing { .. }
        ));
    }
    assert!(n.mail.mails().is_empty() && n.sms.texts().is_empty());
}

#[tokio::test]
async fn a_refund_receipt_goes_by_email_and_inbox() {
    let (n, booking) = twin(Language::En).await;
    let refunded = EventEnvelope::of(
        &PaymentRefunded {
            payment: facts(&booking, 5_000),
            reason: "50% of a cancelled booking".into(),
        },
        CorrelationId::generate(),
    )
    .unwrap();
    let outcome = n.on_event(&refunded).await.unwrap();
    assert_eq!(sent(&outcome), [Channel::Inbox, Channel::Email]);
    assert_eq!(
        n.mail.mails()[0].subject,
        format!("50.00 EUR refunded for booking {}", booking.number.as_str())
    );
}

#[tokio::test]
async fn reminders_follow_the_preferences_and_receipts_ignore_them() {
    let (n, booking) = twin(Language::En).await;
    let opted_out = Preferences {
        reminders: ChannelChoice {
            email: false,
            sms: false,
            inbox: true,
        },
    };
    n.store
        .set_preferences(&booking.user_id, &opted_out, at(0))
        .await
        .unwrap();
    let starts = booking.starts_at.to_utc();
    let reminded = n.remind(&reminder(&booking, starts, 120)).await.unwrap();
    assert_eq!(sent(&reminded), [Channel::Inbox]);
    assert!(n.mail.mails().is_empty());
    let receipt = n.on_event(&confirmed(&booking)).await.unwrap();
    assert_eq!(
        sent(&receipt),
        [Channel::Inbox, Channel::Email, Channel::Sms]
    );
    let inbox = n.store.inbox(&booking.user_id);
    assert_eq!(inbox.len(), 2);
    assert!(inbox.iter().any(|e| e.body.contains("starts in 2 hours")));
}

#[tokio::test]
async fn no_stale_reminder_for_a_booking_cancelled_or_moved() {
    let (n, mut booking) = twin(Language::En).await;
    let starts = booking.starts_at.to_utc();
    // Moved: the reminder of the old time says nothing.
    let moved = n
        .remind(&reminder(&booking, starts - Duration::hours(1), 24 * 60))
        .await
        .unwrap();
    assert!(matches!(moved, Outcome::Nothing { .. }));
    booking.status = BookingStatus::Cancelled;
    n.bookings.insert(booking.clone(), Vec::new());
    let cancelled = n
        .remind(&reminder(&booking, starts, 24 * 60))
        .await
        .unwrap();
    assert!(matches!(cancelled, Outcome::Nothing { .. }));
    assert!(n.store.inbox(&booking.user_id).is_empty() && n.mail.mails().is_empty());
}

#[tokio::test]
async fn a_provider_down_for_a_while_is_retried_and_sends_once() {
    let (n, booking) = twin(Language::En).await;
    let event = confirmed(&booking);
    let down = || SendError::Transient("Throttling: rate exceeded".into());
    n.mail.fail_next(Channel::Email, [down(), down()]);
    for _ in 0..2 {
        assert!(matches!(
            n.on_event(&event).await,
            Err(NotifyError::Retry(_))
        ));
    }
    let last = n.on_event(&event).await.unwrap();
    assert_eq!(sent(&last), [Channel::Email]);
    assert_eq!(n.mail.mails().len(), 1);
    assert_eq!(
        n.sms.texts().len(),
        1,
        "the SMS went out on the first try only"
    );
    assert_eq!(n.store.inbox(&booking.user_id).len(), 1);
}

#[tokio::test]
async fn a_permanent_refusal_is_recorded_and_never_tried_again() {
    let (n, booking) = twin(Language::En).await;
    let event = confirmed(&booking);
    n.mail.fail_next(
        Channel::Email,
        [SendError::Permanent(
            "MessageRejected: the address is on the suppression list".into(),
        )],
    );
    let first = n.on_event(&event).await.unwrap();
    let Outcome::Notified(deliveries) = &first else {
        panic!("{first:?}")
    };
    assert!(
        deliveries
            .iter()
            .any(|(c, d)| *c == Channel::Email && matches!(d, Delivery::Failed { .. }))
    );
    assert!(matches!(
        n.store
            .record(&NoticeKey::of_event(&event.id), Channel::Email),
        Some(LedgerRecord::Settled(Settled::Failed { .. }))
    ));
    n.on_event(&event).await.unwrap();
    assert!(n.mail.mails().is_empty());
}

#[tokio::test]
async fn a_send_claimed_by_another_delivery_waits_for_its_lease() {
    let (n, booking) = twin(Language::En).await;
    let event = confirmed(&booking);
    let key = NoticeKey::of_event(&event.id);
    let now = n.clock.now();
    // Another delivery claimed the email and died before settling.
    n.store
        .claim(&key, Channel::Email, now, now + DEFAULT_LEASE)
        .await
        .unwrap();
    assert!(matches!(
        n.on_event(&event).await,
        Err(NotifyError::Retry(_))
    ));
    assert!(n.mail.mails().is_empty());
    n.clock.advance(DEFAULT_LEASE + Duration::seconds(1));
    let after = n.on_event(&event).await.unwrap();
    assert_eq!(sent(&after), [Channel::Email]);
    assert_eq!(n.mail.mails().len(), 1);
}

#[tokio::test]
async fn a_deleted_account_is_told_nothing() {
    let (n, mut booking) = twin(Language::En).await;
    booking.user_id = UserId::generate();
    n.bookings.insert(booking.clone(), Vec::new());
    let outcome = n.on_event(&confirmed(&booking)).await.unwrap();
    assert!(matches!(outcome, Outcome::Nothing { .. }));
    assert!(n.mail.mails().is_empty());
}

#[tokio::test]
async fn a_malformed_event_is_a_bad_event() {
    let (n, booking) = twin(Language::En).await;
    let mut event = confirmed(&booking);
    event.data.as_object_mut().unwrap().remove("number");
    assert!(matches!(
        n.on_event(&event).await,
        Err(NotifyError::BadEvent(_))
    ));
}

#[tokio::test]
async fn a_confirmation_schedules_its_reminders_and_each_sweep_sends_what_is_due_once() {
    let (n, booking) = twin(Language::En).await;
    let starts = booking.starts_at.to_utc();
    let event = confirmed(&booking);
    n.on_event(&event).await.unwrap();
    // Delivered again: the same two reminders, not four.
    n.on_event(&event).await.unwrap();
    let scheduled = n.store.scheduled();
    assert_eq!(
        scheduled
            .iter()
            .map(|r| r.minutes_before)
            .collect::<Vec<_>>(),
        [24 * 60, 120]
    );

    let before = n
        .sweep_reminders(starts - Duration::hours(25), 10)
        .await
        .unwrap();
    assert_eq!(before, ReminderSweep::default());
    let day_before = starts - Duration::hours(24) + Duration::minutes(1);
    let first = n.sweep_reminders(day_before, 10).await.unwrap();
    assert_eq!((first.due, first.sent), (1, 1));
    assert_eq!(n.sweep_reminders(day_before, 10).await.unwrap().due, 0);
    let second = n
        .sweep_reminders(starts - Duration::hours(2), 10)
        .await
        .unwrap();
    assert_eq!((second.due, second.sent), (1, 1));
    assert!(n.store.scheduled().is_empty());

    let subjects: Vec<String> = n.mail.mails().iter().map(|m| m.subject.clone()).collect();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert_eq!(n.sms.texts().len(), 3);
    assert_eq!(n.store.inbox(&booking.user_id).len(), 3);
}

#[tokio::test]
async fn a_moved_booking_is_reminded_of_its_new_start_only() {
    let (n, mut booking) = twin(Language::En).await;
    let old_start = booking.starts_at.to_utc();
    n.on_event(&confirmed(&booking)).await.unwrap();
    booking.starts_at += Duration::days(1);
    n.bookings.insert(booking.clone(), Vec::new());
    let moved = n.on_event(&modified(&booking)).await.unwrap();
    assert!(matches!(moved, Outcome::Nothing { .. }));
    assert_eq!(n.store.scheduled().len(), 4);

    // The old start's reminders come due first and are dropped.
    let old = n
        .sweep_reminders(old_start - Duration::hours(2), 10)
        .await
        .unwrap();
    assert_eq!((old.due, old.sent, old.dropped), (2, 0, 2));
    let new_start = booking.starts_at.to_utc();
    let new = n
        .sweep_reminders(new_start - Duration::hours(2), 10)
        .await
        .unwrap();
    assert_eq!((new.due, new.sent), (2, 2));
    let reminders: Vec<_> = n
        .store
        .inbox(&booking.user_id)
        .into_iter()
        .filter(|e| e.kind == crate::notification::MessageKind::Reminder)
        .collect();
    assert_eq!(reminders.len(), 2);
    assert!(
        reminders
            .iter()
            .all(|e| e.body.contains("Saturday 16 January 2027")),
        "{reminders:?}"
    );
}

#[tokio::test]
async fn a_reminder_whose_channel_is_down_stays_for_the_next_sweep_and_one_past_its_start_is_dropped()
 {
    let (n, booking) = twin(Language::En).await;
    let starts = booking.starts_at.to_utc();
    n.on_event(&confirmed(&booking)).await.unwrap();
    n.mail
        .fail_next(Channel::Email, [SendError::Transient("Throttling".into())]);
    let at = starts - Duration::hours(24);
    let down = n.sweep_reminders(at, 10).await.unwrap();
    assert_eq!((down.due, down.later), (1, 1));
    let again = n.sweep_reminders(at, 10).await.unwrap();
    assert_eq!((again.due, again.sent), (1, 1));
    // Only one reminder email, though the sweep ran twice.
    assert_eq!(n.mail.mails().len(), 2);

    // Swept only after the start: dropped, not sent late.
    let late = n
        .sweep_reminders(starts + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!((late.due, late.dropped, late.sent), (1, 1, 0));
    assert!(n.store.scheduled().is_empty());
}

#[tokio::test]
async fn a_deleted_account_leaves_no_inbox_nor_preferences() {
    let (n, booking) = twin(Language::En).await;
    n.on_event(&confirmed(&booking)).await.unwrap();
    let quiet = Preferences {
        reminders: ChannelChoice {
            email: false,
            sms: false,
            inbox: true,
        },
    };
    n.store
        .set_preferences(&booking.user_id, &quiet, at(0))
        .await
        .unwrap();
    assert_eq!(n.store.inbox(&booking.user_id).len(), 1);
    let deleted = EventEnvelope::of(
        &crate::identity::events::UserDeleted {
            user_id: booking.user_id.clone(),
            points_forfeited: 0,
        },
        CorrelationId::generate(),
    )
    .unwrap();
    let outcome = n.on_event(&deleted).await.unwrap();
    assert!(matches!(outcome, Outcome::Nothing { .. }));
    assert!(n.store.inbox(&booking.user_id).is_empty());
    assert_eq!(
        n.store.preferences(&booking.user_id).await.unwrap(),
        Preferences::default()
    );
}
