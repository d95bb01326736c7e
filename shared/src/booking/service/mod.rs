//! The booking context's use cases, generic over the ports in
//! [`super::ports`] and the catalog's: who may see a booking, its history
//! and a customer's list; a new hold of any kind, a change, a cancellation,
//! the expiry of lapsed holds; and the booking side of the payment saga.
//! The rules they apply are the pure functions of [`super::rules`]; the
//! stores decide capacity, by the conditions of one transaction.

mod changes;
mod holds;
mod saga;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ports::{BookingFilter, BookingReader};
use super::{
    Booking, BookingId, BookingStatus, CancellationQuote, HistoryEntry, cancellation_quote,
};
use crate::AppError;
use crate::catalog::ResourceId;
use crate::catalog::ports::{ResourceStore, VenueStore};
use crate::identity::{Caller, Permission, UserId};
use crate::payment::RefundPolicy;
use crate::payment::ports::PaymentStore;
use crate::ports::UserStore;

pub use changes::{CancelNote, CancelRequest, Sweep, SweepPlan, cancel, expire_lapsed, modify};
pub use holds::{Attempt, Created, IDEMPOTENCY_HOURS, create};
pub use saga::{cents, payment_completed, payment_failed, payment_refunded};

/// A booking's history, as `GET /bookings/{booking_id}/history` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingHistory {
    pub booking_id: BookingId,
    pub status: BookingStatus,
    pub history: Vec<HistoryEntry>,
}

/// A page of the caller's bookings, as `GET /bookings` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingList {
    pub bookings: Vec<Booking>,
    pub next_cursor: Option<String>,
}

/// The booking if `caller` may see it: its owner, or staff with
/// `bookings:read` in the company of its venue (the platform administrator
/// everywhere). Anyone else gets the same 404 as for a booking that does
/// not exist, so ids cannot be probed.
pub async fn get_visible(
    bookings: &impl BookingReader,
    caller: &Caller,
    id: &BookingId,
) -> Result<Booking, AppError> {
    get_allowed(bookings, caller, id, Permission::BookingsRead).await
}

/// The booking if `caller` may change it: its owner, or staff with
/// `bookings:manage` in its venue's company. Staff who may only read it get
/// a 403; anyone else the same 404 as [`get_visible`].
pub async fn get_manageable(
    bookings: &impl BookingReader,
    caller: &Caller,
    id: &BookingId,
) -> Result<Booking, AppError> {
    get_allowed(bookings, caller, id, Permission::BookingsManage).await
}

async fn get_allowed(
    bookings: &impl BookingReader,
    caller: &Caller,
    id: &BookingId,
    permission: Permission,
) -> Result<Booking, AppError> {
    let not_found = || AppError::NotFound {
        code: "BOOKING_NOT_FOUND",
        what: format!("the booking {id}"),
    };
    let booking = bookings.get(id).await?.ok_or_else(not_found)?;
    caller.require_owner_or_in(
        &booking.user_id,
        booking.company_id.as_ref(),
        permission,
        not_found,
    )?;
    Ok(booking)
}

/// Every transition of a booking the caller may see.
pub async fn history(
    bookings: &impl BookingReader,
    caller: &Caller,
    id: &BookingId,
) -> Result<BookingHistory, AppError> {
    let booking = get_visible(bookings, caller, id).await?;
    let history = bookings.history(&booking.id).await?;
    Ok(BookingHistory {
        booking_id: booking.id,
        status: booking.status,
        history,
    })
}

/// The `status` filter of a list, as a client writes it.
pub fn parse_status(raw: &str) -> Result<BookingStatus, AppError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
        AppError::validation(
            "INVALID_STATUS",
            "status must be PENDING, CONFIRMED, CANCELLED, EXPIRED or FAILED",
        )
    })
}

