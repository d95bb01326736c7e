//! The payment context's twins: wallets with their ledgers and the
//! payments of bookings ([`MemoryWallets`]), and the card gateway
//! ([`MemoryCards`]).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::events::{Event, EventEnvelope};
use crate::identity::UserId;
use crate::kernel::BookingId;
use crate::payment::card::{Charge, ChargeRequest, GatewayError, Refund, RefundRequest};
use crate::payment::events::{PaymentCompleted, PaymentFacts, PaymentFailed, PaymentRefunded};
use crate::payment::ports::{
    CardPayments, Credit, CreditOrder, PaymentStore, Refunded, ToppedUp, WalletStore,
};
use crate::payment::topup::credit_event;
use crate::payment::{
    CardToken, FailureReason, LedgerEntry, LedgerKind, MAX_BALANCE, Payment, PaymentStatus,
    WalletView,
};
use crate::{AppError, CorrelationId};

/// Wallets and payments in memory, with the DynamoDB adapter's guarantees:
/// one top-up per idempotency key (the same body replays the first answer,
/// another is 422), no top-up past `MAX_BALANCE`, the balance always the
/// ledger's sum; one payment per booking, created once, a wallet debit in
/// the same step as its payment, every refund once.
#[derive(Debug, Default)]
pub struct MemoryWallets {
    state: Mutex<WalletState>,
}

#[derive(Debug, Default)]
struct WalletState {
    /// Each user's ledger, oldest first.
    ledgers: HashMap<UserId, Vec<LedgerEntry>>,
    /// Idempotency record key -> (fingerprint, first answer).
    records: HashMap<String, (String, String)>,
    /// Payment intents: the card each booking asked to be charged.
    intents: HashMap<BookingId, CardToken>,
    payments: HashMap<BookingId, Payment>,
    outbox: Vec<EventEnvelope>,
}

impl WalletState {
    fn answer(&self, order: &CreditOrder<'_>) -> Result<Option<String>, AppError> {
        match self.records.get(&order.record_key()) {
            None => Ok(None),
            Some((fingerprint, answer)) if fingerprint == order.fingerprint => {
                Ok(Some(answer.clone()))
            }
            Some(_) => Err(AppError::Unprocessable {
                code: "IDEMPOTENCY_KEY_REUSED",
                message: "this Idempotency-Key was used for a different request".into(),
            }),
        }
    }

    fn balance(&self, user: &UserId) -> u64 {
        self.ledgers
            .get(user)
            .and_then(|l| l.last())
            .map_or(0, |e| e.balance_after)
    }

    /// Adds a ledger entry moving `points`; `None` if the balance does not
    /// cover it.
    fn move_points(
        &mut self,
        user: &UserId,
        points: i64,
        kind: LedgerKind,
        booking: &BookingId,
        at: DateTime<Utc>,
    ) -> Option<LedgerEntry> {
        let after = self.balance(user).checked_add_signed(points)?;
        let entry = LedgerEntry {
            entry_id: uuid::Uuid::now_v7().to_string(),
            kind,
            points,
            balance_after: after,
            booking_id: Some(booking.clone()),
            charge_id: None,
            reason: None,
            granted_by: None,
            at,
        };
        self.ledgers
            .entry(user.clone())
            .or_default()
            .push(entry.clone());
        Some(entry)
    }

    fn emit(&mut self, event: &impl Event, correlation_id: &CorrelationId) -> Result<(), AppError> {
        let envelope = EventEnvelope::of(event, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding a payment event", e))?;
        self.outbox.push(envelope);
        Ok(())
    }

    /// Records `payment` with `event` unless the booking has one: then
    /// that one.
    fn create(
        &mut self,
        payment: &Payment,
        event: &impl Event,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        if let Some(existing) = self.payments.get(&payment.booking_id) {
            return Ok(existing.clone());
        }
        self.emit(event, correlation_id)?;
        self.payments
            .insert(payment.booking_id.clone(), payment.clone());
        Ok(payment.clone())
    }
}

impl MemoryWallets {
    /// Writes the wallet off as [`crate::ports::AccountCloser`] does:
    /// `false` if its balance is not `expected`.
    pub(crate) fn forfeit(&self, user: &UserId, expected: u64, at: DateTime<Utc>) -> bool {
        let mut state = self.state.lock().expect("lock");
        if state.balance(user) != expected {
            return false;
        }
        if expected > 0 {
            let entry = LedgerEntry {
                entry_id: uuid::Uuid::now_v7().to_string(),
                kind: LedgerKind::Forfeit,
                points: -i64::try_from(expected).unwrap_or(i64::MAX),
                balance_after: 0,
                booking_id: None,
                charge_id: None,
                reason: Some("the account was deleted; its holder gave up the points".into()),
                granted_by: None,
                at,
            };
            state.ledgers.entry(user.clone()).or_default().push(entry);
        }
        true
    }

