//! Companies: who owns venues, and their staff. A platform administrator
//! creates companies; a company's owners add, change and remove its staff.
//! Every change is written with its `AdminActivity` in one transaction.
//! What a staff role may do is [`crate::identity::StaffRole::permits`];
//! this context only keeps who holds which role where.

pub mod ports;
pub mod service;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::{CompanyId, Email, StaffRole, UserId};

/// Whether a company's venues take bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompanyStatus {
    Active,
    Closed,
}

impl CompanyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub contact_email: Email,
    pub status: CompanyStatus,
    pub created_at: DateTime<Utc>,
}

/// One account's role in one company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub company_id: CompanyId,
    pub user_id: UserId,
    pub role: StaffRole,
    pub added_at: DateTime<Utc>,
}

/// POST /admin/companies
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCompanyRequest {
    pub name: String,
    pub contact_email: String,
}

/// PATCH /admin/companies/{company_id}: any of the fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompanyRequest {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub status: Option<CompanyStatus>,
}

/// PUT /admin/companies/{company_id}/staff: an existing account, by its
/// email, and the role it is to hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffRequest {
    pub email: String,
    pub role: StaffRole,
}

/// A company's staff, as `GET /admin/companies/{company_id}/staff` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffList {
    pub company_id: CompanyId,
    pub staff: Vec<Member>,
}

/// One page of companies, as `GET /admin/companies` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyList {
    pub companies: Vec<Company>,
}