/// GET /admin/resources/{resource_id}/bookings: a page of the resource's
/// bookings by booked date and time, to staff with `bookings:read` in its
/// venue's company (the platform administrator everywhere). A resource of
/// another company is the same 404 as one that does not exist.
#[allow(clippy::too_many_arguments)]
pub async fn list_for_resource(
    bookings: &impl BookingReader,
    catalog: &(impl VenueStore + ResourceStore),
    users: &impl UserStore,
    caller: &Caller,
    resource: &ResourceId,
    filter: &BookingFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<OperatorBookingList, AppError> {
    let scope = caller.scope(Permission::BookingsRead)?;
    let not_found = || AppError::NotFound {
        code: "RESOURCE_NOT_FOUND",
        what: format!("the resource {resource}"),
    };
    let found = catalog
        .get_resource(resource)
        .await?
        .ok_or_else(not_found)?;
    let venue = crate::catalog::service::venue_of(catalog, &found).await?;
    scope.check(venue.company_id.as_ref(), not_found)?;
    let page = bookings
        .list_for_resource(resource, filter, limit, cursor)
        .await?;
    // Contact details only for a role that may see them, read once per
    // customer of the page.
    let contacts = caller
        .scope(Permission::CustomersRead)
        .is_ok_and(|s| s.admits(venue.company_id.as_ref()));
    let mut known: std::collections::HashMap<UserId, Option<Contact>> = Default::default();
    let mut listed = Vec::with_capacity(page.bookings.len());
    for booking in page.bookings {
        let customer = if contacts {
            if !known.contains_key(&booking.user_id) {
                let contact = contact_of(users, &booking.user_id).await?;
                known.insert(booking.user_id.clone(), contact);
            }
            known.get(&booking.user_id).cloned().flatten()
        } else {
            None
        };
        listed.push(OperatorBooking { booking, customer });
    }
    Ok(OperatorBookingList {
        bookings: listed,
        next_cursor: page.next_cursor,
    })
}

/// GET /bookings/{booking_id}: the booking, to its owner or staff with
/// `bookings:read` in its venue's company ([`get_visible`]); staff whose
/// role there also has `customers:read` see the customer's contact (none
/// for an account since deleted). While it can be cancelled, it carries
/// what a cancellation at `now` would refund by `policy`
/// ([`cancellation_quote`]); the payment is read only for a booking that
/// asked to be paid.
pub async fn get_detail(
    bookings: &impl BookingReader,
    users: &impl UserStore,
    payments: &impl PaymentStore,
    caller: &Caller,
    id: &BookingId,
    policy: &RefundPolicy,
    now: DateTime<Utc>,
) -> Result<BookingView, AppError> {
    let booking = get_visible(bookings, caller, id).await?;
    let sees_contact = caller.user_id != booking.user_id
        && caller
            .scope(Permission::CustomersRead)
            .is_ok_and(|s| s.admits(booking.company_id.as_ref()));
    let customer = if sees_contact {
        contact_of(users, &booking.user_id).await?
    } else {
        None
    };
    let cancellable = booking.status.can_become(BookingStatus::Cancelled);
    let payment = if cancellable && booking.payment.is_some() {
        payments.payment(&booking.id).await?
    } else {
        None
    };
    let cancellation = cancellation_quote(&booking, payment.as_ref(), policy, now);
    Ok(BookingView {
        detail: OperatorBooking { booking, customer },
        cancellation,
    })
}

/// A booking as `GET /bookings/{booking_id}` shows it: the booking (with
/// the customer's contact for staff who may see it) and, while it can be
/// cancelled, what cancelling it now would refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingView {
    #[serde(flatten)]
    pub detail: OperatorBooking,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<CancellationQuote>,
}

/// The contact of `user`; `None` for an account that is gone.
async fn contact_of(users: &impl UserStore, user: &UserId) -> Result<Option<Contact>, AppError> {
    Ok(users.get(user).await?.map(|u| Contact {
        email: u.email.to_string(),
        name: u.name.as_str().to_owned(),
        phone: u.phone.as_str().to_owned(),
    }))
}

/// A customer's contact details, as operators with `customers:read` see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub email: String,
    pub name: String,
    pub phone: String,
}

/// A booking as its venue's operators list it: with the customer's contact
/// for a role that may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorBooking {
    #[serde(flatten)]
    pub booking: Booking,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Contact>,
}

/// A page of a resource's bookings, as `GET /admin/resources/{id}/bookings` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorBookingList {
    pub bookings: Vec<OperatorBooking>,
    pub next_cursor: Option<String>,
}

/// A page of the caller's own bookings: the route has no user id, so no
/// one lists anyone else's.
pub async fn list_mine(
    bookings: &impl BookingReader,
    caller: &Caller,
    filter: &BookingFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<BookingList, AppError> {
    let page = bookings
        .list_for_user(&caller.user_id, filter, limit, cursor)
        .await?;
    Ok(BookingList {
        bookings: page.bookings,
        next_cursor: page.next_cursor,
    })
}
