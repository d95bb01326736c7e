//! The pass an admitted user books with: an HS256 JWT under a key derived
//! for passes alone and an audience of its own, bound to the user and the
//! room, expiring with the pass. A booking verifies it without reading the
//! table; the booking's transaction then marks it used (the ticket's state),
//! so it books once.

use std::fmt;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::RoomId;
use crate::AppError;
use crate::identity::UserId;
use crate::identity::tokens::SigningKey;

pub const PASS_AUDIENCE: &str = "booking-platform-waiting-room-pass";
const KEY_LABEL: &str = "waiting-room-pass";

/// A pass, as its token vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub room_id: RoomId,
    pub user_id: UserId,
    /// The token's `jti`: the ticket's pass, whose use the booking records.
    pub pass_id: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    room: String,
    jti: String,
    iss: String,
    aud: String,
    exp: i64,
}

/// Signs and verifies passes. Its keys never print.
pub struct PassKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
}

impl fmt::Debug for PassKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassKeys")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn refused(code: &'static str, message: &str) -> AppError {
    AppError::Forbidden {
        code,
        message: message.to_owned(),
    }
}

impl PassKeys {
    /// Keys derived from the platform's signing key.
    pub fn new(key: &SigningKey, issuer: &str) -> Self {
        let derived = key.derive(KEY_LABEL);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[PASS_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "jti"]);
        // Expiry is checked against the caller's clock in `verify`.
        validation.validate_exp = false;
        Self {
            encoding: EncodingKey::from_secret(derived.expose()),
            decoding: DecodingKey::from_secret(derived.expose()),
            validation,
            issuer: issuer.to_owned(),
        }
    }

    /// The pass's token. The same pass signs to the same token, so a
    /// status poll can hand it out again.
    pub fn sign(&self, pass: &Pass) -> Result<String, AppError> {
        let claims = Claims {
            sub: pass.user_id.to_string(),
            room: pass.room_id.to_string(),
            jti: pass.pass_id.clone(),
            iss: self.issuer.clone(),
            aud: PASS_AUDIENCE.to_owned(),
            exp: pass.expires_at.timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal("signing a pass", e))
    }

    /// The pass `token` (the `X-Pass-Token` header) vouches for, if it is
    /// `user`'s for `room` and valid at `now`; else a 403 saying which it
    /// is not: `PASS_REQUIRED`, `PASS_INVALID`, `PASS_EXPIRED`,
    /// `PASS_NOT_YOURS`, `PASS_WRONG_ROOM`.
    pub fn verify(
        &self,
        token: Option<&str>,
        user: &UserId,
        room: &RoomId,
        now: DateTime<Utc>,
    ) -> Result<Pass, AppError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
            refused(
                "PASS_REQUIRED",
                "this resource is behind a waiting room: book with the pass it gives (header X-Pass-Token)",
            )
        })?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| refused("PASS_INVALID", "the pass is not one this platform signed"))?
            .claims;
        let pass = Pass {
            room_id: RoomId::parse(&claims.room)
                .map_err(|_| refused("PASS_INVALID", "the pass names no waiting room"))?,
            user_id: UserId::parse(&claims.sub)
                .map_err(|_| refused("PASS_INVALID", "the pass names no user"))?,
            pass_id: claims.jti,
            expires_at: DateTime::from_timestamp(claims.exp, 0)
                .ok_or_else(|| refused("PASS_INVALID", "the pass has no valid expiry"))?,
        };
        if &pass.user_id != user {
            return Err(refused(
                "PASS_NOT_YOURS",
                "the pass was given to another account",
            ));
        }
        if &pass.room_id != room {
            return Err(refused(
                "PASS_WRONG_ROOM",
                "the pass is for another waiting room than this resource's",
            ));
        }
        if pass.expires_at <= now {
            return Err(refused(
                "PASS_EXPIRED",
                "the pass has expired: enter the waiting room again",
            ));
        }
        Ok(pass)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn keys(secret: u8) -> PassKeys {
        PassKeys::new(
            &SigningKey::new(vec![secret; 32]).unwrap(),
            "booking-platform",
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap()
    }

    fn pass() -> Pass {
        Pass {
            room_id: RoomId::parse("0195f0a4-5000-7000-8000-00000000aaaa").unwrap(),
            user_id: UserId::parse("0195f0a4-5000-7000-8000-00000000bbbb").unwrap(),
            pass_id: "p-1".into(),
            expires_at: now() + Duration::minutes(5),
        }
    }

    fn code(result: Result<Pass, AppError>) -> &'static str {
        let err = result.unwrap_err();
        assert_eq!(err.status(), 403);
        err.code()
    }

    #[test]
    fn a_pass_verifies_for_its_user_and_room_until_it_expires() {
        let keys = keys(7);
        let p = pass();
        let token = keys.sign(&p).unwrap();
        assert_eq!(
            keys.sign(&p).unwrap(),
            token,
            "the same pass, the same token"
        );
        assert_eq!(
            keys.verify(Some(&token), &p.user_id, &p.room_id, now())
                .unwrap(),
            p
        );
        let later = p.expires_at;
        assert_eq!(
            code(keys.verify(Some(&token), &p.user_id, &p.room_id, later)),
            "PASS_EXPIRED"
        );
        let other_user = UserId::parse("0195f0a4-5000-7000-8000-00000000cccc").unwrap();
        assert_eq!(
            code(keys.verify(Some(&token), &other_user, &p.room_id, now())),
            "PASS_NOT_YOURS"
        );
        let other_room = RoomId::parse("0195f0a4-5000-7000-8000-00000000dddd").unwrap();
        assert_eq!(
            code(keys.verify(Some(&token), &p.user_id, &other_room, now())),
            "PASS_WRONG_ROOM"
        );
        assert_eq!(
            code(keys.verify(None, &p.user_id, &p.room_id, now())),
            "PASS_REQUIRED"
        );
        assert_eq!(
            code(keys.verify(Some(" "), &p.user_id, &p.room_id, now())),
            "PASS_REQUIRED"
        );
    }

    #[test]
    fn a_forged_pass_or_an_access_token_is_not_a_pass() {
        let p = pass();
        let forged = keys(8).sign(&p).unwrap();
        assert_eq!(
            code(keys(7).verify(Some(&forged), &p.user_id, &p.room_id, now())),
            "PASS_INVALID"
        );
        // An access token signed with the platform key itself.
        let key = SigningKey::new(vec![7; 32]).unwrap();
        let access = crate::identity::tokens::AccessTokens::new(&key, Default::default())
            .issue(&p.user_id, crate::identity::Role::User, "sid", now())
            .unwrap();
        assert_eq!(
            code(keys(7).verify(Some(&access.token), &p.user_id, &p.room_id, now())),
            "PASS_INVALID"
        );
        assert!(!format!("{:?}", keys(7)).contains('7'));
    }
}
