//! An account holder leaving the platform: `DELETE /me`.
//!
//! The rule (docs/identity.md, "Deleting an account"): an account is not
//! deleted while it has business open with the platform — an unpaid hold,
//! a confirmed booking still to come, a refund still owed, or staff
//! memberships — because deleting then would either cancel for the holder
//! at a policy's cost they did not see, or strand a refund. The holder
//! settles those first (cancelling shows the refund). The wallet's points
//! are written off only with the holder's explicit consent
//! (`forfeit_points`), as a `FORFEIT` ledger entry in the deletion's own
//! transaction: the ledger still sums to every point ever credited.

#![cfg(feature = "passwords")]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::ports::{BookingFilter, BookingReader};
use crate::booking::{BookingStatus, cancellation_refund_percent};
use crate::company::ports::CompanyReader;
use crate::identity::events::UserDeleted;
use crate::identity::profile::DeleteAccountRequest;
use crate::identity::service::{LoginPolicy, account_not_found, verify_current_password};
use crate::identity::{Caller, UserId};
use crate::payment::ports::{PaymentStore, WalletStore};
use crate::payment::{PaymentStatus, RefundPolicy};
use crate::ports::{AccountCloser, CloseRefused, Closing, LoginAttempts, SessionStore, UserStore};
use crate::{AppError, CorrelationId, EventEnvelope};

/// Everything a deletion reads and writes.
pub struct AccountPorts<'a, I, B, P, C, X> {
    /// Accounts, sessions and login attempts.
    pub identity: &'a I,
    pub bookings: &'a B,
    /// Payments and wallets.
    pub payments: &'a P,
    pub companies: &'a C,
    pub closer: &'a X,
    pub login: &'a LoginPolicy,
    pub refunds: &'a RefundPolicy,
}

/// The answer to a deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub user_id: UserId,
    pub points_forfeited: u64,
}

/// What keeps an account open.
#[derive(Debug, Default, PartialEq, Eq)]
struct OpenBusiness {
    /// Unpaid holds and confirmed bookings not yet started.
    live: usize,
    /// Ended bookings whose refund is owed and not yet recorded.
    refunds: usize,
}

/// How many bookings are read per page while looking for open business.
const PAGE: u32 = 100;

/// Deletes the caller's account after checking their password (counted
/// as a login attempt): refused with a stable 409 while business is open
/// (`ACCOUNT_HAS_LIVE_BOOKINGS`, `ACCOUNT_HAS_PENDING_REFUND`,
/// `ACCOUNT_IS_STAFF`) or while the wallet holds points without
/// `forfeit_points` (`WALLET_NOT_EMPTY`). Then, in one transaction, the
/// account, its email claim and its login counter are removed, the points
/// are written off, and `UserDeleted` is recorded; every session ends.
pub async fn delete_account<I, B, P, C, X>(
    ports: &AccountPorts<'_, I, B, P, C, X>,
    caller: &Caller,
    request: DeleteAccountRequest,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Deleted, AppError>
where
    I: UserStore + SessionStore + LoginAttempts,
    B: BookingReader,
    P: PaymentStore + WalletStore,
    C: CompanyReader,
    X: AccountCloser,
{
    let user = ports
        .identity
        .get(&caller.user_id)
        .await?
        .ok_or_else(account_not_found)?;
    verify_current_password(ports.identity, ports.login, &user, &request.password, now).await?;
    let memberships = ports.companies.memberships(&user.id).await?;
    if !memberships.is_empty() {
        return Err(AppError::conflict(
            "ACCOUNT_IS_STAFF",
            format!(
                "this account is staff of {} companies; an owner must remove it from each first",
                memberships.len()
            ),
        ));
    }
    let open = open_business(ports, &user.id, now).await?;
    if open.live > 0 {
        return Err(AppError::conflict(
            "ACCOUNT_HAS_LIVE_BOOKINGS",
            format!(
                "this account has {} unpaid or upcoming bookings; cancel them first",
                open.live
            ),
        ));
    }
    if open.refunds > 0 {
        return Err(AppError::conflict(
            "ACCOUNT_HAS_PENDING_REFUND",
            format!(
                "{} refunds of this account are still on their way; try again once they arrive",
                open.refunds
            ),
        ));
    }
    let balance = ports.payments.wallet(&user.id, 1, None).await?.balance;
    if balance > 0 && !request.forfeit_points {
        return Err(AppError::conflict(
            "WALLET_NOT_EMPTY",
            format!(
                "the wallet holds {balance} points; spend them, or send forfeit_points: true \
                 to give them up with the account"
            ),
        ));
    }
    let deleted = UserDeleted {
        user_id: user.id.clone(),
        points_forfeited: balance,
    };
    let event = EventEnvelope::of(&deleted, correlation_id.clone())
        .map_err(|e| AppError::internal("encoding UserDeleted", e))?;
    let closing = Closing {
        user: &user,
        forfeit: balance,
        event: &event,
    };
    match ports.closer.close(&closing).await {
        Ok(()) => {}
        Err(CloseRefused::LiveHolds) => {
            return Err(AppError::conflict(
                "ACCOUNT_HAS_LIVE_BOOKINGS",
                "a booking was made while deleting; cancel it first",
            ));
        }
        Err(CloseRefused::WalletChanged | CloseRefused::AccountChanged) => {
            return Err(AppError::conflict(
                "ACCOUNT_CHANGED",
                "the account or its wallet changed while deleting; try again",
            ));
        }
        Err(CloseRefused::Failed(e)) => return Err(e),
    }
    let ended = ports.identity.revoke_all(&user.id, None, now).await?;
    tracing::info!(ended, points_forfeited = balance, "account deleted");
    Ok(Deleted {
        user_id: user.id,
        points_forfeited: balance,
    })
}

/// Reads every booking of `user` for what keeps the account open.
async fn open_business<I, B, P, C, X>(
    ports: &AccountPorts<'_, I, B, P, C, X>,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<OpenBusiness, AppError>
where
    B: BookingReader,
    P: PaymentStore,
{
    let mut open = OpenBusiness::default();
    let mut cursor = None;
    loop {
        let page = ports
            .bookings
            .list_for_user(user, &BookingFilter::default(), PAGE, cursor.as_deref())
            .await?;
        for booking in &page.bookings {
            let starts_at = booking.starts_at.to_utc();
            let refund_owed = match booking.status {
                BookingStatus::Pending => {
                    open.live += 1;
                    continue;
                }
                BookingStatus::Confirmed => {
                    if starts_at > now {
                        open.live += 1;
                    }
                    continue;
                }
                // Cancelled at its last change: its refund is what the
                // policy gave then.
                BookingStatus::Cancelled => {
                    cancellation_refund_percent(
                        BookingStatus::Confirmed,
                        starts_at,
                        ports.refunds,
                        booking.updated_at,
                    ) > 0
                }
                // Ended by the platform: a payment that still completed
                // is refunded in full.
                BookingStatus::Expired | BookingStatus::Failed => true,
            };
            if refund_owed && booking.payment.is_some() {
                let payment = ports.payments.payment(&booking.id).await?;
                if payment.is_some_and(|p| p.status == PaymentStatus::Completed) {
                    open.refunds += 1;
                }
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(open),
        }
    }
}
