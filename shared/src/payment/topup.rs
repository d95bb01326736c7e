//! Wallet credits: a top-up paid by card, and an administrator's goodwill
//! grant. Points never appear from nowhere: a top-up credits its points only
//! after the gateway confirmed the charge, and a grant needs `wallet:grant`
//! and a reason, and is recorded as admin activity.
//!
//! A top-up is idempotent on the client's `Idempotency-Key`. The charge's
//! gateway key is derived from the user and that key, so a retry of the
//! same request finds the charge made the first time instead of charging
//! again, and credits it if the first attempt did not get that far. When
//! the gateway cannot tell whether it charged (unavailable), nothing is
//! credited and the answer is 503: the client sends the same request with
//! the same key again, and the result converges. A charge whose credit is
//! refused (the wallet would pass its limit) is refunded at once.

use chrono::{DateTime, Utc};

use super::card::{ChargeRequest, GatewayError, RefundRequest};
use super::events::WalletCharged;
use super::ports::{CardPayments, Credit, CreditOrder, ToppedUp, WalletStore};
use super::{CURRENCY, CardToken, GrantRequest, LedgerEntry, MAX_BALANCE, TopUp, TopUpRequest};
use crate::identity::events::AdminActivity;
use crate::identity::{Caller, Permission, UserId};
use crate::kernel::{IdempotencyKey, fingerprint};
use crate::ports::UserStore;
use crate::{AppError, CorrelationId, EventEnvelope};

/// One `POST /wallet/charge`, as the handler received it.
#[derive(Debug, Clone, Copy)]
pub struct TopUpAttempt<'a> {
    pub user: &'a UserId,
    pub key: &'a IdempotencyKey,
    pub correlation_id: &'a CorrelationId,
    pub now: DateTime<Utc>,
}

/// The gateway's idempotency key of the top-up `key` of `user`.
pub fn charge_key(user: &UserId, key: &IdempotencyKey) -> String {
    format!("topup:{user}:{}", key.as_str())
}

fn canonical_fingerprint(body: &impl serde::Serialize) -> Result<String, AppError> {
    let canonical =
        serde_json::to_vec(body).map_err(|e| AppError::internal("encoding the request", e))?;
    Ok(fingerprint(&canonical))
}

/// Charges the card of `request` and credits its points to the caller's
/// wallet, once per idempotency key.
pub async fn top_up(
    wallets: &impl WalletStore,
    cards: &impl CardPayments,
    attempt: &TopUpAttempt<'_>,
    request: &TopUpRequest,
) -> Result<ToppedUp, AppError> {
    let points = TopUp::parse(request.points)?;
    let card = CardToken::parse(request.card_token.expose())?;
    let fingerprint = canonical_fingerprint(request)?;
    let gateway_key = charge_key(attempt.user, attempt.key);
    let order = CreditOrder {
        user: attempt.user,
        key: attempt.key,
        fingerprint: &fingerprint,
        points,
        credit: Credit::Card { charge_id: "" },
        correlation_id: attempt.correlation_id,
        now: attempt.now,
    };
    // A key that credited before answers that, without a second charge.
    if let Some(first) = wallets.answer(&order).await? {
        return Ok(ToppedUp::Replayed(first));
    }
    let balance = wallets.wallet(attempt.user, 1, None).await?.balance;
    if balance + points.get() > MAX_BALANCE {
        return Err(balance_limit());
    }
    let charge = cards
        .charge(&ChargeRequest {
            idempotency_key: gateway_key.clone(),
            amount_cents: points.get(),
            currency: CURRENCY.into(),
            card_token: card.expose().to_owned(),
        })
        .await
        .map_err(charge_refusal)?;
    let order = CreditOrder {
        credit: Credit::Card {
            charge_id: &charge.charge_id,
        },
        ..order
    };
    match wallets.credit(&order).await {
        Ok(done) => Ok(done),
        Err(refusal @ AppError::Conflict { .. }) => {
            // The wallet filled up meanwhile: the money goes back.
            cards
                .refund(&RefundRequest {
                    idempotency_key: format!("refund:{gateway_key}"),
                    charge_id: charge.charge_id.clone(),
                    amount_cents: charge.amount_cents,
                })
                .await
                .map_err(|e| unavailable(&e))?;
            tracing::info!(charge_id = %charge.charge_id, "top-up refused after the charge; refunded");
            Err(refusal)
        }
        Err(other) => Err(other),
    }
}

