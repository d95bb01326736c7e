//! PATCH /admin/companies/{company_id} (`companies:manage`, the platform
//! administrator's): any of `name`, `contact_email`, `status`. A CLOSED
//! company's venues refuse new bookings (inside the booking's transaction,
//! 409 `VENUE_CLOSED`) and keep the bookings they have. Recorded as
//! `AdminActivity` (`company_changed`, naming the fields changed).

use lambda_http::{Body, Request, Response};
use shared::company::UpdateCompanyRequest;
use shared::company::ports::CompanyStore;
use shared::company::service;
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::{CompanyId, Permission};

pub async fn handle(
    companies: &impl CompanyStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        caller.require(Permission::CompaniesManage)?;
        let id = CompanyId::parse(&path_param(&req, "company_id")?)?;
        let body: UpdateCompanyRequest = parse_json(&req)?;
        service::update(companies, &caller, &id, body, &correlation_id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCompanies;
    use shared::company::{Company, CompanyStatus};
    use shared::testing::{refusal, request, with_body, with_path_param, with_role};

    const FIXTURE: &str = include_str!("../../../events/company-update/patch-company.json");

    #[tokio::test]
    async fn the_platform_administrator_closes_a_company() {
        let store = MemoryCompanies::default();
        shared::testing::catalog::company(&store).await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let company: Company = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(company.status, CompanyStatus::Closed);
        assert!(!store.is_active(&company.id));
        assert_eq!(store.events().len(), 2);
    }

    #[tokio::test]
    async fn staff_an_empty_change_or_an_unknown_company_change_nothing() {
        let store = MemoryCompanies::default();
        shared::testing::catalog::company(&store).await;
        let res = handle(&store, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let res = handle(&store, with_body(FIXTURE, "{}")).await.unwrap();
        assert_eq!(refusal(&res), (400, "NOTHING_TO_CHANGE".into()));
        let other = "0195f0a4-5000-7000-8000-0000000000ff";
        let res = handle(&store, with_path_param(FIXTURE, "company_id", other))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "COMPANY_NOT_FOUND".into()));
        assert!(store.is_active(&shared::testing::catalog::company_id()));
        assert_eq!(store.events().len(), 1);
    }
}
