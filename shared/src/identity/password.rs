//! Password hashing with argon2id (OWASP's recommended parameters: 19 MiB,
//! 2 iterations, 1 lane), stored as PHC strings so parameters can be raised
//! later without invalidating existing hashes.
//!
//! Every hash and check of a process works in one 19 MiB memory, allocated
//! on first use and kept. argon2's own `hash_password` allocates and frees
//! it each time; glibc then raises its mmap threshold above 19 MiB and keeps
//! the freed blocks in the arena of whichever blocking thread ran the hash,
//! so a busy sign-up process grew to about 240 MiB resident. With one memory
//! the figure stays near a single block (docs/functions.md, Memory).

use std::sync::{LazyLock, Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::Password;
use crate::AppError;

/// The working memory of every hash of this process (Lambda runs one
/// invocation per process at a time, so no one waits on the lock).
static MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// Bytes of salt drawn for a new hash (the PHC string format's recommendation).
const SALT_LEN: usize = 16;

/// argon2 over the shared memory: `out` receives the hash of `password`
/// with `salt` under `algorithm`, `version` and `params`. The memory is
/// cleared afterwards, so nothing derived from a password stays in it.
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let mut memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::new());
    }
    let result = argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..]);
    memory.fill(Block::new());
    result
}

/// The PHC string of `password` hashed with `salt` at the default parameters.
fn hash_with_salt(password: &[u8], salt: &[u8]) -> Result<String, String> {
    let params = Params::DEFAULT;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon2, &params, password, salt, &mut out).map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `phc`'s hash under `phc`'s own algorithm,
/// version, parameters and salt (compared in constant time).
fn matches(password: &[u8], phc: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else {
        return false;
    };
    let version = match phc.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(phc) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    compute(&argon2, &params, password, salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| &computed == expected)
}

/// A hash of a random password, verified against when the email is unknown
/// so that an unknown account costs the same time as a wrong password.
static DECOY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let decoy: [u8; 24] = rand::random();
    let salt: [u8; SALT_LEN] = rand::random();
    hash_with_salt(&decoy, &salt).ok()
});

/// Computes the decoy hash now, at start-up, so the first unknown-email
/// login of an instance is not slower than the rest.
pub fn warm_up() {
    LazyLock::force(&DECOY_HASH);
}

/// Hashes a password with a fresh random salt. CPU-bound (tens of ms):
/// call it off the async executor.
pub fn hash(password: &Password) -> Result<String, AppError> {
    let salt: [u8; SALT_LEN] = rand::random();
    hash_with_salt(password.expose().as_bytes(), &salt)
        .map_err(|e| AppError::internal("hashing a password", e))
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
    matches(password.expose().as_bytes(), &parsed) && real
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
    fn hashes_made_by_the_argon2_crate_itself_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let pw = password("correct horse 7 battery");
        let default = Argon2::default()
            .hash_password(pw.expose().as_bytes())
            .unwrap()
            .to_string();
        let weaker = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(pw.expose().as_bytes())
        .unwrap()
        .to_string();
        for stored in [&default, &weaker] {
            assert!(verify(&pw, Some(stored)), "{stored}");
            assert!(!verify(&password("wrong horse 7 battery"), Some(stored)));
        }
    }

    #[test]
    fn our_hash_is_the_one_the_argon2_crate_computes() {
        use argon2::password_hash::PasswordVerifier;
        let pw = password("correct horse 7 battery");
        let ours = hash(&pw).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(pw.expose().as_bytes(), &parsed)
                .is_ok()
        );
    }

    #[test]
    fn an_unknown_account_or_a_corrupt_hash_never_verifies() {
        let pw = password("correct horse 7 battery");
        assert!(!verify(&pw, None));
        assert!(!verify(&pw, Some("not a phc string")));
    }
}
