//! What an account holder may change of their own account: the values of
//! `PATCH /me` and `DELETE /me`, checked before anything is read.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{DisplayName, Email, Phone};
use crate::AppError;

/// A language the platform speaks to its customers in (its messages and
/// notifications): an ISO 639-1 code. Notification templates exist in
/// English and Korean; the others are read in English until theirs are
/// written (`crate::notification::templates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    De,
    Es,
    Fr,
    It,
    Ko,
    Nl,
    Pt,
}

impl Language {
    pub const ALL: [Language; 8] = [
        Self::En,
        Self::De,
        Self::Es,
        Self::Fr,
        Self::It,
        Self::Ko,
        Self::Nl,
        Self::Pt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Es => "es",
            Self::Fr => "fr",
            Self::It => "it",
            Self::Ko => "ko",
            Self::Nl => "nl",
            Self::Pt => "pt",
        }
    }

    /// One of [`Self::ALL`], by its code in any case (`"FR"` is French).
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let code = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|l| l.as_str()).collect();
                AppError::validation(
                    "UNSUPPORTED_LANGUAGE",
                    format!("language must be one of {}", codes.join(", ")),
                )
            })
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `PATCH /me`: every field optional, at least one present. A new email or
/// a new password needs `current_password`. Its `Debug` leaves both
/// passwords out.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub email: Option<String>,
    /// The new password.
    pub password: Option<String>,
    pub current_password: Option<String>,
}

impl fmt::Debug for UpdateProfileRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateProfileRequest")
            .field("name", &self.name)
            .field("phone", &self.phone)
            .field("language", &self.language)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

/// A validated change of an account, as the store writes it. Only what
/// differs from the account as read is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChange {
    pub name: Option<DisplayName>,
    pub phone: Option<Phone>,
    pub language: Option<Language>,
    pub email: Option<Email>,
    /// The new password's argon2id PHC string.
    pub password_hash: Option<String>,
}

impl ProfileChange {
    /// The fields changed, by name (never their values).
    pub fn fields(&self) -> Vec<String> {
        [
            ("email", self.email.is_some()),
            ("language", self.language.is_some()),
            ("name", self.name.is_some()),
            ("password", self.password_hash.is_some()),
            ("phone", self.phone.is_some()),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(field, _)| field.to_owned())
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// `user` with the change applied.
    pub fn apply(&self, user: &mut super::User) {
        if let Some(name) = &self.name {
            user.name = name.clone();
        }
        if let Some(phone) = &self.phone {
            user.phone = phone.clone();
        }
        if let Some(language) = self.language {
            user.language = language;
        }
        if let Some(email) = &self.email {
            user.email = email.clone();
        }
        if let Some(hash) = &self.password_hash {
            user.password_hash = hash.clone();
        }
    }

    /// Whether a credential changes: every other session then ends.
    pub fn changes_credentials(&self) -> bool {
        self.email.is_some() || self.password_hash.is_some()
    }
}

/// `DELETE /me`. Its `Debug` leaves the password out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    pub password: String,
    /// The holder's consent that the wallet's remaining points are written
    /// off: without it an account whose wallet holds points is not deleted.
    #[serde(default)]
    pub forfeit_points: bool,
}

impl fmt::Debug for DeleteAccountRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeleteAccountRequest")
            .field("forfeit_points", &self.forfeit_points)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_supported_language_is_read_in_any_case_and_others_are_refused() {
        assert_eq!(Language::parse(" FR ").unwrap(), Language::Fr);
        assert_eq!(Language::parse("en").unwrap(), Language::En);
        let err = Language::parse("klingon").unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "UNSUPPORTED_LANGUAGE"));
        assert!(Language::parse("").is_err());
    }

    #[test]
    fn the_requests_never_print_a_password() {
        let update = UpdateProfileRequest {
            password: Some("new secret 42 words".into()),
            current_password: Some("old secret 42 words".into()),
            ..UpdateProfileRequest::default()
        };
        let delete = DeleteAccountRequest {
            password: "old secret 42 words".into(),
            forfeit_points: true,
        };
        for text in [format!("{update:?}"), format!("{delete:?}")] {
            assert!(!text.contains("secret"), "{text}");
        }
    }

    #[test]
    fn a_change_names_its_fields_and_whether_it_touches_credentials() {
        let change = ProfileChange {
            phone: Some(Phone::parse("+442079460958").unwrap()),
            language: Some(Language::De),
            ..ProfileChange::default()
        };
        assert_eq!(change.fields(), ["language", "phone"]);
        assert!(!change.changes_credentials());
        assert!(ProfileChange::default().is_empty());
    }
}
