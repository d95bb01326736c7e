//! The payment context: wallets of points, their append-only ledgers,
//! payments of bookings (from the wallet or by card) and refunds.
//!
//! One point is worth one cent of a booking's price, so a booking of
//! 2,500 cents costs 2,500 points.

pub mod card;
pub mod events;
pub mod ports;
pub mod service;
pub mod topup;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::identity::UserId;
use crate::kernel::BookingId;

/// The most points one top-up adds.
pub const MAX_TOP_UP: u64 = 1_000_000;
/// The most points a wallet may hold.
pub const MAX_BALANCE: u64 = 10_000_000;

/// An amount of points added to a wallet by `POST /wallet/charge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TopUp(u64);

impl TopUp {
    pub fn parse(raw: i64) -> Result<Self, AppError> {
        match u64::try_from(raw) {
            Ok(points) if (1..=MAX_TOP_UP).contains(&points) => Ok(Self(points)),
            _ => Err(AppError::validation(
                "INVALID_POINTS",
                format!("points must be a whole number from 1 to {MAX_TOP_UP}"),
            )),
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// The currency of prices, payments and card charges.
pub const CURRENCY: &str = "EUR";

/// A gateway's token for a card (`tok_` and up to 64 letters, digits or
/// underscores). It stands for a card the gateway holds; the platform never
/// sees a card number. Its `Debug` never shows it, and no event carries it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CardToken(String);

impl CardToken {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let rest = raw.strip_prefix("tok_").unwrap_or("");
        let well_formed = !rest.is_empty()
            && rest.len() <= 64
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AppError::validation(
                "INVALID_CARD_TOKEN",
                "card_token must be a gateway token like tok_visa",
            ))
        }
    }

    /// The token itself, for the one request to the gateway that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardToken([redacted])")
    }
}

/// The body of `POST /wallet/charge`: points bought with a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopUpRequest {
    pub points: i64,
    pub card_token: CardToken,
}

/// The most characters of a grant's reason.
pub const MAX_REASON_CHARS: usize = 200;

/// The body of `POST /admin/wallets/{user_id}/grant`: goodwill points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub points: i64,
    /// Why, for the ledger and the admin activity log.
    pub reason: String,
}

impl GrantRequest {
    /// The reason, trimmed: 3 to 200 printable characters.
    pub fn reason(&self) -> Result<String, AppError> {
        let reason = self.reason.trim();
        let chars = reason.chars().count();
        if !(3..=MAX_REASON_CHARS).contains(&chars) || reason.chars().any(char::is_control) {
            return Err(AppError::validation(
                "INVALID_REASON",
                format!("reason must be 3 to {MAX_REASON_CHARS} printable characters"),
            ));
        }
        Ok(reason.to_owned())
    }
}

/// How a booking asks to be paid, as sent in `POST /bookings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentChoice {
    /// From the customer's wallet of points.
    Wallet,
    /// By card, through the payment gateway. The token is kept only in the
    /// booking's payment intent, for the processor to charge.
    Card { card_token: CardToken },
}

impl PaymentChoice {
    /// Refuses card tokens that are not gateway tokens ([`CardToken::parse`]).
    pub fn validate(&self) -> Result<(), AppError> {
        if let Self::Card { card_token } = self {
            CardToken::parse(card_token.expose())?;
        }
        Ok(())
    }

    /// The card to charge, for a card payment.
    pub fn card(&self) -> Option<&CardToken> {
        match self {
            Self::Wallet => None,
            Self::Card { card_token } => Some(card_token),
        }
    }

    /// The method, without the token, as the booking keeps it.
    pub fn method(&self) -> PaymentMethod {
        match self {
            Self::Wallet => PaymentMethod::Wallet,
            Self::Card { .. } => PaymentMethod::Card,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    Wallet,
    Card,
}

/// Where a booking's payment stands. One payment item per booking, created
/// once (`attribute_not_exists`), so a booking is never paid twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Completed,
    Failed,
    /// The booking ended before it was paid: it must never be charged.
    Voided,
    /// Money went back (all or part of it, see `refunded_cents`).
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Voided => "VOIDED",
            Self::Refunded => "REFUNDED",
        }
    }
}

