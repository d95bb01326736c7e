//! POST /admin/companies (`companies:manage`, the platform administrator's):
//! creates an ACTIVE company with a name and a contact email. The company
//! and its `AdminActivity` (`company_created`) are one transaction. Its
//! first owner is then added through `PUT /admin/companies/{id}/staff`.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::company::CreateCompanyRequest;
use shared::company::ports::CompanyStore;
use shared::company::service;
use shared::http::{caller, correlation_id, parse_json, respond};
use shared::identity::Permission;

pub async fn handle(
    companies: &impl CompanyStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        caller.require(Permission::CompaniesManage)?;
        let body: CreateCompanyRequest = parse_json(&req)?;
        service::create(companies, &caller, body, &correlation_id, clock.now()).await
    }
    .await;
    Ok(respond(201, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCompanies;
    use shared::clock::FixedClock;
    use shared::company::Company;
    use shared::company::ports::CompanyStore;
    use shared::identity::events::AdminActivity;
    use shared::testing::{refusal, request, with_body, with_role};

    const FIXTURE: &str = include_str!("../../../events/company-create/post-company.json");

    fn clock() -> FixedClock {
        FixedClock::at_rfc3339("2027-01-10T09:30:00Z")
    }

    #[tokio::test]
    async fn the_platform_administrator_creates_an_active_company_with_its_activity() {
        let store = MemoryCompanies::default();
        let res = handle(&store, &clock(), request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 201);
        let company: Company = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(company.name, "Fairway & Hall Group");
        assert_eq!(store.list().await.unwrap(), vec![company.clone()]);
        let events = store.events();
        assert_eq!(events.len(), 1);
        let activity: AdminActivity = events[0].decode().unwrap();
        assert!(
            matches!(activity, AdminActivity::CompanyCreated { company_id, .. } if company_id == company.id)
        );
    }

    #[tokio::test]
    async fn staff_and_customers_may_not_create_companies_and_bad_bodies_write_nothing() {
        let store = MemoryCompanies::default();
        let res = handle(&store, &clock(), with_role(FIXTURE, "USER"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        for (body, code) in [
            (
                r#"{"name":" ","contact_email":"a@b.example"}"#,
                "INVALID_NAME",
            ),
            (r#"{"name":"A","contact_email":"nope"}"#, "INVALID_EMAIL"),
            (r#"{"name":"A"}"#, "INVALID_BODY"),
        ] {
            let res = handle(&store, &clock(), with_body(FIXTURE, body))
                .await
                .unwrap();
            assert_eq!(refusal(&res).0, 400, "{body}");
            assert_eq!(refusal(&res).1, code, "{body}");
        }
        assert!(store.list().await.unwrap().is_empty());
    }
}
