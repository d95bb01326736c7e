//! Access tokens (HS256 JWTs) and refresh tokens (opaque, stored hashed).
//!
//! The signing key is configuration: `JWT_SIGNING_KEY` directly, or the SSM
//! SecureString named by `JWT_SIGNING_KEY_PARAMETER` (see
//! `adapters::ssm`). It lives in a [`SigningKey`], which never
//! prints. Verification pins the algorithm, so `alg: none` and algorithm
//! confusion are refused, and requires `exp`, `iss`, `aud` and `sub`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Caller, Role, UserId};
use crate::AppError;
use crate::config::{ConfigError, parsed_or};

/// The shortest signing key accepted: HS256 wants at least 256 bits.
pub const MIN_KEY_BYTES: usize = 32;
pub const DEFAULT_ISSUER: &str = "booking-platform";
pub const DEFAULT_AUDIENCE: &str = "booking-platform-api";
pub const DEFAULT_ACCESS_TTL_SECONDS: i64 = 24 * 60 * 60;
pub const DEFAULT_REFRESH_TTL_SECONDS: i64 = 7 * 24 * 60 * 60;

/// The HMAC key access tokens are signed with. Never printed.
#[derive(Clone)]
pub struct SigningKey(SecretSlice<u8>);

impl SigningKey {
    pub fn new(bytes: Vec<u8>) -> Result<Self, ConfigError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(ConfigError::Invalid {
                name: "JWT signing key",
                reason: format!("must be at least {MIN_KEY_BYTES} bytes"),
            });
        }
        Ok(Self(SecretSlice::from(bytes)))
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// A key for another purpose, derived from this one (SHA-256 of the
    /// purpose's label and the key): a token signed with it never verifies
    /// as an access token, nor the other way round.
    pub fn derive(&self, label: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(label.as_bytes());
        hasher.update([0]);
        hasher.update(self.bytes());
        Self(SecretSlice::from(hasher.finalize().to_vec()))
    }

    pub(crate) fn expose(&self) -> &[u8] {
        self.bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

/// Token lifetimes, issuer and audience, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            access_ttl: Duration::seconds(DEFAULT_ACCESS_TTL_SECONDS),
            refresh_ttl: Duration::seconds(DEFAULT_REFRESH_TTL_SECONDS),
        }
    }
}

impl TokenSettings {
    /// `JWT_ISSUER`, `JWT_AUDIENCE`, `ACCESS_TOKEN_TTL_SECONDS`,
    /// `REFRESH_TOKEN_TTL_SECONDS`, each with its default.
    pub fn from_env() -> Result<Self, ConfigError> {
        let positive = |name: &'static str, default: i64| -> Result<Duration, ConfigError> {
            let secs: i64 = parsed_or(name, default)?;
            if secs <= 0 {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "must be a positive number of seconds".into(),
                });
            }
            Ok(Duration::seconds(secs))
        };
        Ok(Self {
            issuer: parsed_or("JWT_ISSUER", DEFAULT_ISSUER.to_owned())?,
            audience: parsed_or("JWT_AUDIENCE", DEFAULT_AUDIENCE.to_owned())?,
            access_ttl: positive("ACCESS_TOKEN_TTL_SECONDS", DEFAULT_ACCESS_TTL_SECONDS)?,
            refresh_ttl: positive("REFRESH_TOKEN_TTL_SECONDS", DEFAULT_REFRESH_TTL_SECONDS)?,
        })
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub role: Role,
    /// The refresh-token family (session) the token was issued in.
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// Why a token was refused. The authorizer answers 401 to all of them; the
/// kind is only logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("no bearer token")]
    Missing,
    #[error("expired")]
    Expired,
    #[error("invalid: {0}")]
    Invalid(String),
}

/// How far the clocks of the issuer and the verifier may disagree: a token
/// is still accepted this many seconds after its `exp`, and this many
/// seconds before its `nbf`.
pub const CLOCK_SKEW_SECS: i64 = 30;

/// Signs and verifies access tokens with one key and one set of settings.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    settings: TokenSettings,
}

impl fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokens")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// An issued access token and when it expires. Its `Debug` leaves the
/// token out.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedAccessToken {
    pub token: String,
    pub expires_in: i64,
}

