//! The payment context's twin: wallets and their ledgers.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::AppError;
use crate::events::EventEnvelope;
use crate::identity::UserId;
use crate::payment::events::WalletCharged;
use crate::payment::ports::{TopUpOrder, ToppedUp, WalletStore};
use crate::payment::{LedgerEntry, LedgerKind, MAX_BALANCE, WalletView};

/// Wallets in memory, with the DynamoDB adapter's guarantees: one top-up
/// per idempotency key (the same body replays the first answer, another is
/// 422), no wallet past `MAX_BALANCE`, the balance always the ledger's sum.
#[derive(Debug, Default)]
pub struct MemoryWallets {
    state: Mutex<WalletState>,
}

#[derive(Debug, Default)]
struct WalletState {
    /// Each user's ledger, oldest first.
    ledgers: HashMap<UserId, Vec<LedgerEntry>>,
    /// (user, key) -> (fingerprint, first answer).
    records: HashMap<(UserId, String), (String, String)>,
    outbox: Vec<EventEnvelope>,
}

impl MemoryWallets {
    /// The events written to the outbox, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state.lock().expect("lock").outbox.clone()
    }
}

impl WalletStore for MemoryWallets {
    async fn top_up(&self, order: &TopUpOrder<'_>) -> Result<ToppedUp, AppError> {
        let mut state = self.state.lock().expect("lock");
        let record = (order.user.clone(), order.key.as_str().to_owned());
        if let Some((fingerprint, answer)) = state.records.get(&record) {
            return if fingerprint == order.fingerprint {
                Ok(ToppedUp::Replayed(answer.clone()))
            } else {
                Err(AppError::Unprocessable {
                    code: "IDEMPOTENCY_KEY_REUSED",
                    message: "this Idempotency-Key was used for a different request".into(),
                })
            };
        }
        let ledger = state.ledgers.entry(order.user.clone()).or_default();
        let balance = ledger.last().map_or(0, |e| e.balance_after);
        let after = balance + order.points.get();
        if after > MAX_BALANCE {
            return Err(AppError::conflict(
                "BALANCE_LIMIT",
                format!("a wallet holds at most {MAX_BALANCE} points"),
            ));
        }
        let entry = LedgerEntry {
            entry_id: uuid::Uuid::now_v7().to_string(),
            kind: LedgerKind::TopUp,
            points: i64::try_from(order.points.get())
                .map_err(|e| AppError::internal("topping up", e))?,
            balance_after: after,
            booking_id: None,
            at: order.now,
        };
        ledger.push(entry.clone());
        let charged = WalletCharged {
            user_id: order.user.clone(),
            entry_id: entry.entry_id.clone(),
            points: order.points.get(),
            balance: after,
        };
        let event = EventEnvelope::of(&charged, order.correlation_id.clone())
            .map_err(|e| AppError::internal("encoding WalletCharged", e))?;
        state.outbox.push(event);
        let answer = serde_json::to_string(&entry)
            .map_err(|e| AppError::internal("encoding a ledger entry", e))?;
        state
            .records
            .insert(record, (order.fingerprint.to_owned(), answer));
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