/// Credits goodwill points to the wallet of the account `user`:
/// `wallet:grant` only, with a reason, once per the administrator's
/// idempotency key, recorded as admin activity. `attempt.user` is the
/// administrator.
pub async fn grant(
    wallets: &impl WalletStore,
    users: &impl UserStore,
    caller: &Caller,
    user: &UserId,
    attempt: &TopUpAttempt<'_>,
    request: &GrantRequest,
) -> Result<ToppedUp, AppError> {
    caller.require(Permission::WalletGrant)?;
    let points = TopUp::parse(request.points)?;
    let reason = request.reason()?;
    if users.get(user).await?.is_none() {
        return Err(AppError::NotFound {
            code: "USER_NOT_FOUND",
            what: format!("the account {user}"),
        });
    }
    let fingerprint = canonical_fingerprint(&(user, request))?;
    let order = CreditOrder {
        user,
        key: attempt.key,
        fingerprint: &fingerprint,
        points,
        credit: Credit::Grant {
            by: &caller.user_id,
            reason: &reason,
        },
        correlation_id: attempt.correlation_id,
        now: attempt.now,
    };
    wallets.credit(&order).await
}

pub(super) fn balance_limit() -> AppError {
    AppError::conflict(
        "BALANCE_LIMIT",
        format!("a wallet holds at most {MAX_BALANCE} points"),
    )
}

fn unavailable(e: &GatewayError) -> AppError {
    AppError::Unavailable {
        code: "GATEWAY_UNAVAILABLE",
        message: format!(
            "{e}; whether the card was charged is not known yet: send the same request with the same Idempotency-Key again"
        ),
    }
}

fn charge_refusal(e: GatewayError) -> AppError {
    match e {
        GatewayError::Declined { .. } => AppError::PaymentRequired {
            code: "CARD_DECLINED",
            message: "the card was declined; nothing was charged".into(),
        },
        GatewayError::Refused { ref code, .. } if code == "idempotency_mismatch" => {
            AppError::Unprocessable {
                code: "IDEMPOTENCY_KEY_REUSED",
                message: "this Idempotency-Key was used for a different request".into(),
            }
        }
        GatewayError::Refused { .. } => AppError::PaymentRequired {
            code: "GATEWAY_REFUSED",
            message: "the payment gateway refused the charge; nothing was charged".into(),
        },
        GatewayError::Unavailable { .. } => unavailable(&e),
    }
}

/// The event of a credit: `WalletCharged` for a paid top-up, admin
/// activity for a grant.
pub fn credit_event(
    order: &CreditOrder<'_>,
    entry: &LedgerEntry,
) -> Result<EventEnvelope, AppError> {
    let envelope = match order.credit {
        Credit::Card { charge_id } => EventEnvelope::of(
            &WalletCharged {
                user_id: order.user.clone(),
                entry_id: entry.entry_id.clone(),
                points: order.points.get(),
                balance: entry.balance_after,
                charge_id: charge_id.to_owned(),
            },
            order.correlation_id.clone(),
        ),
        Credit::Grant { by, reason } => EventEnvelope::of(
            &AdminActivity::WalletGranted {
                user_id: order.user.clone(),
                points: order.points.get(),
                balance: entry.balance_after,
                reason: reason.to_owned(),
                actor: by.to_string(),
            },
            order.correlation_id.clone(),
        ),
    };
    envelope.map_err(|e| AppError::internal("encoding a credit's event", e))
}

/// The HTTP answer to a credit: 201 with the new ledger entry, the first
/// answer again on a replay (`idempotent-replayed: true`), or the refusal.
pub fn answer(
    result: Result<ToppedUp, AppError>,
    correlation_id: &CorrelationId,
) -> lambda_http::Response<lambda_http::Body> {
    use crate::http::{error_response, json_response, replayed};
    match result {
        Ok(ToppedUp::New(entry)) => {
            tracing::info!(entry_id = %entry.entry_id, kind = ?entry.kind, points = entry.points, "wallet credited");
            json_response(201, &entry, correlation_id)
        }
        Ok(ToppedUp::Replayed(first)) => replayed(&first, correlation_id),
        Err(err) => error_response(&err, correlation_id),
    }
}