    /// The events written to the outbox, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state.lock().expect("lock").outbox.clone()
    }

    /// The user's balance.
    pub fn balance(&self, user: &UserId) -> u64 {
        self.state.lock().expect("lock").balance(user)
    }

    /// Writes a booking's payment intent, as the booking's hold does.
    pub fn intend(&self, booking: &BookingId, card: CardToken) {
        self.state
            .lock()
            .expect("lock")
            .intents
            .insert(booking.clone(), card);
    }
}

impl WalletStore for MemoryWallets {
    async fn answer(&self, order: &CreditOrder<'_>) -> Result<Option<String>, AppError> {
        let state = self.state.lock().expect("lock");
        state.answer(order)
    }

    async fn credit(&self, order: &CreditOrder<'_>) -> Result<ToppedUp, AppError> {
        let mut state = self.state.lock().expect("lock");
        if let Some(first) = state.answer(order)? {
            return Ok(ToppedUp::Replayed(first));
        }
        let after = state.balance(order.user) + order.points.get();
        if after > MAX_BALANCE {
            return Err(AppError::conflict(
                "BALANCE_LIMIT",
                format!("a wallet holds at most {MAX_BALANCE} points"),
            ));
        }
        let (kind, charge_id, reason, granted_by) = match order.credit {
            Credit::Card { charge_id } => {
                (LedgerKind::TopUp, Some(charge_id.to_owned()), None, None)
            }
            Credit::Grant { by, reason } => (
                LedgerKind::Grant,
                None,
                Some(reason.to_owned()),
                Some(by.clone()),
            ),
        };
        let entry = LedgerEntry {
            entry_id: uuid::Uuid::now_v7().to_string(),
            kind,
            points: i64::try_from(order.points.get())
                .map_err(|e| AppError::internal("topping up", e))?,
            balance_after: after,
            booking_id: None,
            charge_id,
            reason,
            granted_by,
            at: order.now,
        };
        state
            .ledgers
            .entry(order.user.clone())
            .or_default()
            .push(entry.clone());
        let event = credit_event(order, &entry)?;
        state.outbox.push(event);
        let answer = serde_json::to_string(&entry)
            .map_err(|e| AppError::internal("encoding a ledger entry", e))?;
        state
            .records
            .insert(order.record_key(), (order.fingerprint.to_owned(), answer));
        Ok(ToppedUp::New(entry))
    }

