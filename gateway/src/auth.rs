//! Sessions: signed JWTs (HS256) naming a guest user; handlers that need a user take [`User`].

use crate::{AppState, error::ApiError};
use axum::{extract::FromRequestParts, http::request::Parts};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user id.
    sub: String,
    name: String,
    iat: u64,
    exp: u64,
}

/// Signs and checks session tokens.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

/// An issued token.
pub struct Session {
    pub token: String,
    pub user_id: String,
    pub expires_at: u64,
}

impl Tokens {
    /// Keys for `secret`, which must not be empty (the gateway's config requires 32 bytes or more).
    pub fn new(secret: &[u8], ttl: Duration) -> jsonwebtoken::errors::Result<Self> {
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            ttl,
        })
    }

    /// A token for a new guest user called `name`.
    pub fn issue(&self, name: &str) -> Result<Session, ApiError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            sub: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            iat: now,
            exp: now + self.ttl.as_secs(),
        };
        let token =
            encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("signing failed: {e}"),
                )
            })?;
        Ok(Session {
            token,
            user_id: claims.sub,
            expires_at: claims.exp,
        })
    }

    fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| ApiError::unauthenticated(format!("invalid token: {e}")))
    }
}

/// The signed-in user of a request (`Authorization: Bearer <token>`).
pub struct User {
    pub id: String,
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthenticated("missing bearer token: POST /api/v1/session to get one")
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
            })?;
        let claims = state.tokens.verify(token)?;
        Ok(User { id: claims.sub })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_the_same_secret_and_before_expiry() {
        let tokens = Tokens::new(&[7; 32], Duration::from_secs(60)).unwrap();
        let session = tokens.issue("ann").unwrap();
        assert_eq!(tokens.verify(&session.token).unwrap().sub, session.user_id);
        assert!(
            Tokens::new(&[8; 32], Duration::from_secs(60))
                .unwrap()
                .verify(&session.token)
                .is_err()
        );
        assert!(tokens.verify("not-a-token").is_err());
        let expired = Tokens::new(&[7; 32], Duration::ZERO)
            .unwrap()
            .issue("bob")
            .unwrap();
        let mut strict = tokens.clone();
        strict.ttl = Duration::ZERO;
        // Expired beyond the leeway: forge an old token by hand.
        let old = Claims {
            sub: "u".into(),
            name: "x".into(),
            iat: 1,
            exp: 2,
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &old,
            &EncodingKey::from_secret(&[7; 32]).unwrap(),
        )
        .unwrap();
        assert!(strict.verify(&token).is_err());
        assert!(
            tokens.verify(&expired.token).is_ok(),
            "within the 5 s leeway"
        );
    }
}
