//! Password hashing with argon2id (OWASP's recommended parameters: 19 MiB,
//! 2 iterations, 1 lane), stored as PHC strings so parameters can be raised
//! later without invalidating existing hashes.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use super::Password;
use crate::AppError;

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// A hash of a random password, verified against when the email is unknown
/// so that an unknown account costs the same time as a wrong password.
static DECOY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let decoy: [u8; 24] = rand::random();
    argon2().hash_password(&decoy).ok().map(|h| h.to_string())
});

/// Computes the decoy hash now, at start-up, so the first unknown-email
/// login of an instance is not slower than the rest.
pub fn warm_up() {
    LazyLock::force(&DECOY_HASH);
}

/// Hashes a password with a fresh random salt. CPU-bound (tens of ms):
/// call it off the async executor.
pub fn hash(password: &Password) -> Result<String, AppError> {
    argon2()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal("hashing a password", e.to_string()))
}

/// Whether `password` matches the stored PHC string. `None` verifies against
/// a decoy and returns false, taking as long as a real check.
pub fn verify(password: &Password, stored: Option<&str>) -> bool {
    let decoy = DECOY_HASH.as_deref();
    let (phc, real) = match stored {
        Some(s) => (Some(s), true),
        None => (decoy, false),
    };
    let Some(parsed) = phc.and_then(|s| PasswordHash::new(s).ok()) else {
        return false;
    };
    let matches = argon2()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok();
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Email;

    fn password(raw: &str) -> Password {
        Password::parse(raw, &Email::parse("a@example.com").unwrap()).unwrap()
    }

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let pw = password("correct horse 7 battery");
        let first = hash(&pw).unwrap();
        let second = hash(&pw).unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify(&pw, Some(&first)));
        assert!(!verify(&password("wrong horse 7 battery"), Some(&first)));
    }

    #[test]
    fn an_unknown_account_or_a_corrupt_hash_never_verifies() {
        let pw = password("correct horse 7 battery");
        assert!(!verify(&pw, None));
        assert!(!verify(&pw, Some("not a phc string")));
    }
}
