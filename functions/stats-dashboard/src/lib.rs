//! GET /admin/venues/{venue_id}/dashboard (`stats:read` in the venue's
//! company): the venue's figures as of today at the venue (today, the last
//! 7 and 30 days, the next 7), its busiest and emptiest slots and the
//! occupancy of each weekday and hour, ready for a chart.

use lambda_http::{Body, Request, Response};
use shared::booking::ports::BookingReader;
use shared::catalog::VenueId;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, path_param, respond};
use shared::reporting::ports::FiguresStore;
use shared::reporting::service::Reporting;

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
        let venue = VenueId::parse(&path_param(&req, "venue_id")?)?;
        reporting.dashboard(&caller, &venue).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::reporting::twin;
    use shared::testing::{body, refusal, request, with_path_param, with_role};

    const FIXTURE: &str = include_str!("../../../events/stats-dashboard/get-dashboard.json");

    #[tokio::test]
    async fn the_dashboard_answers_the_windows_and_a_matrix_a_chart_can_draw() {
        let reporting = twin().await;
        let res = handle(&reporting, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(json["today"], "2027-01-10");
        assert_eq!(json["next_7_days"]["places_offered"], 8);
        assert_eq!(
            json["occupancy_matrix"]["occupancy"]
                .as_array()
                .unwrap()
                .len(),
            7
        );
        assert_eq!(json["occupancy_matrix"]["occupancy"][4][8], 0.0);
        assert_eq!(json["emptiest_slots"].as_array().unwrap().len(), 2);
        let res = handle(&reporting, with_role(FIXTURE, "USER"))
            .await
            .unwrap();
        assert_eq!(refusal(&res).0, 403);
        let res = handle(&reporting, with_path_param(FIXTURE, "venue_id", "nope"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_VENUE_ID".to_owned()));
    }
}
