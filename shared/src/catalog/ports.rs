//! The catalog's storage, as small ports: venues and resources. The DynamoDB
//! adapter ([`crate::adapters::dynamo::catalog::DynamoCatalog`]) and the
//! in-memory twin ([`crate::adapters::memory::MemoryCatalog`]) implement
//! them with the same guarantees.

use std::future::Future;

use super::{CatalogStatus, Resource, ResourceId, Venue, VenueId};
use crate::AppError;

/// A validated change of a venue: each field, if given, replaces the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueChange {
    pub name: Option<String>,
    pub city: Option<String>,
    pub status: Option<CatalogStatus>,
}

/// A validated change of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceChange {
    pub name: Option<String>,
    pub status: Option<CatalogStatus>,
}

pub trait VenueStore: Send + Sync {
    fn create_venue(&self, venue: &Venue) -> impl Future<Output = Result<(), AppError>> + Send;

    fn get_venue(
        &self,
        id: &VenueId,
    ) -> impl Future<Output = Result<Option<Venue>, AppError>> + Send;

    /// Every venue, ordered by name.
    fn list_venues(&self) -> impl Future<Output = Result<Vec<Venue>, AppError>> + Send;

    /// Applies `change` to the venue, conditional on it existing
    /// (`VENUE_NOT_FOUND`), and returns it as it is now.
    fn update_venue(
        &self,
        id: &VenueId,
        change: &VenueChange,
    ) -> impl Future<Output = Result<Venue, AppError>> + Send;
}

pub trait ResourceStore: Send + Sync {
    fn create_resource(
        &self,
        resource: &Resource,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    fn get_resource(
        &self,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<Resource>, AppError>> + Send;

    /// The resources of a venue, ordered by name.
    fn list_resources(
        &self,
        venue: &VenueId,
    ) -> impl Future<Output = Result<Vec<Resource>, AppError>> + Send;

    /// Applies `change` to the resource, conditional on it existing
    /// (`RESOURCE_NOT_FOUND`), and returns it as it is now.
    fn update_resource(
        &self,
        id: &ResourceId,
        change: &ResourceChange,
    ) -> impl Future<Output = Result<Resource, AppError>> + Send;
}
