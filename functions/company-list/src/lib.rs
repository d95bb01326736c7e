//! GET /admin/companies: every company for the platform administrator
//! (`companies:manage`), else the companies the caller is staff of (none
//! for a customer: an empty list, not a 403, so a client can ask anyone).

use lambda_http::{Body, Request, Response};
use shared::company::ports::CompanyStore;
use shared::company::service;
use shared::http::{caller, correlation_id, respond};

pub async fn handle(
    companies: &impl CompanyStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async { service::list(companies, &caller(&req)?).await }.await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCompanies;
    use shared::testing::{body, edit, request, with_role};

    const FIXTURE: &str = include_str!("../../../events/company-list/get-companies.json");

    #[tokio::test]
    async fn staff_see_their_companies_a_customer_none_the_administrator_all() {
        let store = MemoryCompanies::default();
        shared::testing::catalog::company(&store).await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["companies"][0]["name"], "Links Holdings");
        let customer = edit(FIXTURE, |json| {
            json["requestContext"]["authorizer"]["lambda"]["staff"] = "".into();
        });
        let res = handle(&store, request(&customer)).await.unwrap();
        assert_eq!(body(&res)["companies"], serde_json::json!([]));
        let res = handle(&store, with_role(&customer, "ADMIN")).await.unwrap();
        assert_eq!(body(&res)["companies"].as_array().unwrap().len(), 1);
    }
}
