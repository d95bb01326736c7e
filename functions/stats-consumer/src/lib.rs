//! Counts each booking event into the daily figures (see
//! [`shared::reporting`]), fed by its own queue. A tally and the marker of
//! its event are one transaction, so a redelivered event changes nothing;
//! tallies only add, so the order events arrive in does not matter. A
//! message that fails is delivered again and, after the queue's limit,
//! moved to the dead-letter queue.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shared::EventEnvelope;
use shared::booking::ports::BookingReader;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::clock::Clock;
use shared::consumer::{MessageError, each_event};
use shared::reporting::ports::FiguresStore;
use shared::reporting::service::{CountError, Reporting};

pub async fn handle<F, B, C, K>(
    reporting: &Reporting<F, B, C, K>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error>
where
    F: FiguresStore,
    B: BookingReader,
    C: VenueStore + ResourceStore + SlotStore,
    K: Clock,
{
    Ok(each_event(&event.payload, |e| on_event(reporting, e)).await)
}

async fn on_event<F, B, C, K>(
    reporting: &Reporting<F, B, C, K>,
    event: EventEnvelope,
) -> Result<(), MessageError>
where
    F: FiguresStore,
    B: BookingReader,
    C: VenueStore + ResourceStore + SlotStore,
    K: Clock,
{
    match reporting.count(&event).await {
        Ok(counted) => {
            tracing::info!(event_id = %event.id, event_type = %event.event_type, ?counted, "event counted");
            Ok(())
        }
        Err(CountError::BadEvent(e)) => Err(MessageError::BadEvent(e)),
        Err(CountError::App(e)) => Err(MessageError::App(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;
    use shared::CorrelationId;
    use shared::adapters::memory::{MemoryBookings, MemoryCatalog, MemoryFigures};
    use shared::booking::events::BookingConfirmed;
    use shared::clock::FixedClock;
    use shared::testing::booking::{at, booking};

    fn message(id: &str, body: String) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body);
        m
    }

    fn bus_event(envelope: &EventEnvelope) -> String {
        serde_json::json!({
            "version": "0", "id": "e-1", "detail-type": envelope.event_type.as_str(),
            "source": "booking-platform.booking", "account": "123456789012",
            "time": "2027-01-10T09:30:00Z", "region": "us-east-1", "resources": [],
            "detail": envelope,
        })
        .to_string()
    }

    #[tokio::test]
    async fn a_confirmation_delivered_three_times_counts_once_and_a_poison_message_fails() {
        let b = booking();
        let bookings = MemoryBookings::default();
        bookings.insert(b.clone(), Vec::new());
        let reporting = Reporting {
            figures: MemoryFigures::default(),
            bookings,
            catalog: MemoryCatalog::default(),
            clock: FixedClock::at(at(0)),
        };
        let confirmed = EventEnvelope::of(
            &BookingConfirmed {
                booking_id: b.id.clone(),
                number: b.number.clone(),
                user_id: b.user_id.clone(),
                slot_id: b.slot_id.clone(),
                quantity: b.quantity,
                price_cents: b.price_cents,
                currency: b.currency.clone(),
            },
            CorrelationId::generate(),
        )
        .unwrap();
        let mut missing = confirmed.clone();
        missing.data.as_object_mut().unwrap().remove("price_cents");
        missing.id = shared::EventId::generate();
        let mut batch = SqsEvent::default();
        batch.records = vec![
            message("m-1", bus_event(&confirmed)),
            message("m-2", bus_event(&confirmed)),
            message("m-3", bus_event(&missing)),
        ];
        let response = handle(
            &reporting,
            LambdaEvent::new(batch.clone(), Default::default()),
        )
        .await
        .unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, vec!["m-3"]);
        handle(&reporting, LambdaEvent::new(batch, Default::default()))
            .await
            .unwrap();
        assert_eq!(reporting.figures.counted(), 1);
    }
}