    async fn wallet(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<WalletView, AppError> {
        let state = self.state.lock().expect("lock");
        let mut newest_first: Vec<LedgerEntry> =
            state.ledgers.get(user).cloned().unwrap_or_default();
        newest_first.reverse();
        let balance = newest_first.first().map_or(0, |e| e.balance_after);
        let start = match cursor {
            None => 0,
            Some(c) => {
                newest_first
                    .iter()
                    .position(|e| e.entry_id == c)
                    .ok_or_else(|| {
                        AppError::validation(
                            "INVALID_CURSOR",
                            "cursor is not one this API returned",
                        )
                    })?
                    + 1
            }
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let rest: Vec<LedgerEntry> = newest_first.into_iter().skip(start).collect();
        let next_cursor = (rest.len() > limit)
            .then(|| rest.get(limit - 1).map(|e| e.entry_id.clone()))
            .flatten();
        Ok(WalletView {
            user_id: user.clone(),
            balance,
            ledger: rest.into_iter().take(limit).collect(),
            next_cursor,
        })
    }
}

/// The payment failed for `reason`, and its event.
fn failure(payment: &Payment, reason: FailureReason) -> (Payment, PaymentFailed) {
    let failed = Payment {
        status: PaymentStatus::Failed,
        failure: Some(reason),
        ..payment.clone()
    };
    let event = PaymentFailed {
        payment: PaymentFacts::of(&failed),
        reason,
        message: reason.explain().to_owned(),
    };
    (failed, event)
}

impl PaymentStore for MemoryWallets {
    async fn payment(&self, booking: &BookingId) -> Result<Option<Payment>, AppError> {
        Ok(self
            .state
            .lock()
            .expect("lock")
            .payments
            .get(booking)
            .cloned())
    }

    async fn card_of(&self, booking: &BookingId) -> Result<Option<CardToken>, AppError> {
        Ok(self
            .state
            .lock()
            .expect("lock")
            .intents
            .get(booking)
            .cloned())
    }

    async fn forget_card(&self, booking: &BookingId) -> Result<(), AppError> {
        self.state.lock().expect("lock").intents.remove(booking);
        Ok(())
    }

    async fn pay_from_wallet(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        let mut state = self.state.lock().expect("lock");
        if let Some(existing) = state.payments.get(&payment.booking_id) {
            return Ok(existing.clone());
        }
        let points = -i64::try_from(payment.amount_cents)
            .map_err(|e| AppError::internal("paying from a wallet", e))?;
        let debited = state.move_points(
            &payment.user_id,
            points,
            LedgerKind::Payment,
            &payment.booking_id,
            payment.created_at,
        );
        if debited.is_none() {
            let (failed, event) = failure(payment, FailureReason::InsufficientFunds);
            return state.create(&failed, &event, correlation_id);
        }
        let completed = Payment {
            status: PaymentStatus::Completed,
            ..payment.clone()
        };
        let event = PaymentCompleted {
            payment: PaymentFacts::of(&completed),
        };
        state.create(&completed, &event, correlation_id)
    }

    async fn record_completed(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        let event = PaymentCompleted {
            payment: PaymentFacts::of(payment),
        };
        self.state
            .lock()
            .expect("lock")
            .create(payment, &event, correlation_id)
    }

    async fn fail(
        &self,
        payment: &Payment,
        reason: FailureReason,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        let (failed, event) = failure(payment, reason);
        self.state
            .lock()
            .expect("lock")
            .create(&failed, &event, correlation_id)
    }

    async fn void(&self, payment: &Payment) -> Result<Payment, AppError> {
        let voided = Payment {
            status: PaymentStatus::Voided,
            ..payment.clone()
        };
        let mut state = self.state.lock().expect("lock");
        Ok(state
            .payments
            .entry(payment.booking_id.clone())
            .or_insert(voided)
            .clone())
    }

    async fn refund_to_wallet(
        &self,
        payment: &Payment,
        amount_cents: u64,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> Result<Refunded, AppError> {
        let mut state = self.state.lock().expect("lock");
        let current = state.payments.get(&payment.booking_id).map(|p| p.status);
        if current != Some(PaymentStatus::Completed) {
            return Ok(Refunded::Before);
        }
        let points = i64::try_from(amount_cents)
            .map_err(|e| AppError::internal("refunding to a wallet", e))?;
        state
            .move_points(
                &payment.user_id,
                points,
                LedgerKind::Refund,
                &payment.booking_id,
                now,
            )
            .ok_or_else(|| {
                AppError::internal("refunding to a wallet", "the balance would overflow")
            })?;
        let refunded = Payment {
            status: PaymentStatus::Refunded,
            refunded_cents: amount_cents,
            updated_at: now,
            ..payment.clone()
        };
        let event = PaymentRefunded {
            payment: PaymentFacts::of(&refunded),
            reason: reason.to_owned(),
        };
        state.emit(&event, correlation_id)?;
        state
            .payments
            .insert(payment.booking_id.clone(), refunded.clone());
        Ok(Refunded::Now(refunded))
    }

    async fn record_card_refund(
        &self,
        refunded: &Payment,
        from: PaymentStatus,
        reason: &str,
        correlation_id: &CorrelationId,
    ) -> Result<Refunded, AppError> {
        let mut state = self.state.lock().expect("lock");
        let current = state.payments.get(&refunded.booking_id).map(|p| p.status);
        if current != Some(from) {
            return Ok(Refunded::Before);
        }
        let event = PaymentRefunded {
            payment: PaymentFacts::of(refunded),
            reason: reason.to_owned(),
        };
        state.emit(&event, correlation_id)?;
        state
            .payments
            .insert(refunded.booking_id.clone(), refunded.clone());
        Ok(Refunded::Now(refunded.clone()))
    }
}

/// A card gateway in memory, with the real one's guarantees: one charge
/// per idempotency key (a replay answers it), one refund per key, never
/// more refunded than charged. A test can decline a card token, or make
/// the gateway unavailable (every call fails as if its circuit were open).
#[derive(Debug, Default)]
pub struct MemoryCards {
    state: Mutex<CardState>,
}

#[derive(Debug, Default)]
struct CardState {
    charges: HashMap<String, Charge>,
    refunds: HashMap<String, Refund>,
    declined: Vec<String>,
    unavailable: bool,
    /// Charges are made, but their answers never arrive.
    answers_lost: bool,
    calls: usize,
}

impl MemoryCards {
    /// Makes every later charge of `token` a decline.
    pub fn decline(&self, token: &str) {
        self.state
            .lock()
            .expect("lock")
            .declined
            .push(token.to_owned());
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        self.state.lock().expect("lock").unavailable = unavailable;
    }

    /// Makes every later charge happen with its answer lost on the way
    /// back (the caller sees the gateway as unavailable).
    pub fn lose_answers(&self, lost: bool) {
        self.state.lock().expect("lock").answers_lost = lost;
    }

    /// Every charge made, by idempotency key.
    pub fn charges(&self) -> HashMap<String, Charge> {
        self.state.lock().expect("lock").charges.clone()
    }

    /// How many calls reached the gateway.
    pub fn calls(&self) -> usize {
        self.state.lock().expect("lock").calls
    }

    fn admit(&self) -> Result<std::sync::MutexGuard<'_, CardState>, GatewayError> {
        let mut state = self.state.lock().expect("lock");
        if state.unavailable {
            return Err(GatewayError::Unavailable {
                reason: crate::payment::card::CIRCUIT_OPEN.to_owned(),
            });
        }
        state.calls += 1;
        Ok(state)
    }
}

impl CardPayments for MemoryCards {
    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, GatewayError> {
        let mut state = self.admit()?;
        if let Some(charge) = state.charges.get(&request.idempotency_key) {
            return Ok(charge.clone());
        }
        if state.declined.contains(&request.card_token) {
            return Err(GatewayError::Declined {
                code: "card_declined".into(),
                message: "the card was declined".into(),
            });
        }
        let charge = Charge {
            charge_id: format!("ch_{}", uuid::Uuid::now_v7().simple()),
            idempotency_key: request.idempotency_key.clone(),
            amount_cents: request.amount_cents,
            currency: request.currency.clone(),
            status: "succeeded".into(),
            refunded_cents: 0,
        };
        state
            .charges
            .insert(request.idempotency_key.clone(), charge.clone());
        if state.answers_lost {
            return Err(GatewayError::Unavailable {
                reason: "timed out".into(),
            });
        }
        Ok(charge)
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Refund, GatewayError> {
        let mut state = self.admit()?;
        if let Some(refund) = state.refunds.get(&request.idempotency_key) {
            return Ok(refund.clone());
        }
        let refused = |status, code: &str| GatewayError::Refused {
            status,
            code: code.into(),
            message: code.replace('_', " "),
        };
        let charge = state
            .charges
            .values_mut()
            .find(|c| c.charge_id == request.charge_id)
            .ok_or_else(|| refused(404, "no_such_charge"))?;
        if charge.refunded_cents + request.amount_cents > charge.amount_cents {
            return Err(refused(409, "refund_exceeds_charge"));
        }
        charge.refunded_cents += request.amount_cents;
        let refund = Refund {
            refund_id: format!("re_{}", uuid::Uuid::now_v7().simple()),
            charge_id: request.charge_id.clone(),
            amount_cents: request.amount_cents,
        };
        state
            .refunds
            .insert(request.idempotency_key.clone(), refund.clone());
        Ok(refund)
    }

    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Charge>, GatewayError> {
        Ok(self.admit()?.charges.get(idempotency_key).cloned())
    }
}
