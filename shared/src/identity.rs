//! Identity: who the caller is and what they may do.
//!
//! Value types refuse bad input at the edge ([`Email::parse`],
//! [`Password::parse`], ...). Roles and their permissions are decided here
//! and nowhere else ([`Role::permits`], [`Caller::require`]). Passwords are
//! hashed with argon2id ([`password`]); access tokens are JWTs and refresh
//! tokens are opaque, stored only as hashes ([`tokens`]); the use cases that
//! tie them to the stores are in [`service`].

#[cfg(feature = "passwords")]
mod credentials;
pub mod events;
#[cfg(feature = "passwords")]
pub mod password;
pub mod profile;
pub mod service;
pub mod staff;
pub mod tokens;

pub use profile::Language;
pub use staff::{CompanyId, Scope, Staff, StaffRole};

use std::fmt;

use chrono::{DateTime, Duration, Utc};
#[cfg(feature = "passwords")]
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::config::{ConfigError, parsed_or};

/// The longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Shortest and longest accepted passwords (NIST SP 800-63B: length over
/// composition rules; the upper bound keeps hashing cost bounded).
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 100;

/// How many failed logins lock an address, within which window, for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

impl LoginPolicy {
    /// `LOGIN_MAX_FAILURES`, `LOGIN_FAILURE_WINDOW_SECONDS`,
    /// `LOGIN_LOCKOUT_SECONDS`, each with its default.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let max_failures: u32 = parsed_or("LOGIN_MAX_FAILURES", d.max_failures)?;
        let window: u32 = parsed_or("LOGIN_FAILURE_WINDOW_SECONDS", 900)?;
        let lockout: u32 = parsed_or("LOGIN_LOCKOUT_SECONDS", 900)?;
        if max_failures == 0 || window == 0 || lockout == 0 {
            return Err(ConfigError::Invalid {
                name: "LOGIN_*",
                reason: "login limits must be positive".into(),
            });
        }
        Ok(Self {
            max_failures,
            window: Duration::seconds(window.into()),
            lockout: Duration::seconds(lockout.into()),
        })
    }
}