/// Why a payment failed: a stable code carried by `PaymentFailed` into the
/// booking's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailureReason {
    InsufficientFunds,
    CardDeclined,
    /// The gateway refused the request itself (not the card).
    GatewayRefused,
    /// The hold had expired before the payment was attempted.
    HoldExpired,
    /// The booking's payment intent (its card) was gone.
    CardMissing,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Self::CardDeclined => "CARD_DECLINED",
            Self::GatewayRefused => "GATEWAY_REFUSED",
            Self::HoldExpired => "HOLD_EXPIRED",
            Self::CardMissing => "CARD_MISSING",
        }
    }

    pub fn explain(self) -> &'static str {
        match self {
            Self::InsufficientFunds => "the wallet's balance does not cover the price",
            Self::CardDeclined => "the card was declined",
            Self::GatewayRefused => "the payment gateway refused the payment",
            Self::HoldExpired => "the hold expired before it could be paid",
            Self::CardMissing => "the card to charge was no longer held",
        }
    }
}

/// A booking's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub booking_id: BookingId,
    pub user_id: UserId,
    pub method: PaymentMethod,
    pub status: PaymentStatus,
    pub amount_cents: u64,
    #[serde(default)]
    pub refunded_cents: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReason>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What moved points in or out of a wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LedgerKind {
    /// Points bought with a card.
    TopUp,
    /// Goodwill points an administrator granted.
    Grant,
    Payment,
    Refund,
    /// Points written off when their holder deleted the account, with
    /// their consent.
    Forfeit,
}

/// One line of a wallet's ledger. Lines are only ever added, each in the
/// same transaction as the balance change it records, so the balance always
/// equals the sum of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub entry_id: String,
    pub kind: LedgerKind,
    /// Points added (positive) or taken (negative).
    pub points: i64,
    pub balance_after: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<BookingId>,
    /// Top-ups: the gateway's charge that paid for the points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    /// Grants: why, and who granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// A wallet as `GET /wallet` shows it: balance and one page of the ledger,
/// newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletView {
    pub user_id: UserId,
    pub balance: u64,
    pub ledger: Vec<LedgerEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// How much of a confirmed booking's price a cancellation gives back,
/// by how long before the start it happens: tiers like `72h=100,24h=50`
/// (a full refund 72 hours or more before, half 24 hours or more before,
/// nothing after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPolicy {
    /// (at least this long before the start, percent), longest first.
    tiers: Vec<(Duration, u32)>,
}

impl Default for RefundPolicy {
    fn default() -> Self {
        Self {
            tiers: vec![(Duration::hours(72), 100), (Duration::hours(24), 50)],
        }
    }
}

impl FromStr for RefundPolicy {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut tiers = Vec::new();
        for tier in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (before, percent) = tier
                .split_once('=')
                .ok_or_else(|| format!("{tier:?} is not like 72h=100"))?;
            let hours: i64 = before
                .trim()
                .strip_suffix('h')
                .and_then(|h| h.parse().ok())
                .filter(|h| *h >= 0)
                .ok_or_else(|| format!("{before:?} is not a number of hours like 72h"))?;
            let percent: u32 = percent
                .trim()
                .parse()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| format!("{percent:?} is not a percentage from 0 to 100"))?;
            tiers.push((Duration::hours(hours), percent));
        }
        tiers.sort_by_key(|tier| std::cmp::Reverse(tier.0));
        Ok(Self { tiers })
    }
}

impl fmt::Display for RefundPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tiers: Vec<String> = self
            .tiers
            .iter()
            .map(|(d, p)| format!("{}h={p}", d.num_hours()))
            .collect();
        f.write_str(&tiers.join(","))
    }
}

impl RefundPolicy {
    /// The percentage refunded for a cancellation at `now` of a booking
    /// starting at `starts_at`.
    pub fn percent(&self, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
        let notice = starts_at - now;
        self.tiers
            .iter()
            .find(|(before, _)| notice >= *before)
            .map_or(0, |(_, percent)| *percent)
    }
}

/// `percent` of `amount`, rounded down to a whole cent.
pub fn share(amount_cents: u64, percent: u32) -> u64 {
    amount_cents * u64::from(percent.min(100)) / 100
}