impl std::fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    pub fn new(key: &SigningKey, settings: TokenSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Expiry and not-before are checked against the caller's clock in
        // `verify`, not against the system clock inside jsonwebtoken.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            encoding: EncodingKey::from_secret(key.bytes()),
            decoding: DecodingKey::from_secret(key.bytes()),
            validation,
            settings,
        }
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    /// A signed token for `user` in session `sid`, valid from `now`.
    pub fn issue(
        &self,
        user: &UserId,
        role: Role,
        sid: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedAccessToken, AppError> {
        let claims = AccessClaims {
            sub: user.to_string(),
            role,
            sid: sid.to_owned(),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + self.settings.access_ttl).timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal("signing an access token", e))?;
        Ok(IssuedAccessToken {
            token,
            expires_in: self.settings.access_ttl.num_seconds(),
        })
    }

    /// Verifies an `Authorization` header value (`Bearer <jwt>`) and returns
    /// who it vouches for.
    pub fn verify_header(
        &self,
        header: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Caller, AccessClaims), TokenRejection> {
        let header = header
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(TokenRejection::Missing)?;
        let (scheme, token) = header.split_once(' ').ok_or(TokenRejection::Missing)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(TokenRejection::Missing);
        }
        self.verify(token.trim(), now)
    }

    /// Verifies a token's signature and claims; it must be valid at `now`
    /// (give or take [`CLOCK_SKEW_SECS`]).
    pub fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(Caller, AccessClaims), TokenRejection> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| TokenRejection::Invalid(format!("{:?}", e.kind())))?;
        let claims = data.claims;
        if claims.exp < now.timestamp() - CLOCK_SKEW_SECS {
            return Err(TokenRejection::Expired);
        }
        if claims.nbf > now.timestamp() + CLOCK_SKEW_SECS {
            return Err(TokenRejection::Invalid("not valid yet".into()));
        }
        let user_id = UserId::parse(&claims.sub)
            .map_err(|_| TokenRejection::Invalid("subject is not a user id".into()))?;
        Ok((Caller::new(user_id, claims.role), claims))
    }
}

/// The prefix that marks a refresh token.
const REFRESH_PREFIX: &str = "rt_";
const REFRESH_RANDOM_BYTES: usize = 32;

/// An opaque refresh token: `rt_` and 256 random bits. The client holds the
/// token; the table holds only [`RefreshToken::hash`].
pub struct RefreshToken(String);

