//! DELETE /admin/companies/{company_id}/staff/{user_id} (`staff:manage` in
//! that company): the account is no longer staff, and every session of it
//! ends at once, so its refresh tokens are refused now and its access
//! tokens at the authorizer's next answer (within `ReauthorizeEvery`). The
//! last owner stays (409 `LAST_OWNER`).

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::company::ports::CompanyStore;
use shared::company::service;
use shared::http::{caller, correlation_id, error_response, no_content, path_param};
use shared::identity::{CompanyId, UserId};
use shared::ports::SessionStore;

pub async fn handle(
    companies: &impl CompanyStore,
    sessions: &impl SessionStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let company = CompanyId::parse(&path_param(&req, "company_id")?)?;
        let user = UserId::parse(&path_param(&req, "user_id")?)?;
        service::remove_staff(
            companies,
            sessions,
            &caller,
            &company,
            &user,
            &correlation_id,
            clock.now(),
        )
        .await
    }
    .await;
    Ok(match result {
        Ok(()) => no_content(&correlation_id),
        Err(err) => error_response(&err, &correlation_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryCompanies, MemoryIdentity};
    use shared::clock::FixedClock;
    use shared::company::Member;
    use shared::company::ports::CompanyStore;
    use shared::identity::StaffRole;
    use shared::testing::{refusal, request, with_path_param};

    const FIXTURE: &str = include_str!("../../../events/company-staff-remove/delete-staff.json");
    const MEMBER: &str = "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a99";
    const OWNER: &str = "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a20";

    fn clock() -> FixedClock {
        FixedClock::at_rfc3339("2027-01-10T09:30:00Z")
    }

    async fn put(companies: &MemoryCompanies, user: &str, role: StaffRole) {
        let member = Member {
            company_id: shared::testing::catalog::company_id(),
            user_id: UserId::parse(user).unwrap(),
            role,
            added_at: clock().now(),
        };
        let activity = shared::EventEnvelope::of(
            &shared::identity::events::AdminActivity::StaffRemoved {
                company_id: member.company_id.clone(),
                user_id: member.user_id.clone(),
                role,
                actor: "test".into(),
            },
            shared::CorrelationId::generate(),
        )
        .unwrap();
        assert!(companies.put_member(&member, None, &activity).await.is_ok());
    }

    #[tokio::test]
    async fn an_owner_removes_a_manager_whose_sessions_end() {
        let companies = MemoryCompanies::default();
        shared::testing::catalog::company(&companies).await;
        put(&companies, OWNER, StaffRole::Owner).await;
        put(&companies, MEMBER, StaffRole::Manager).await;
        let sessions = MemoryIdentity::default();
        let res = handle(&companies, &sessions, &clock(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        let staff = companies
            .staff(&shared::testing::catalog::company_id())
            .await
            .unwrap();
        assert_eq!(staff.len(), 1);
        let res = handle(&companies, &sessions, &clock(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "MEMBER_NOT_FOUND".into()));
    }

    #[tokio::test]
    async fn the_last_owner_stays() {
        let companies = MemoryCompanies::default();
        shared::testing::catalog::company(&companies).await;
        put(&companies, OWNER, StaffRole::Owner).await;
        let res = handle(
            &companies,
            &MemoryIdentity::default(),
            &clock(),
            with_path_param(FIXTURE, "user_id", OWNER),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (409, "LAST_OWNER".into()));
    }
}
