//! GET /admin/companies/{company_id}/staff (`staff:manage` in that
//! company): its staff, each with their role. Scope as for the other staff
//! routes: staff of the company without the permission get 403, anyone
//! else the 404 of a company that does not exist.

use lambda_http::{Body, Request, Response};
use shared::company::ports::CompanyStore;
use shared::company::service;
use shared::http::{caller, correlation_id, path_param, respond};
use shared::identity::CompanyId;

pub async fn handle(
    companies: &impl CompanyStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let id = CompanyId::parse(&path_param(&req, "company_id")?)?;
        service::staff(companies, &caller, &id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCompanies;
    use shared::testing::{body, edit, refusal, request};

    const FIXTURE: &str = include_str!("../../../events/company-staff-list/get-staff.json");

    #[tokio::test]
    async fn an_owner_lists_the_staff_a_viewer_may_not_and_others_see_nothing() {
        let store = MemoryCompanies::default();
        shared::testing::catalog::company(&store).await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["staff"], serde_json::json!([]));
        for (staff, status) in [
            ("0195f0a4-5000-7000-8000-000000000001:VIEWER", 403),
            ("0195f0a4-5000-7000-8000-0000000000ff:OWNER", 404),
        ] {
            let fixture = edit(FIXTURE, |json| {
                json["requestContext"]["authorizer"]["lambda"]["staff"] = staff.into();
            });
            let res = handle(&store, request(&fixture)).await.unwrap();
            assert_eq!(refusal(&res).0, status, "{staff}");
        }
    }
}