impl RefreshToken {
    pub fn generate() -> Self {
        let bytes: [u8; REFRESH_RANDOM_BYTES] = rand::random();
        Self(format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token as a client sent it; refuses anything not of our shape.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let invalid = || {
            AppError::validation(
                "INVALID_REFRESH_TOKEN_FORMAT",
                "refresh_token is not a refresh token",
            )
        };
        let body = raw.strip_prefix(REFRESH_PREFIX).ok_or_else(invalid)?;
        match URL_SAFE_NO_PAD.decode(body) {
            Ok(bytes) if bytes.len() == REFRESH_RANDOM_BYTES => Ok(Self(raw.to_owned())),
            _ => Err(invalid()),
        }
    }

    /// SHA-256 of the token, hex. A fast hash suffices: the token is 256
    /// random bits, not a guessable password.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The token itself, for the response body only.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, FixedClock};

    const NOW: &str = "2027-01-15T10:00:00Z";

    #[test]
    fn a_token_expires_at_its_exp_give_or_take_the_allowed_clock_skew() {
        let clock = FixedClock::at_rfc3339(NOW);
        let issued = tokens()
            .issue(&UserId::generate(), Role::User, "s", clock.now())
            .unwrap();
        let ttl = Duration::seconds(issued.expires_in);
        clock.advance(ttl + Duration::seconds(CLOCK_SKEW_SECS));
        assert!(
            tokens().verify(&issued.token, clock.now()).is_ok(),
            "at exp + skew"
        );
        clock.advance(Duration::seconds(1));
        assert_eq!(
            tokens().verify(&issued.token, clock.now()).unwrap_err(),
            TokenRejection::Expired
        );
        clock.set(NOW.parse::<DateTime<Utc>>().unwrap() - Duration::seconds(CLOCK_SKEW_SECS));
        assert!(
            tokens().verify(&issued.token, clock.now()).is_ok(),
            "at nbf - skew"
        );
        clock.advance(Duration::seconds(-1));
        assert!(matches!(
            tokens().verify(&issued.token, clock.now()),
            Err(TokenRejection::Invalid(_))
        ));
    }

    fn key(byte: u8) -> SigningKey {
        SigningKey::new(vec![byte; 32]).unwrap()
    }

    fn tokens() -> AccessTokens {
        AccessTokens::new(&key(7), TokenSettings::default())
    }

    fn bearer(t: &str) -> String {
        format!("Bearer {t}")
    }

    #[test]
    fn a_short_key_is_refused_at_start_up() {
        assert!(SigningKey::new(vec![1; 31]).is_err());
        assert!(!format!("{:?}", key(7)).contains('7'));
    }

    #[test]
    fn an_issued_token_verifies_to_its_user_and_role() {
        let user = UserId::generate();
        let issued = tokens()
            .issue(&user, Role::Admin, "s-1", NOW.parse().unwrap())
            .unwrap();
        assert_eq!(issued.expires_in, DEFAULT_ACCESS_TTL_SECONDS);
        let (caller, claims) = tokens()
            .verify_header(Some(&bearer(&issued.token)), NOW.parse().unwrap())
            .unwrap();
        assert_eq!(caller, Caller::new(user, Role::Admin));
        assert_eq!(claims.sid, "s-1");
    }

    #[test]
    fn expired_forged_tampered_and_misaddressed_tokens_are_refused() {
        let user = UserId::generate();
        let now: DateTime<Utc> = NOW.parse().unwrap();
        let expired = tokens()
            .issue(&user, Role::User, "s", now - Duration::days(2))
            .unwrap();
        assert_eq!(
            tokens().verify(&expired.token, now).unwrap_err(),
            TokenRejection::Expired
        );

        let forged = AccessTokens::new(&key(8), TokenSettings::default())
            .issue(&user, Role::Admin, "s", now)
            .unwrap();
        assert!(matches!(
            tokens().verify(&forged.token, now),
            Err(TokenRejection::Invalid(_))
        ));

        let other_audience = AccessTokens::new(
            &key(7),
            TokenSettings {
                audience: "someone-else".into(),
                ..TokenSettings::default()
            },
        )
        .issue(&user, Role::User, "s", now)
        .unwrap();
        assert!(tokens().verify(&other_audience.token, now).is_err());

        let other_issuer = AccessTokens::new(
            &key(7),
            TokenSettings {
                issuer: "evil".into(),
                ..TokenSettings::default()
            },
        )
        .issue(&user, Role::User, "s", now)
        .unwrap();
        assert!(tokens().verify(&other_issuer.token, now).is_err());

        let good = tokens().issue(&user, Role::User, "s", now).unwrap().token;
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["role"] = "ADMIN".into();
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(tokens().verify(&parts.join("."), now).is_err(), "tampered");

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert!(tokens().verify(&unsigned, now).is_err(), "alg none");
    }

    #[test]
    fn only_bearer_headers_are_read() {
        assert_eq!(
            tokens()
                .verify_header(None, NOW.parse().unwrap())
                .unwrap_err(),
            TokenRejection::Missing
        );
        assert_eq!(
            tokens()
                .verify_header(Some("Basic abc"), NOW.parse().unwrap())
                .unwrap_err(),
            TokenRejection::Missing
        );
        assert!(
            tokens()
                .verify_header(Some("Bearer not.a.jwt"), NOW.parse().unwrap())
                .is_err()
        );
    }

    #[test]
    fn refresh_tokens_are_random_parse_back_and_hash_stably() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a.reveal(), b.reveal());
        let again = RefreshToken::parse(a.reveal()).unwrap();
        assert_eq!(again.hash(), a.hash());
        assert_eq!(a.hash().len(), 64);
        for bad in [
            "",
            "rt_",
            "rt_abc",
            "xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(RefreshToken::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{a:?}").contains(&a.reveal()[3..]));
    }
}
