//! Who may act for which company. A company's staff hold one role in it
//! ([`StaffRole`]); the platform role ([`super::Role`]) stays for what is
//! the platform's alone. A permission asked of a caller comes back as a
//! [`Scope`]: the companies it holds there, and the rule for a target
//! outside them (the same 404 as a target that does not exist, so ids of
//! other companies cannot be probed; a 403 where the caller is staff but
//! their role lacks the permission).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Permission;
use crate::AppError;

/// The most companies one account may be staff of: every one rides in the
/// authorizer's answer.
pub const MAX_MEMBERSHIPS: usize = 50;

/// A company's id: a UUID (v7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompanyId(String);

impl CompanyId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        uuid::Uuid::parse_str(raw)
            .map(|id| Self(id.to_string()))
            .map_err(|_| AppError::validation("INVALID_COMPANY_ID", "a company id is a UUID"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CompanyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A staff member's role in one company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StaffRole {
    /// Manages the company's staff, and everything a manager does.
    Owner,
    /// Writes the catalog, manages bookings, waiting rooms and stats.
    Manager,
    /// Reads stats and bookings.
    Viewer,
}

impl StaffRole {
    pub const ALL: [StaffRole; 3] = [Self::Owner, Self::Manager, Self::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "OWNER",
            Self::Manager => "MANAGER",
            Self::Viewer => "VIEWER",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// The one table of what a role may do within its company. What is the
    /// platform's alone (dead-letter queues, diagnostics, goodwill credit,
    /// companies themselves) no company role holds.
    pub fn permits(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            P::StaffManage => self == Self::Owner,
            P::CatalogWrite | P::BookingsManage | P::CustomersRead | P::WaitingRoomManage => {
                matches!(self, Self::Owner | Self::Manager)
            }
            P::StatsRead | P::BookingsRead => true,
            P::DlqRedrive | P::DiagnosticsRun | P::WalletGrant | P::CompaniesManage => false,
        }
    }
}

/// An account's memberships: its role in each company it is staff of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staff(BTreeMap<CompanyId, StaffRole>);

impl Staff {
    pub fn of(memberships: impl IntoIterator<Item = (CompanyId, StaffRole)>) -> Self {
        Self(memberships.into_iter().collect())
    }

    pub fn role_in(&self, company: &CompanyId) -> Option<StaffRole> {
        self.0.get(company).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CompanyId, StaffRole)> {
        self.0.iter().map(|(c, r)| (c, *r))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// As the authorizer passes it: `<company id>:<ROLE>` joined by commas.
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(c, r)| format!("{c}:{}", r.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads [`Staff::encode`]'s form back; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        if text.is_empty() {
            return Some(Self::default());
        }
        text.split(',')
            .map(|pair| {
                let (company, role) = pair.split_once(':')?;
                Some((CompanyId::parse(company).ok()?, StaffRole::parse(role)?))
            })
            .collect::<Option<BTreeMap<_, _>>>()
            .map(Self)
    }
}

/// Where a caller holds a permission: everywhere (the platform
/// administrator) or in some companies. Obtained from
/// [`super::Caller::scope`], which refuses a caller who holds it nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    permission: Permission,
    everywhere: bool,
    companies: BTreeSet<CompanyId>,
    /// Companies the caller is staff of without the permission.
    member_only: BTreeSet<CompanyId>,
}

impl Scope {
    pub(super) fn everywhere(permission: Permission) -> Self {
        Self {
            permission,
            everywhere: true,
            companies: BTreeSet::new(),
            member_only: BTreeSet::new(),
        }
    }

