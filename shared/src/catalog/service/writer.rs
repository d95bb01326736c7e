//! The proof of `catalog:write`, and the scope every catalog write checks
//! its target against.

use super::{resource_not_found, slot_not_found, venue_not_found, venue_of};
use crate::catalog::ports::{ResourceStore, VenueStore};
use crate::catalog::{Resource, ResourceId, SlotId, Venue, VenueId};
use crate::identity::events::AdminActivity;
use crate::identity::{Caller, CompanyId, Permission, Scope, UserId};
use crate::{AppError, CorrelationId, EventEnvelope};

/// Proof that the caller may write the catalog (`catalog:write`) somewhere,
/// and where. Every write use case takes one, so none runs without the
/// check, and a handler obtains it before it reads the body: a customer
/// learns nothing about what a valid write would be. Each use case then
/// checks its target's company against the scope: a target of another
/// company is the same 404 as one that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogWriter {
    pub user_id: UserId,
    scope: Scope,
}

impl CatalogWriter {
    pub fn of(caller: &Caller) -> Result<Self, AppError> {
        Ok(Self {
            user_id: caller.user_id.clone(),
            scope: caller.scope(Permission::CatalogWrite)?,
        })
    }

    /// The venue, if it exists within the writer's scope.
    pub async fn venue(&self, venues: &impl VenueStore, id: &VenueId) -> Result<Venue, AppError> {
        let venue = venues
            .get_venue(id)
            .await?
            .ok_or_else(|| venue_not_found(id))?;
        self.scope
            .check(venue.company_id.as_ref(), || venue_not_found(id))?;
        Ok(venue)
    }

    /// The resource, if it exists within the writer's scope.
    pub async fn resource<S: VenueStore + ResourceStore>(
        &self,
        store: &S,
        id: &ResourceId,
    ) -> Result<Resource, AppError> {
        Ok(self.resource_in(store, id).await?.0)
    }

    /// The resource and its venue, if within the writer's scope.
    pub async fn resource_in<S: VenueStore + ResourceStore>(
        &self,
        store: &S,
        id: &ResourceId,
    ) -> Result<(Resource, Venue), AppError> {
        let resource = store
            .get_resource(id)
            .await?
            .ok_or_else(|| resource_not_found(id))?;
        let venue = venue_of(store, &resource).await?;
        self.scope
            .check(venue.company_id.as_ref(), || resource_not_found(id))?;
        Ok((resource, venue))
    }

    /// The venue of the slot's resource, if within the writer's scope
    /// (whether the slot exists is the write's own answer).
    pub async fn slot<S: VenueStore + ResourceStore>(
        &self,
        store: &S,
        id: &SlotId,
    ) -> Result<Venue, AppError> {
        let (_, venue) = self
            .resource_in(store, &id.resource_id)
            .await
            .map_err(|e| match e.status() {
                404 => slot_not_found(id),
                _ => e,
            })?;
        Ok(venue)
    }

    /// `activity`, done by this writer, as the event its write records.
    pub fn record(
        &self,
        activity: &AdminActivity,
        correlation_id: &CorrelationId,
    ) -> Result<EventEnvelope, AppError> {
        EventEnvelope::of(activity, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding AdminActivity", e))
    }
}

impl CatalogWriter {
    /// `Ok` when `company` is within the writer's scope; else the company's
    /// "not found" (or a 403 for its staff without the permission).
    pub fn company(&self, company: &CompanyId) -> Result<(), AppError> {
        self.scope.check(Some(company), || {
            crate::company::service::company_not_found(company)
        })
    }
}
