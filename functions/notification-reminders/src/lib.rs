//! The reminder sweeper: on a schedule (every minute), sends the
//! reminders that came due (the sparse index of the schedule holds only
//! reminders still to send), in pages, for up to 40 seconds of its 60; the
//! next run takes the rest. Each reminder is checked against its booking
//! when sent: one cancelled, expired or moved meanwhile is dropped. A
//! provider down leaves its reminder for the next run. "Now" is the
//! scheduled event's `time`, so a test can sweep "two hours before".

use std::time::{Duration, Instant};

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::SubsecRound;
use lambda_runtime::LambdaEvent;
use shared::booking::ports::BookingReader;
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::clock::Clock;
use shared::notification::ports::{
    Inbox, Mailer, PreferenceStore, ReminderSchedule, SendLedger, Texter,
};
use shared::notification::service::Notifications;
pub use shared::notification::service::ReminderSweep;
use shared::ports::UserStore;

/// Reminders per page.
pub const PAGE: u32 = 100;
/// How long one run keeps taking pages.
pub const BUDGET: Duration = Duration::from_secs(40);

pub async fn handle<U, B, K, S, M, T, C>(
    notifications: &Notifications<U, B, K, S, M, T, C>,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<ReminderSweep, lambda_runtime::Error>
where
    U: UserStore,
    B: BookingReader,
    K: VenueStore + ResourceStore,
    S: SendLedger + Inbox + PreferenceStore + ReminderSchedule,
    M: Mailer,
    T: Texter,
    C: Clock,
{
    let now = event.payload.time.trunc_subsecs(3);
    let started = Instant::now();
    let mut total = ReminderSweep::default();
    loop {
        let page = notifications.sweep_reminders(now, PAGE).await?;
        total.due += page.due;
        total.sent += page.sent;
        total.dropped += page.dropped;
        total.later += page.later;
        // A short page is the last; a reminder left for later would come
        // back first in the next page, so a provider down ends the run.
        if page.due < PAGE || page.later > 0 || started.elapsed() > BUDGET {
            break;
        }
    }
    tracing::info!(due = total.due, sent = total.sent, dropped = total.dropped, later = total.later, request_id = %event.context.request_id, "reminder sweep done");
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::booking::{Booking, BookingStatus};
    use shared::identity::Language;
    use shared::testing::booking::booking;
    use shared::testing::notification::Twin;

    const FIXTURE: &str =
        include_str!("../../../events/notification-reminders/scheduled-event.json");

    fn scheduled(time: Option<&str>) -> LambdaEvent<CloudWatchEvent> {
        let mut event: CloudWatchEvent = serde_json::from_str(FIXTURE).unwrap();
        if let Some(time) = time {
            event.time = time.parse().unwrap();
        }
        LambdaEvent::new(event, lambda_runtime::Context::default())
    }

    /// The fixtures' booking (2027-01-15 08:00 Europe/London) in `status`,
    /// with its two reminders scheduled.
    async fn twin(status: BookingStatus) -> (Twin, Booking) {
        let mut b = booking();
        b.status = status;
        let n = shared::testing::notification::twin(&b, Language::En).await;
        let reminders = n
            .reminders
            .for_start(&b.id, b.starts_at.to_utc(), n.clock.now());
        n.store.schedule(&reminders).await.unwrap();
        (n, b)
    }

    #[tokio::test]
    async fn the_day_before_sends_the_24_hour_reminder_once() {
        let (n, _) = twin(BookingStatus::Confirmed).await;
        let sweep = handle(&n, scheduled(None)).await.unwrap();
        assert_eq!(
            sweep,
            ReminderSweep {
                due: 1,
                sent: 1,
                ..ReminderSweep::default()
            }
        );
        assert_eq!(n.mail.mails().len(), 1);
        assert!(n.mail.mails()[0].subject.starts_with("Reminder"));
        let again = handle(&n, scheduled(None)).await.unwrap();
        assert_eq!(again, ReminderSweep::default());
        assert_eq!(n.store.scheduled().len(), 1);
    }

    #[tokio::test]
    async fn a_cancelled_booking_gets_no_reminder() {
        let (n, b) = twin(BookingStatus::Confirmed).await;
        let mut cancelled = b.clone();
        cancelled.status = BookingStatus::Cancelled;
        n.bookings.insert(cancelled, Vec::new());
        let sweep = handle(&n, scheduled(Some("2027-01-15T06:00:00Z")))
            .await
            .unwrap();
        assert_eq!((sweep.due, sweep.dropped, sweep.sent), (2, 2, 0));
        assert!(n.mail.mails().is_empty() && n.sms.texts().is_empty());
        assert!(n.store.inbox(&b.user_id).is_empty());
        assert!(n.store.scheduled().is_empty());
    }
}