    pub(super) fn within(permission: Permission, staff: &Staff) -> Self {
        let (companies, member_only) = staff
            .iter()
            .partition::<Vec<_>, _>(|(_, role)| role.permits(permission));
        Self {
            permission,
            everywhere: false,
            companies: companies.into_iter().map(|(c, _)| c.clone()).collect(),
            member_only: member_only.into_iter().map(|(c, _)| c.clone()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.everywhere && self.companies.is_empty()
    }

    pub fn is_everywhere(&self) -> bool {
        self.everywhere
    }

    /// The companies the permission holds in (none listed when everywhere).
    pub fn companies(&self) -> &BTreeSet<CompanyId> {
        &self.companies
    }

    pub fn admits(&self, company: Option<&CompanyId>) -> bool {
        self.everywhere || company.is_some_and(|c| self.companies.contains(c))
    }

    /// `Ok` when the target, which belongs to `company` (`None`: to no
    /// company yet, so only to the platform), is within the scope. Outside
    /// it: a 403 if the caller is staff of that company, else `hidden()`,
    /// the target's own "not found".
    pub fn check(
        &self,
        company: Option<&CompanyId>,
        hidden: impl FnOnce() -> AppError,
    ) -> Result<(), AppError> {
        if self.admits(company) {
            return Ok(());
        }
        match company {
            Some(c) if self.member_only.contains(c) => Err(forbidden(self.permission)),
            _ => Err(hidden()),
        }
    }
}

pub(super) fn forbidden(permission: Permission) -> AppError {
    AppError::Forbidden {
        code: "FORBIDDEN",
        message: format!("this action needs the {permission} permission"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(n: u8) -> CompanyId {
        CompanyId::parse(&format!("0195f0a4-0000-7000-8000-0000000000{n:02}")).unwrap()
    }

    #[test]
    fn memberships_survive_the_authorizer_context_and_refuse_anything_else() {
        let staff = Staff::of([
            (company(1), StaffRole::Owner),
            (company(2), StaffRole::Viewer),
        ]);
        assert_eq!(Staff::decode(&staff.encode()), Some(staff));
        assert_eq!(Staff::decode(""), Some(Staff::default()));
        for bad in [
            "x",
            "not-a-uuid:OWNER",
            "0195f0a4-0000-7000-8000-000000000001:ADMIN",
            ",",
        ] {
            assert_eq!(Staff::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_target_outside_the_scope_is_hidden_unless_the_caller_is_staff_there() {
        let staff = Staff::of([
            (company(1), StaffRole::Manager),
            (company(2), StaffRole::Viewer),
        ]);
        let scope = Scope::within(Permission::CatalogWrite, &staff);
        let hidden = || AppError::NotFound {
            code: "VENUE_NOT_FOUND",
            what: "the venue".into(),
        };
        assert!(scope.check(Some(&company(1)), hidden).is_ok());
        assert_eq!(
            scope.check(Some(&company(2)), hidden).unwrap_err().status(),
            403
        );
        assert_eq!(
            scope.check(Some(&company(3)), hidden).unwrap_err().status(),
            404
        );
        assert_eq!(scope.check(None, hidden).unwrap_err().status(), 404);
        let everywhere = Scope::everywhere(Permission::CatalogWrite);
        assert!(everywhere.check(None, hidden).is_ok());
    }

    #[test]
    fn only_an_owner_manages_staff_and_no_company_role_holds_a_platform_permission() {
        assert!(StaffRole::Owner.permits(Permission::StaffManage));
        assert!(!StaffRole::Manager.permits(Permission::StaffManage));
        assert!(StaffRole::Manager.permits(Permission::CatalogWrite));
        assert!(!StaffRole::Viewer.permits(Permission::CatalogWrite));
        assert!(!StaffRole::Viewer.permits(Permission::BookingsManage));
        assert!(StaffRole::Viewer.permits(Permission::BookingsRead));
        assert!(!StaffRole::Viewer.permits(Permission::CustomersRead));
        assert!(StaffRole::Manager.permits(Permission::CustomersRead));
        for role in StaffRole::ALL {
            for platform in [
                Permission::DlqRedrive,
                Permission::DiagnosticsRun,
                Permission::WalletGrant,
                Permission::CompaniesManage,
            ] {
                assert!(!role.permits(platform), "{role:?} {platform}");
            }
        }
    }
}
