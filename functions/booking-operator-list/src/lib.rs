//! GET /admin/resources/{resource_id}/bookings?date=&status=&limit=&cursor=
//! (`bookings:read` in the resource's company): its bookings by booked date
//! and time, optionally of one date and/or status, in pages with
//! `next_cursor`. A resource of another company is the same 404 as one
//! that does not exist. Each booking carries the customer's contact
//! (`customer`: email, name, phone) only for a role with `customers:read`
//! (owners and managers, not viewers).

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::booking::ports::{BookingFilter, BookingReader};
use shared::booking::service;
use shared::catalog::ResourceId;
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::http::{caller, correlation_id, limit_param, path_param, query_param, respond};
use shared::ports::UserStore;

pub async fn handle(
    bookings: &impl BookingReader,
    catalog: &(impl VenueStore + ResourceStore),
    users: &impl UserStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let resource = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let status = query_param(&req, "status")
            .map(|s| service::parse_status(&s))
            .transpose()?;
        let limit = limit_param(&req, 50, 100)?;
        let date = query_param(&req, "date")
            .map(|d| {
                chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| AppError::validation("INVALID_DATE", "date must be YYYY-MM-DD"))
            })
            .transpose()?;
        let cursor = query_param(&req, "cursor");
        let filter = BookingFilter { status, date };
        service::list_for_resource(
            bookings,
            catalog,
            users,
            &caller,
            &resource,
            &filter,
            limit,
            cursor.as_deref(),
        )
        .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::booking::BookingId;
    use shared::identity::UserId;
    use shared::testing::booking::{booking_of, over_course};
    use shared::testing::{body, edit, refusal, request, with_queries};

    const FIXTURE: &str =
        include_str!("../../../events/booking-operator-list/get-resource-bookings.json");

    fn as_staff(staff: &str) -> String {
        edit(FIXTURE, |json| {
            json["requestContext"]["authorizer"]["lambda"]["staff"] = staff.into();
        })
    }

    #[tokio::test]
    async fn staff_of_the_company_list_the_resources_bookings_and_no_one_else() {
        let bookings = over_course().await;
        for minutes in 0..3 {
            bookings.insert(
                booking_of(BookingId::generate(), &UserId::generate(), minutes),
                Vec::new(),
            );
        }
        let catalog = bookings.catalog();
        let users = shared::adapters::memory::MemoryIdentity::default();
        let res = handle(&bookings, catalog, &users, request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["bookings"].as_array().unwrap().len(), 3);
        // The fixture's caller is a viewer: no contact details.
        assert!(body(&res)["bookings"][0].get("customer").is_none());
        let paged = handle(
            &bookings,
            catalog,
            &users,
            with_queries(FIXTURE, &[("limit", "2"), ("date", "2027-01-15")]),
        )
        .await
        .unwrap();
        assert_eq!(body(&paged)["bookings"].as_array().unwrap().len(), 2);
        assert!(body(&paged)["next_cursor"].is_string());
        let elsewhere = as_staff("0195f0a4-5000-7000-8000-0000000000ff:MANAGER");
        let res = handle(&bookings, catalog, &users, request(&elsewhere))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "RESOURCE_NOT_FOUND".into()));
        let customer = as_staff("");
        let res = handle(&bookings, catalog, &users, request(&customer))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
    }

    #[tokio::test]
    async fn a_manager_sees_the_customers_contact_a_viewer_does_not() {
        let bookings = over_course().await;
        let users = shared::adapters::memory::MemoryIdentity::default();
        let customer = UserId::generate();
        shared::testing::identity::account(&users, &customer).await;
        bookings.insert(booking_of(BookingId::generate(), &customer, 0), Vec::new());
        let catalog = bookings.catalog();
        let manager = as_staff("0195f0a4-5000-7000-8000-000000000001:MANAGER");
        let res = handle(&bookings, catalog, &users, request(&manager))
            .await
            .unwrap();
        assert_eq!(
            body(&res)["bookings"][0]["customer"]["email"],
            format!("{customer}@example.com")
        );
        let res = handle(&bookings, catalog, &users, request(FIXTURE))
            .await
            .unwrap();
        assert!(body(&res)["bookings"][0].get("customer").is_none());
    }
}
