//! What the company context needs from storage.

use std::future::Future;

use super::{Company, CompanyStatus, Member};
use crate::identity::{CompanyId, Email, StaffRole, UserId};
use crate::{AppError, EventEnvelope};

/// A change of a company's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyChange {
    pub name: Option<String>,
    pub contact_email: Option<Email>,
    pub status: Option<CompanyStatus>,
}

/// Why a staff change was not written.
#[derive(Debug)]
pub enum StaffRefused {
    /// It would leave the company without an owner.
    LastOwner,
    /// The member changed meanwhile (or is not staff).
    Moved,
    /// The account is staff of [`crate::identity::staff::MAX_MEMBERSHIPS`] companies.
    TooManyMemberships,
    Failed(AppError),
}

/// Reads companies and memberships: what the catalog, the booking and
/// the authorizer need.
pub trait CompanyReader: Send + Sync {
    fn company(
        &self,
        id: &CompanyId,
    ) -> impl Future<Output = Result<Option<Company>, AppError>> + Send;

    /// The account's memberships: what the authorizer passes on. One query.
    fn memberships(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<(CompanyId, StaffRole)>, AppError>> + Send;
}

pub trait CompanyStore: CompanyReader {
    /// A new company, with its activity event, all or nothing.
    fn create(
        &self,
        company: &Company,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Changes the company's fields, with the event; `NotFound` if none.
    fn update(
        &self,
        id: &CompanyId,
        change: &CompanyChange,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<Company, AppError>> + Send;

    /// Every company, by name.
    fn list(&self) -> impl Future<Output = Result<Vec<Company>, AppError>> + Send;

    /// The company's staff.
    fn staff(&self, id: &CompanyId) -> impl Future<Output = Result<Vec<Member>, AppError>> + Send;

    /// Writes `member` (new, or with another role than `previous`), keeping
    /// the count of owners, on the condition that the member is still as
    /// `previous` says, that an owner demoted is not the last one, and that
    /// a new member's memberships stay within the bound.
    fn put_member(
        &self,
        member: &Member,
        previous: Option<StaffRole>,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<(), StaffRefused>> + Send;

    /// Removes `member` (still holding `member.role`), never the last owner.
    fn remove_member(
        &self,
        member: &Member,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<(), StaffRefused>> + Send;
}
