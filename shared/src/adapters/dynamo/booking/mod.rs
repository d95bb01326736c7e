//! Booking items, and the transactions that take and give back capacity.
//!
//! | item               | PK                               | SK                    | GSI1PK / GSI1SK                          | GSI2PK / GSI2SK (holds only)       |
//! |--------------------|----------------------------------|-----------------------|------------------------------------------|------------------------------------|
//! | booking            | `BOOKING#<id>`                   | BOOKING               | `USER#<uid>#BOOKINGS` / `<created>#<id>` | `HOLD#<0..3>` / `<expires>#<id>`   |
//! | history entry      | `BOOKING#<id>`                   | `HISTORY#<at>#<n>`    |                                          |                                    |
//! | idempotency record | `IDEMPOTENCY#<uid>#<key>`        | IDEMPOTENCY           |                                          |                                    |
//! | booking number     | `BOOKINGNO#<number>`             | BOOKINGNO             |                                          |                                    |

mod items;
mod queries;
mod release;
mod store;
pub(crate) mod writes;

use aws_sdk_dynamodb::Client;

use crate::AppError;
use crate::booking::ports::{BookingFilter, BookingPage, BookingReader};
use crate::booking::{Booking, BookingId, HistoryEntry};
use crate::catalog::ResourceId;
use crate::identity::UserId;

pub use items::HOLD_SHARDS;

/// Bookings in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoBookings {
    client: Client,
    table: String,
}

impl DynamoBookings {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl BookingReader for DynamoBookings {
    async fn get(&self, id: &BookingId) -> Result<Option<Booking>, AppError> {
        DynamoBookings::get(self, id).await
    }

    async fn history(&self, id: &BookingId) -> Result<Vec<HistoryEntry>, AppError> {
        self.history_of(id).await
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        self.list_page(user, filter, limit, cursor).await
    }

    async fn list_for_resource(
        &self,
        resource: &ResourceId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        self.resource_page(resource, filter, limit, cursor).await
    }
}

/// The item `booking` is stored as, for bulk loads that write bookings
/// without their transaction, outbox or history (the export's scale test,
/// benchmarks): only a PENDING booking is in the holds index.
pub fn bulk_item(
    booking: &Booking,
) -> Result<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, AppError> {
    let mut item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        serde_dynamo::to_item(items::BookingItem::new(booking))
            .map_err(|e| AppError::internal("encoding a booking", e))?;
    if booking.status != crate::booking::BookingStatus::Pending {
        item.remove("GSI2PK");
        item.remove("GSI2SK");
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    //! DynamoDB Local serializes transactions: it never cancels one for a
    //! `TransactionConflict` and never throttles. These tests inject both,
    //! and the condition failures, with `aws-smithy-mocks`.

    use super::super::test_support::cancelled;
    use super::*;
    use crate::booking::IdempotencyKey;
    use crate::booking::ports::{BookingStore, HoldRefused, KeyRecord, NewHold};
    use crate::testing::booking::booking;
    use crate::{CorrelationId, EventEnvelope};
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    /// A hold of the fixtures' booking: its transaction's items are the
    /// slot (0), the booking, key (2), number, history, outbox, and the
    /// resource and venue checks.
    async fn hold(store: &DynamoBookings) -> Result<(), HoldRefused> {
        let booking = booking();
        let key = IdempotencyKey::parse(Some("test-key-0001")).unwrap();
        let entry = HistoryEntry {
            at: booking.created_at,
            from: None,
            to: booking.status,
            by: booking.user_id.to_string(),
            reason: "held".into(),
        };
        let event = EventEnvelope::of(
            &crate::events::Ping::Diagnostic { note: "x".into() },
            CorrelationId::generate(),
        )
        .unwrap();
        store
            .hold(&NewHold {
                booking: &booking,
                key: KeyRecord {
                    user: &booking.user_id,
                    key: &key,
                    fingerprint: "fp",
                    expires_at: booking.created_at,
                },
                entry: &entry,
                event: &event,
                card: None,
                limits: None,
                pass: None,
            })
            .await
    }

    fn codes(failing: usize) -> Vec<&'static str> {
        (0..7)
            .map(|i| {
                if i == failing {
                    "ConditionalCheckFailed"
                } else {
                    "None"
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn a_hold_that_meets_a_transaction_conflict_is_retried_and_made() {
        let conflict = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["TransactionConflict", "None", "None", "None"]));
        let ok = mock!(Client::transact_write_items)
            .then_output(|| TransactWriteItemsOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&conflict, &ok]);
        hold(&DynamoBookings::new(client, "t")).await.unwrap();
        assert_eq!((conflict.num_calls(), ok.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn throttling_that_does_not_stop_is_a_503_and_takes_nothing() {
        let throttled = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["ThrottlingError", "None", "None", "None"]));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&throttled]);
        let Err(HoldRefused::Failed(err)) = hold(&DynamoBookings::new(client, "t")).await else {
            panic!("expected a failure")
        };
        assert_eq!((err.status(), err.code()), (503, "CONTENTION"));
        assert_eq!(throttled.num_calls(), 4);
    }

    #[tokio::test]
    async fn a_failed_capacity_condition_is_the_slots_refusal() {
        let full = mock!(Client::transact_write_items).then_error(|| cancelled(&codes(0)));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&full]);
        let refusal = hold(&DynamoBookings::new(client, "t")).await;
        assert!(
            matches!(&refusal, Err(HoldRefused::Slot(slot)) if *slot == booking().slot_id),
            "{refusal:?}"
        );
    }

    #[tokio::test]
    async fn a_taken_idempotency_key_is_told_apart_from_every_other_refusal() {
        let replay = mock!(Client::transact_write_items).then_error(|| cancelled(&codes(2)));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&replay]);
        let refusal = hold(&DynamoBookings::new(client, "t")).await;
        assert!(matches!(refusal, Err(HoldRefused::KeyUsed)), "{refusal:?}");
    }

    #[tokio::test]
    async fn a_taken_number_asks_for_another_draw() {
        let taken = mock!(Client::transact_write_items).then_error(|| cancelled(&codes(3)));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&taken]);
        let refusal = hold(&DynamoBookings::new(client, "t")).await;
        assert!(
            matches!(refusal, Err(HoldRefused::NumberTaken)),
            "{refusal:?}"
        );
    }
}
