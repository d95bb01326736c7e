//! The company context's use cases, generic over [`super::ports`].

use chrono::{DateTime, Utc};

use super::ports::{CompanyChange, CompanyReader, CompanyStore, StaffRefused};
use super::{
    Company, CompanyList, CompanyStatus, CreateCompanyRequest, Member, StaffList, StaffRequest,
    UpdateCompanyRequest,
};
use crate::identity::events::AdminActivity;
use crate::identity::{Caller, CompanyId, Email, Permission, UserId};
use crate::ports::{SessionStore, UserStore};
use crate::{AppError, CorrelationId, EventEnvelope};

pub fn company_not_found(id: &CompanyId) -> AppError {
    AppError::NotFound {
        code: "COMPANY_NOT_FOUND",
        what: format!("the company {id}"),
    }
}

fn name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::validation(
            "INVALID_NAME",
            "name must be 1 to 100 printable characters",
        ));
    }
    Ok(name.to_owned())
}

fn envelope(
    activity: &AdminActivity,
    correlation_id: &CorrelationId,
) -> Result<EventEnvelope, AppError> {
    EventEnvelope::of(activity, correlation_id.clone())
        .map_err(|e| AppError::internal("encoding AdminActivity", e))
}

/// A company, if it exists and `caller` may see it: the platform
/// administrator, or its staff.
pub async fn get_visible(
    companies: &impl CompanyReader,
    caller: &Caller,
    id: &CompanyId,
) -> Result<Company, AppError> {
    if !caller.role.permits(Permission::CompaniesManage) && caller.staff.role_in(id).is_none() {
        return Err(company_not_found(id));
    }
    companies
        .company(id)
        .await?
        .ok_or_else(|| company_not_found(id))
}

