//! GET /admin/venues/{venue_id}/stats?from=&to=&by=day|week and
//! GET /admin/resources/{resource_id}/stats?... (`stats:read` in the
//! subject's company): the kept figures of each day or ISO week of the
//! range, days at the venue, with the places the catalog offers and a
//! total. A subject of another company is the same 404 as one that does not
//! exist.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::booking::ports::BookingReader;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::catalog::{ResourceId, VenueId};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, path_param, query_param, respond};
use shared::reporting::Subject;
use shared::reporting::ports::FiguresStore;
use shared::reporting::service::{RangeQuery, Reporting};

/// The subject a route names: the venue's or the resource's path id.
fn subject(req: &Request) -> Result<Subject, AppError> {
    match path_param(req, "venue_id") {
        Ok(venue) => Ok(Subject::Venue(VenueId::parse(&venue)?)),
        Err(_) => Ok(Subject::Resource(ResourceId::parse(&path_param(
            req,
            "resource_id",
        )?)?)),
    }
}

pub async fn handle<F, B, C, K>(
    reporting: &Reporting<F, B, C, K>,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FiguresStore,
    B: BookingReader,
    C: VenueStore + ResourceStore + SlotStore,
    K: Clock,
{
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let subject = subject(&req)?;
        let (from, to, by) = (
            query_param(&req, "from"),
            query_param(&req, "to"),
            query_param(&req, "by"),
        );
        let query = RangeQuery {
            from: from.as_deref(),
            to: to.as_deref(),
            by: by.as_deref(),
        };
        reporting.stats(&caller, &subject, query).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::reporting::twin;
    use shared::testing::{body, refusal, request, with_queries, with_role};

    const VENUE: &str = include_str!("../../../events/stats-get/get-venue-stats.json");
    const RESOURCE: &str = include_str!("../../../events/stats-get/get-resource-stats.json");

    #[tokio::test]
    async fn an_admin_reads_a_venue_by_week_and_a_resource_by_day() {
        let reporting = twin().await;
        let res = handle(&reporting, request(VENUE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(json["subject"]["kind"], "venue");
        assert_eq!(json["by"], "week");
        assert_eq!(json["time_zone"], "Europe/London");
        assert_eq!(json["total"]["places_offered"], 8);
        let res = handle(&reporting, request(RESOURCE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(json["rows"].as_array().unwrap().len(), 3);
        assert_eq!(json["rows"][1]["places_offered"], 8);
        assert_eq!(json["rows"][1]["occupancy"], 0.0);
    }

    #[tokio::test]
    async fn bad_ranges_and_customers_are_refused() {
        let reporting = twin().await;
        for (pairs, code) in [
            (vec![("to", "2027-01-16")], "MISSING_DATE"),
            (
                vec![("from", "2027-01-16"), ("to", "2027-01-14")],
                "INVALID_RANGE",
            ),
            (
                vec![("from", "2027-01-14"), ("to", "2027-01-16"), ("by", "year")],
                "INVALID_PERIOD",
            ),
        ] {
            let res = handle(&reporting, with_queries(RESOURCE, &pairs))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, code.to_owned()));
        }
        let res = handle(&reporting, with_role(VENUE, "USER")).await.unwrap();
        assert_eq!(refusal(&res).0, 403);
    }
}
