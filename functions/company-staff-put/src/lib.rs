//! PUT /admin/companies/{company_id}/staff (`staff:manage` in that
//! company: its owners, or the platform administrator): makes the account
//! with the given email staff of the company with `role`, or changes its
//! role. Putting the role it holds changes nothing. The last owner cannot
//! be demoted (409 `LAST_OWNER`). A company outside the caller's scope is
//! the same 404 as one that does not exist. The change takes effect at the
//! member's next authorizer answer (within `ReauthorizeEvery`).

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::company::StaffRequest;
use shared::company::ports::CompanyStore;
use shared::company::service;
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::CompanyId;
use shared::ports::UserStore;

pub async fn handle(
    companies: &impl CompanyStore,
    users: &impl UserStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let company = CompanyId::parse(&path_param(&req, "company_id")?)?;
        let body: StaffRequest = parse_json(&req)?;
        service::put_staff(
            companies,
            users,
            &caller,
            &company,
            body,
            &correlation_id,
            clock.now(),
        )
        .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryCompanies, MemoryIdentity};
    use shared::clock::FixedClock;
    use shared::company::Member;
    use shared::identity::StaffRole;
    use shared::testing::{edit, refusal, request, with_body};

    const FIXTURE: &str = include_str!("../../../events/company-staff-put/put-staff.json");

    fn clock() -> FixedClock {
        FixedClock::at_rfc3339("2027-01-10T09:30:00Z")
    }

    async fn setup() -> (MemoryCompanies, MemoryIdentity) {
        let companies = MemoryCompanies::default();
        shared::testing::catalog::company(&companies).await;
        let users = MemoryIdentity::default();
        let member =
            shared::identity::UserId::parse("0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a99").unwrap();
        shared::testing::identity::account(&users, &member).await;
        (companies, users)
    }

    #[tokio::test]
    async fn an_owner_makes_an_account_a_manager_and_putting_it_again_changes_nothing() {
        let (companies, users) = setup().await;
        let res = handle(&companies, &users, &clock(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let member: Member = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(member.role, StaffRole::Manager);
        let again = handle(&companies, &users, &clock(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        use shared::company::ports::CompanyStore;
        assert_eq!(
            companies.staff(&member.company_id).await.unwrap(),
            vec![member]
        );
        // One activity for the company, one for the member: not two.
        assert_eq!(companies.events().len(), 2);
    }

    #[tokio::test]
    async fn a_manager_a_viewer_or_another_company_s_owner_may_not_and_writes_nothing() {
        let (companies, users) = setup().await;
        let other = "0195f0a4-5000-7000-8000-0000000000ff";
        for (staff, status) in [
            ("0195f0a4-5000-7000-8000-000000000001:MANAGER", 403),
            ("0195f0a4-5000-7000-8000-000000000001:VIEWER", 403),
            (&*format!("{other}:OWNER"), 404),
            ("", 404),
        ] {
            let fixture = edit(FIXTURE, |json| {
                json["requestContext"]["authorizer"]["lambda"]["staff"] = staff.into();
            });
            let res = handle(&companies, &users, &clock(), request(&fixture))
                .await
                .unwrap();
            assert_eq!(refusal(&res).0, status, "{staff}");
        }
        assert_eq!(
            companies.events().len(),
            1,
            "only the fixture company's creation"
        );
    }

    #[tokio::test]
    async fn an_unknown_account_or_role_is_refused() {
        let (companies, users) = setup().await;
        let res = handle(
            &companies,
            &users,
            &clock(),
            with_body(
                FIXTURE,
                r#"{"email":"nobody@example.com","role":"MANAGER"}"#,
            ),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (404, "USER_NOT_FOUND".into()));
        let res = handle(
            &companies,
            &users,
            &clock(),
            with_body(
                FIXTURE,
                r#"{"email":"0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a99@example.com","role":"ADMIN"}"#,
            ),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_BODY".into()));
    }
}