/// POST /admin/companies (`companies:manage`).
pub async fn create(
    companies: &impl CompanyStore,
    caller: &Caller,
    request: CreateCompanyRequest,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Company, AppError> {
    caller.require(Permission::CompaniesManage)?;
    let company = Company {
        id: CompanyId::generate(),
        name: name(&request.name)?,
        contact_email: Email::parse(&request.contact_email)?,
        status: CompanyStatus::Active,
        created_at: now,
    };
    let activity = AdminActivity::CompanyCreated {
        company_id: company.id.clone(),
        name: company.name.clone(),
        actor: caller.user_id.to_string(),
    };
    companies
        .create(&company, &envelope(&activity, correlation_id)?)
        .await?;
    Ok(company)
}

/// PATCH /admin/companies/{company_id} (`companies:manage`): renames it,
/// changes its contact, or closes (and reopens) it. A closed company's
/// venues take no bookings.
pub async fn update(
    companies: &impl CompanyStore,
    caller: &Caller,
    id: &CompanyId,
    request: UpdateCompanyRequest,
    correlation_id: &CorrelationId,
) -> Result<Company, AppError> {
    caller.require(Permission::CompaniesManage)?;
    let change = CompanyChange {
        name: request.name.as_deref().map(name).transpose()?,
        contact_email: request
            .contact_email
            .as_deref()
            .map(Email::parse)
            .transpose()?,
        status: request.status,
    };
    if change == CompanyChange::default() {
        return Err(AppError::validation(
            "NOTHING_TO_CHANGE",
            "give at least one field to change",
        ));
    }
    let current = companies
        .company(id)
        .await?
        .ok_or_else(|| company_not_found(id))?;
    let fields = [
        ("name", change.name.is_some()),
        ("contact_email", change.contact_email.is_some()),
        ("status", change.status.is_some()),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| field.to_owned())
    .collect();
    let activity = AdminActivity::CompanyChanged {
        company_id: id.clone(),
        fields,
        status: change.status.unwrap_or(current.status).as_str().to_owned(),
        actor: caller.user_id.to_string(),
    };
    companies
        .update(id, &change, &envelope(&activity, correlation_id)?)
        .await
}

/// GET /admin/companies: every company for the platform administrator,
/// else the ones the caller is staff of.
pub async fn list(companies: &impl CompanyStore, caller: &Caller) -> Result<CompanyList, AppError> {
    if caller.role.permits(Permission::CompaniesManage) {
        return Ok(CompanyList {
            companies: companies.list().await?,
        });
    }
    let mut mine = Vec::new();
    for (id, _) in caller.staff.iter() {
        if let Some(company) = companies.company(id).await? {
            mine.push(company);
        }
    }
    mine.sort_by_key(|c| c.name.to_lowercase());
    Ok(CompanyList { companies: mine })
}

/// The company, if `caller` may manage its staff (`staff:manage` there).
async fn managed(
    companies: &impl CompanyReader,
    caller: &Caller,
    id: &CompanyId,
) -> Result<Company, AppError> {
    // Staff of the company learn that it exists (403); others do not (404).
    let scope = caller.scope(Permission::StaffManage).map_err(|forbidden| {
        match caller.staff.role_in(id) {
            Some(_) => forbidden,
            None => company_not_found(id),
        }
    })?;
    scope.check(Some(id), || company_not_found(id))?;
    companies
        .company(id)
        .await?
        .ok_or_else(|| company_not_found(id))
}

/// GET /admin/companies/{company_id}/staff (`staff:manage`).
pub async fn staff(
    companies: &impl CompanyStore,
    caller: &Caller,
    id: &CompanyId,
) -> Result<StaffList, AppError> {
    managed(companies, caller, id).await?;
    Ok(StaffList {
        company_id: id.clone(),
        staff: companies.staff(id).await?,
    })
}

fn staff_refusal(refused: StaffRefused) -> AppError {
    match refused {
        StaffRefused::LastOwner => AppError::conflict(
            "LAST_OWNER",
            "a company keeps at least one owner: make another member an owner first",
        ),
        StaffRefused::Moved => AppError::conflict(
            "STAFF_CHANGED",
            "the member changed meanwhile; read the staff again",
        ),
        StaffRefused::TooManyMemberships => AppError::conflict(
            "TOO_MANY_MEMBERSHIPS",
            format!(
                "an account may be staff of at most {} companies",
                crate::identity::staff::MAX_MEMBERSHIPS
            ),
        ),
        StaffRefused::Failed(e) => e,
    }
}

/// PUT /admin/companies/{company_id}/staff (`staff:manage`): makes an
/// existing account staff of the company with `role`, or changes its role.
/// Putting the role it already holds changes nothing.
pub async fn put_staff(
    companies: &impl CompanyStore,
    users: &impl UserStore,
    caller: &Caller,
    id: &CompanyId,
    request: StaffRequest,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Member, AppError> {
    managed(companies, caller, id).await?;
    let email = Email::parse(&request.email)?;
    let user = users
        .find_by_email(&email)
        .await?
        .ok_or_else(|| AppError::NotFound {
            code: "USER_NOT_FOUND",
            what: "an account with that email".into(),
        })?;
    let current = companies
        .staff(id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user.id);
    if let Some(current) = current.as_ref().filter(|m| m.role == request.role) {
        return Ok(current.clone());
    }
    let member = Member {
        company_id: id.clone(),
        user_id: user.id.clone(),
        role: request.role,
        added_at: current.as_ref().map_or(now, |m| m.added_at),
    };
    let previous = current.map(|m| m.role);
    let activity = AdminActivity::StaffPut {
        company_id: id.clone(),
        user_id: user.id,
        from: previous,
        role: request.role,
        actor: caller.user_id.to_string(),
    };
    companies
        .put_member(&member, previous, &envelope(&activity, correlation_id)?)
        .await
        .map_err(staff_refusal)?;
    Ok(member)
}

/// DELETE /admin/companies/{company_id}/staff/{user_id} (`staff:manage`):
/// the account is no longer staff, and every one of its sessions ends at
/// once (its access tokens stop at the authorizer's next answer; refresh
/// tokens are refused now). The last owner stays.
pub async fn remove_staff(
    companies: &impl CompanyStore,
    sessions: &impl SessionStore,
    caller: &Caller,
    id: &CompanyId,
    user: &UserId,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    managed(companies, caller, id).await?;
    let member = companies
        .staff(id)
        .await?
        .into_iter()
        .find(|m| &m.user_id == user)
        .ok_or_else(|| AppError::NotFound {
            code: "MEMBER_NOT_FOUND",
            what: format!("the member {user} of the company {id}"),
        })?;
    let activity = AdminActivity::StaffRemoved {
        company_id: id.clone(),
        user_id: user.clone(),
        role: member.role,
        actor: caller.user_id.to_string(),
    };
    companies
        .remove_member(&member, &envelope(&activity, correlation_id)?)
        .await
        .map_err(staff_refusal)?;
    sessions.revoke_all(user, None, now).await?;
    Ok(())
}
