//! The identity values: what they accept and what they refuse.

use super::*;

fn email() -> Email {
    Email::parse("Alice.Smith@Example.com").unwrap()
}

#[test]
fn an_email_is_trimmed_and_lower_cased() {
    assert_eq!(
        Email::parse("  Alice.Smith@Example.COM ").unwrap().as_str(),
        "alice.smith@example.com"
    );
}

#[test]
fn malformed_emails_are_refused() {
    for bad in [
        "",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "alice@@example.com",
        "al ice@example.com",
        ".alice@example.com",
        "alice..b@example.com",
        "alice@-example.com",
        "alice@example.c",
        "alice@127.0.0.1",
        "alice@exa_mple.com",
        "alice@bücher.de",
        "ａlice@example.com",
    ] {
        assert_eq!(
            Email::parse(bad).map_err(|e| e.code()).unwrap_err(),
            "INVALID_EMAIL",
            "{bad:?}"
        );
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert!(Email::parse(&long).is_err());
}

#[test]
fn weak_passwords_are_refused_with_one_code() {
    for bad in [
        "short1!",
        "onlyletterslong",
        "12345678901234",
        "Password123",
        "aaaa1111aaaa",
        "x1alice.smithx",
        &"a1".repeat(65),
    ] {
        assert_eq!(
            Password::parse(bad, &email())
                .map_err(|e| e.code())
                .unwrap_err(),
            "WEAK_PASSWORD",
            "{bad:?}"
        );
    }
    assert!(Password::parse("correct horse 7 battery", &email()).is_ok());
}

#[test]
fn a_password_never_shows_in_debug_output() {
    let pw = Password::parse("correct horse 7 battery", &email()).unwrap();
    assert!(!format!("{pw:?}").contains("horse"));
}

#[test]
fn phones_are_normalized_to_e164() {
    assert_eq!(
        Phone::parse("+44 (20) 7946-0958").unwrap().as_str(),
        "+442079460958"
    );
    for bad in [
        "0207946095",
        "+12",
        "+0123456789",
        "+44 20 x946 0958",
        "+1234567890123456",
    ] {
        assert!(Phone::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn names_are_bounded_and_printable() {
    assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
    assert!(DisplayName::parse(" ").is_err());
    assert!(DisplayName::parse("a\u{7}b").is_err());
    assert!(DisplayName::parse(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
}

#[test]
fn only_admins_hold_admin_permissions() {
    for p in Permission::ALL {
        assert!(Role::Admin.permits(p), "{p}");
        assert!(!Role::User.permits(p), "{p}");
    }
}

#[test]
fn a_user_is_refused_an_admin_action_with_a_403_naming_the_permission() {
    let caller = Caller::new(UserId::generate(), Role::User);
    let err = caller.require(Permission::CatalogWrite).unwrap_err();
    assert_eq!((err.status(), err.code()), (403, "FORBIDDEN"));
    assert!(err.to_string().contains("catalog:write"));
    assert!(
        caller
            .require_owner_or_in(
                &caller.user_id.clone(),
                None,
                Permission::BookingsManage,
                || { AppError::internal("test", "hidden") }
            )
            .is_ok()
    );
    assert!(
        caller
            .require_owner_or_in(
                &UserId::generate(),
                None,
                Permission::BookingsManage,
                || { AppError::internal("test", "hidden") }
            )
            .is_err()
    );
}

#[test]
fn no_type_holding_a_password_or_token_prints_it_in_debug() {
    use super::service::{LoginRequest, RefreshRequest, SignupRequest, TokenPair};
    let secret = "hunter2-correct-horse";
    let signup: SignupRequest = serde_json::from_value(serde_json::json!({
        "email": "ada@example.com", "password": secret, "name": "Ada", "phone": "+442079460958"
    }))
    .unwrap();
    let login: LoginRequest = serde_json::from_value(
        serde_json::json!({ "email": "ada@example.com", "password": secret }),
    )
    .unwrap();
    let refresh: RefreshRequest =
        serde_json::from_value(serde_json::json!({ "refresh_token": secret })).unwrap();
    let pair = TokenPair {
        access_token: secret.into(),
        token_type: "Bearer".into(),
        expires_in: 900,
        refresh_token: secret.into(),
        refresh_expires_in: 3600,
    };
    let issued = super::tokens::IssuedAccessToken {
        token: secret.into(),
        expires_in: 900,
    };
    for shown in [
        format!("{signup:?}"),
        format!("{login:?}"),
        format!("{refresh:?}"),
        format!("{pair:?}"),
        format!("{issued:?}"),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(format!("{signup:?}").contains("ada@example.com"));
}

#[test]
fn staff_who_may_only_read_a_booking_are_refused_its_management_with_a_403() {
    let company = CompanyId::generate();
    let viewer = Caller {
        staff: Staff::of([(company.clone(), StaffRole::Viewer)]),
        ..Caller::new(UserId::generate(), Role::User)
    };
    let hidden = || AppError::NotFound {
        code: "BOOKING_NOT_FOUND",
        what: "the booking".into(),
    };
    let owner = UserId::generate();
    let read = viewer.require_owner_or_in(&owner, Some(&company), Permission::BookingsRead, hidden);
    assert!(read.is_ok());
    let manage =
        viewer.require_owner_or_in(&owner, Some(&company), Permission::BookingsManage, hidden);
    assert_eq!(manage.unwrap_err().status(), 403);
    let elsewhere = viewer.require_owner_or_in(
        &owner,
        Some(&CompanyId::generate()),
        Permission::BookingsManage,
        hidden,
    );
    assert_eq!(elsewhere.unwrap_err().status(), 404);
}