/// A user's id: a UUID (v7, so ids sort by creation time).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        uuid::Uuid::parse_str(raw)
            .map(|id| Self(id.to_string()))
            .map_err(|_| AppError::validation("INVALID_USER_ID", "a user id is a UUID"))
    }

    /// The all-zero id, which no account has.
    pub fn nil() -> Self {
        Self(uuid::Uuid::nil().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lower-cased, so one mailbox is one account.
/// ASCII only: internationalized addresses must arrive in their ASCII
/// (punycode) form, so look-alike characters cannot make two accounts of
/// one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// A value read back from the table: trusted as stored, so tightening
    /// a rule later never makes existing accounts unreadable.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let invalid = || {
            AppError::validation(
                "INVALID_EMAIL",
                "email must be an address like name@example.com",
            )
        };
        let email = raw.trim().to_lowercase();
        if email.is_empty() || email.chars().count() > MAX_EMAIL_CHARS {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if local_ok && domain_ok {
            Ok(Self(email))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Passwords so common that length alone does not make them safe.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789012",
    "0987654321",
    "1111111111",
    "password123",
    "password1234",
    "passwordpassword",
    "qwertyuiop",
    "qwerty123456",
    "1q2w3e4r5t",
    "iloveyou123",
    "letmein1234",
    "welcome123",
    "administrator",
    "changeme123",
    "abcdefghij",
    "abc1234567",
];

/// A candidate password that passed the policy. Never logged or serialized;
/// its `Debug` prints a placeholder.
pub struct Password(#[cfg_attr(not(feature = "passwords"), allow(dead_code))] SecretString);

impl Password {
    /// The sign-up policy: 10 to 128 characters, at least one letter and one
    /// digit or symbol, not a well-known password, not the email's local part.
    pub fn parse(raw: &str, email: &Email) -> Result<Self, AppError> {
        let weak = |why: &str| AppError::validation("WEAK_PASSWORD", why.to_owned());
        let chars = raw.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            return Err(weak(&format!(
                "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
            )));
        }
        if raw.chars().any(char::is_control) {
            return Err(weak("password must not contain control characters"));
        }
        let has_letter = raw.chars().any(char::is_alphabetic);
        let has_other = raw
            .chars()
            .any(|c| !c.is_alphabetic() && !c.is_whitespace());
        if !has_letter || !has_other {
            return Err(weak("password must mix letters with digits or symbols"));
        }
        let lower = raw.to_lowercase();
        let distinct: std::collections::HashSet<char> = lower.chars().collect();
        if COMMON_PASSWORDS.contains(&lower.as_str()) || distinct.len() < 4 {
            return Err(weak("password is too easy to guess"));
        }
        let local = email.local_part();
        if local.len() >= 4 && lower.contains(local) {
            return Err(weak("password must not contain the email address"));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// A password as typed at login: only bounded, never checked against the
    /// policy (a policy change must not lock anyone out).
    pub fn for_login(raw: &str) -> Result<Self, AppError> {
        if raw.is_empty() || raw.chars().count() > MAX_PASSWORD_CHARS {
            return Err(AppError::validation(
                "INVALID_PASSWORD",
                format!("password must be 1 to {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    #[cfg(feature = "passwords")]
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// A person's display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// A value read back from the table: trusted as stored, so tightening
    /// a rule later never makes existing accounts unreadable.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::validation(
                "INVALID_NAME",
                format!("name must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::validation(
                "INVALID_NAME",
                "name must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+` and 8 to 15 digits). Spaces, dots,
/// dashes and parentheses are accepted on input and removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// A value read back from the table: trusted as stored, so tightening
    /// a rule later never makes existing accounts unreadable.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let invalid = || {
            AppError::validation(
                "INVALID_PHONE",
                "phone must be in international form, like +44 20 7946 0958",
            )
        };
        let raw = raw.trim();
        let digits = raw.strip_prefix('+').ok_or_else(invalid)?;
        if raw.len() > 32
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || " .-()".contains(c))
        {
            return Err(invalid());
        }
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(invalid());
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an account may do on the platform. Every account is a USER; an
/// ADMIN (the platform administrator) also holds every permission, in
/// every company. What staff may do in their companies is their
/// [`StaffRole`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Admin => "ADMIN",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "USER" => Some(Self::User),
            "ADMIN" => Some(Self::Admin),
            _ => None,
        }
    }

    /// The one table of who may do what. A new permission must be placed
    /// here before it compiles.
    pub fn permits(self, permission: Permission) -> bool {
        match permission {
            Permission::CatalogWrite
            | Permission::StatsRead
            | Permission::DlqRedrive
            | Permission::BookingsManage
            | Permission::BookingsRead
            | Permission::DiagnosticsRun
            | Permission::WalletGrant
            | Permission::CompaniesManage
            | Permission::StaffManage
            | Permission::CustomersRead
            | Permission::WaitingRoomManage => self == Self::Admin,
        }
    }
}

/// A named admin permission, checked with [`Caller::require`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Create, change and close venues, resources and slots.
    CatalogWrite,
    /// Read statistics and the admin activity log.
    StatsRead,
    /// List and redrive dead-letter queues.
    DlqRedrive,
    /// Read and manage any user's bookings.
    BookingsManage,
    /// Send diagnostic events through the platform.
    DiagnosticsRun,
    /// Grant goodwill points to any wallet.
    WalletGrant,
    /// Read bookings (of a company's venues, for staff).
    BookingsRead,
    /// Create companies and change or close them.
    CompaniesManage,
    /// Add, change and remove a company's staff.
    StaffManage,
    /// See the contact details (email, name, phone) of the customers who
    /// booked a company's venues.
    CustomersRead,
    /// Create, change, pause and close the waiting rooms in front of a
    /// company's resources.
    WaitingRoomManage,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Self::CatalogWrite,
        Self::StatsRead,
        Self::DlqRedrive,
        Self::BookingsManage,
        Self::DiagnosticsRun,
        Self::WalletGrant,
        Self::BookingsRead,
        Self::CompaniesManage,
        Self::StaffManage,
        Self::CustomersRead,
        Self::WaitingRoomManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CatalogWrite => "catalog:write",
            Self::StatsRead => "stats:read",
            Self::DlqRedrive => "dlq:redrive",
            Self::BookingsManage => "bookings:manage",
            Self::DiagnosticsRun => "diagnostics:run",
            Self::WalletGrant => "wallet:grant",
            Self::BookingsRead => "bookings:read",
            Self::CompaniesManage => "companies:manage",
            Self::StaffManage => "staff:manage",
            Self::CustomersRead => "customers:read",
            Self::WaitingRoomManage => "waiting-room:manage",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller of a request, as the authorizer vouched for it:
/// who, their platform role, and their memberships as of the authorizer's
/// answer (cached for `ReauthorizeEvery`, the bound on a staff change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub role: Role,
    pub staff: Staff,
}

impl Caller {
    /// A caller who is staff of no company.
    pub fn new(user_id: UserId, role: Role) -> Self {
        Self {
            user_id,
            role,
            staff: Staff::default(),
        }
    }

    /// `Ok` when the caller's platform role holds `permission`, else a
    /// 403: for what is the platform's alone.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.role.permits(permission) {
            Ok(())
        } else {
            Err(staff::forbidden(permission))
        }
    }

    /// Where the caller holds `permission`: everywhere for the platform
    /// administrator, else the companies whose role grants it. Holding it
    /// nowhere is a 403 before any target is read.
    pub fn scope(&self, permission: Permission) -> Result<Scope, AppError> {
        let scope = if self.role.permits(permission) {
            Scope::everywhere(permission)
        } else {
            Scope::within(permission, &self.staff)
        };
        if scope.is_empty() {
            return Err(staff::forbidden(permission));
        }
        Ok(scope)
    }

    /// `Ok` when the caller is `owner`, or holds `permission` in `company`
    /// (the target's company); else `hidden()`, or a 403 for staff of that
    /// company whose role lacks it.
    pub fn require_owner_or_in(
        &self,
        owner: &UserId,
        company: Option<&CompanyId>,
        permission: Permission,
        hidden: impl FnOnce() -> AppError,
    ) -> Result<(), AppError> {
        if &self.user_id == owner {
            return Ok(());
        }
        let scope = if self.role.permits(permission) {
            Scope::everywhere(permission)
        } else {
            Scope::within(permission, &self.staff)
        };
        scope.check(company, hidden)
    }
}

/// A stored account, with its password hash. Never serialized to a client:
/// [`Profile`] is what leaves the service; its `Debug` leaves the hash out.
#[derive(Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: DisplayName,
    pub phone: Phone,
    /// The language the platform speaks to them in.
    pub language: Language,
    pub role: Role,
    /// The argon2id PHC string.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("phone", &self.phone)
            .field("language", &self.language)
            .field("role", &self.role)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// What a client may see of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub name: String,
    pub phone: String,
    pub language: Language,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for Profile {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            name: user.name.as_str().to_owned(),
            phone: user.phone.as_str().to_owned(),
            language: user.language,
            role: user.role,
            created_at: user.created_at,
        }
    }
}

#[cfg(test)]
mod tests;