/// What a refund of `percent` gives back of `payment`: that [`share`] of
/// the amount it took, and nothing of one that took nothing (failed,
/// voided) or gave back already. The refunder pays this and
/// `GET /bookings/{booking_id}` quotes it, so the two cannot disagree.
pub fn refund_cents(payment: &Payment, percent: u32) -> u64 {
    match payment.status {
        PaymentStatus::Completed => share(payment.amount_cents, percent),
        PaymentStatus::Failed | PaymentStatus::Voided | PaymentStatus::Refunded => 0,
    }
}

/// A payment of `method` for `booking`, not yet recorded.
pub fn new_payment(
    booking: &BookingId,
    user: &UserId,
    method: PaymentMethod,
    amount_cents: u64,
    now: DateTime<Utc>,
) -> Payment {
    Payment {
        booking_id: booking.clone(),
        user_id: user.clone(),
        method,
        status: PaymentStatus::Completed,
        amount_cents,
        refunded_cents: 0,
        charge_id: None,
        failure: None,
        created_at: now,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_type_holding_a_card_token_prints_it_in_debug() {
        let secret = "tok_secret_4242";
        let top_up: TopUpRequest =
            serde_json::from_value(serde_json::json!({ "points": 10, "card_token": secret }))
                .unwrap();
        let choice: PaymentChoice =
            serde_json::from_value(serde_json::json!({ "method": "card", "card_token": secret }))
                .unwrap();
        for shown in [format!("{top_up:?}"), format!("{choice:?}")] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(choice.card().unwrap().expose(), secret);
    }
    use chrono::TimeZone;

    #[test]
    fn top_ups_are_positive_and_bounded() {
        assert!(TopUp::parse(0).is_err());
        assert!(TopUp::parse(-5).is_err());
        assert!(TopUp::parse(i64::try_from(MAX_TOP_UP).unwrap() + 1).is_err());
        assert_eq!(TopUp::parse(2500).unwrap().get(), 2500);
    }

    #[test]
    fn only_gateway_tokens_are_accepted_as_cards() {
        let card = |t: &str| PaymentChoice::Card {
            card_token: serde_json::from_value(serde_json::json!(t)).unwrap(),
        };
        assert!(card("tok_visa").validate().is_ok());
        for bad in [
            "4242424242424242",
            "tok_",
            "tok_a b",
            "",
            &format!("tok_{}", "x".repeat(65)),
        ] {
            assert!(card(bad).validate().is_err(), "{bad}");
        }
        assert!(PaymentChoice::Wallet.validate().is_ok());
    }

    #[test]
    fn the_refund_shrinks_as_the_start_comes_closer() {
        let policy: RefundPolicy = "24h=50, 72h=100".parse().unwrap();
        let start = Utc.with_ymd_and_hms(2026, 12, 10, 8, 0, 0).unwrap();
        assert_eq!(policy.percent(start, start - Duration::hours(100)), 100);
        assert_eq!(policy.percent(start, start - Duration::hours(72)), 100);
        assert_eq!(policy.percent(start, start - Duration::hours(30)), 50);
        assert_eq!(policy.percent(start, start - Duration::hours(2)), 0);
        assert_eq!(policy.percent(start, start + Duration::hours(2)), 0);
        assert_eq!(policy.to_string(), "72h=100,24h=50");
        assert_eq!(RefundPolicy::default(), policy);
    }

    #[test]
    fn malformed_policies_are_refused() {
        for bad in ["72=100", "72h=101", "xh=5", "72h"] {
            assert!(bad.parse::<RefundPolicy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_share_rounds_down_to_the_cent() {
        assert_eq!(share(2999, 50), 1499);
        assert_eq!(share(2999, 100), 2999);
        assert_eq!(share(2999, 0), 0);
    }

    #[test]
    fn only_a_completed_payment_has_anything_to_refund() {
        let booking = BookingId::generate();
        let at = Utc.with_ymd_and_hms(2026, 12, 10, 8, 0, 0).unwrap();
        let mut payment = new_payment(
            &booking,
            &UserId::generate(),
            PaymentMethod::Wallet,
            2999,
            at,
        );
        assert_eq!(refund_cents(&payment, 50), 1499);
        for status in [
            PaymentStatus::Failed,
            PaymentStatus::Voided,
            PaymentStatus::Refunded,
        ] {
            payment.status = status;
            assert_eq!(refund_cents(&payment, 100), 0, "{status:?}");
        }
    }
}
