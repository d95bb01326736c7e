//! Venues and their resources.

use super::*;

impl VenueStore for DynamoCatalog {
    async fn create_venue(&self, venue: &Venue, activity: &EventEnvelope) -> Result<(), AppError> {
        let item = VenueItem {
            pk: venue_pk(&venue.id),
            sk: "VENUE".into(),
            gsi1pk: "VENUES".into(),
            gsi1sk: format!("{}#{}", venue.name.to_lowercase(), venue.id),
            entity: "VENUE".into(),
            id: venue.id.clone(),
            company_id: venue.company_id.clone(),
            name: venue.name.clone(),
            kind: venue.kind,
            city: venue.city.clone(),
            time_zone: venue.time_zone,
            status: venue.status,
        };
        self.create(item, activity, "creating a venue").await
    }

    async fn get_venue(&self, id: &VenueId) -> Result<Option<Venue>, AppError> {
        let item: Option<VenueItem> = self
            .get(venue_pk(id), "VENUE".into(), "reading a venue")
            .await?;
        Ok(item.map(venue_of))
    }

    async fn list_venues(&self, page: PageRequest<'_>) -> Result<Page<Venue>, AppError> {
        let items: Page<VenueItem> = self
            .query_gsi1_page("VENUES".into(), "VENUE#", page, "listing venues")
            .await?;
        Ok(Page {
            items: items.items.into_iter().map(venue_of).collect(),
            next_cursor: items.next_cursor,
        })
    }

    async fn update_venue(
        &self,
        id: &VenueId,
        change: &VenueChange,
        activity: &EventEnvelope,
    ) -> Result<Venue, AppError> {
        let mut fields = Vec::new();
        if let Some(name) = &change.name {
            fields.push(("GSI1SK", s(format!("{}#{id}", name.to_lowercase()))));
            fields.push(("name", s(name)));
        }
        if let Some(city) = &change.city {
            fields.push(("city", s(city)));
        }
        if let Some(status) = change.status {
            fields.push(("status", s(status.as_str())));
        }
        let item = self
            .update_entity(
                venue_pk(id),
                "VENUE",
                &fields,
                &format!("the venue {id}"),
                activity,
            )
            .await?;
        let item: VenueItem =
            serde_dynamo::from_item(item).map_err(|e| AppError::internal("decoding a venue", e))?;
        Ok(venue_of(item))
    }
}

impl ResourceStore for DynamoCatalog {
    async fn create_resource(
        &self,
        resource: &Resource,
        activity: &EventEnvelope,
    ) -> Result<(), AppError> {
        let item = ResourceItem {
            pk: resource_pk(&resource.id),
            sk: "RESOURCE".into(),
            gsi1pk: format!("VENUE#{}#RESOURCES", resource.venue_id),
            gsi1sk: format!("{}#{}", resource.name.to_lowercase(), resource.id),
            entity: "RESOURCE".into(),
            id: resource.id.clone(),
            venue_id: resource.venue_id.clone(),
            name: resource.name.clone(),
            kind: resource.kind,
            status: resource.status,
            range: resource.range,
            back_nine: resource.back_nine.clone(),
            waiting_room: None,
        };
        self.create(item, activity, "creating a resource").await
    }

    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, AppError> {
        let item: Option<ResourceItem> = self
            .get(resource_pk(id), "RESOURCE".into(), "reading a resource")
            .await?;
        Ok(item.map(resource_of))
    }

    async fn list_resources(
        &self,
        venue: &VenueId,
        page: PageRequest<'_>,
    ) -> Result<Page<Resource>, AppError> {
        let items: Page<ResourceItem> = self
            .query_gsi1_page(
                format!("VENUE#{venue}#RESOURCES"),
                "RESOURCE#",
                page,
                "listing resources",
            )
            .await?;
        Ok(Page {
            items: items.items.into_iter().map(resource_of).collect(),
            next_cursor: items.next_cursor,
        })
    }

    async fn update_resource(
        &self,
        id: &ResourceId,
        change: &ResourceChange,
        activity: &EventEnvelope,
    ) -> Result<Resource, AppError> {
        let mut fields = Vec::new();
        if let Some(name) = &change.name {
            fields.push(("GSI1SK", s(format!("{}#{id}", name.to_lowercase()))));
            fields.push(("name", s(name)));
        }
        if let Some(status) = change.status {
            fields.push(("status", s(status.as_str())));
        }
        let item = self
            .update_entity(
                resource_pk(id),
                "RESOURCE",
                &fields,
                &format!("the resource {id}"),
                activity,
            )
            .await?;
        let item: ResourceItem = serde_dynamo::from_item(item)
            .map_err(|e| AppError::internal("decoding a resource", e))?;
        Ok(resource_of(item))
    }
}

fn venue_of(v: VenueItem) -> Venue {
    Venue {
        id: v.id,
        company_id: v.company_id,
        name: v.name,
        kind: v.kind,
        city: v.city,
        time_zone: v.time_zone,
        status: v.status,
    }
}

fn resource_of(r: ResourceItem) -> Resource {
    Resource {
        id: r.id,
        venue_id: r.venue_id,
        name: r.name,
        kind: r.kind,
        status: r.status,
        range: r.range,
        back_nine: r.back_nine,
        waiting_room: r.waiting_room,
    }
}
