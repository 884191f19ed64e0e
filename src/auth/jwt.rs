//! Short-lived tokens for scripts and the socket: HS256 only, `sub` is the
//! user id, `exp` is required and checked.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::secret::JwtSecret;
use crate::model::{Token, UserId};

/// How long a token lives unless configured otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
}

/// A checked token: whose it is and when it stops being valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: UserId,
    pub expires_at: i64,
}

/// Signs and checks tokens with one secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("ttl", &self.ttl).finish()
    }
}

impl Tokens {
    pub fn new(secret: &JwtSecret, ttl: Duration) -> Self {
        // Pinned to HS256: a token naming another algorithm (`none`, RS256
        // with our secret as a public key) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            validation,
            ttl,
        }
    }

    /// A new token for `user`.
    pub fn issue(&self, user: &UserId) -> Token {
        let now = Utc::now();
        let expires = now + self.ttl;
        let claims = Claims {
            sub: user.as_str().to_owned(),
            exp: expires.timestamp(),
            iat: now.timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        Token {
            token,
            expires_at: DateTime::<Utc>::from_timestamp(claims.exp, 0)
                .unwrap_or(expires)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }

    /// The token's user if its signature, algorithm and expiry check out.
    pub fn verify(&self, token: &str) -> Option<VerifiedToken> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        if data.claims.sub.is_empty() {
            return None;
        }
        Some(VerifiedToken {
            user_id: UserId(data.claims.sub),
            expires_at: data.claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ttl: Duration) -> Tokens {
        let dir = tempfile::tempdir().unwrap();
        let secret = JwtSecret::load(Some(&"s".repeat(32)), dir.path()).unwrap();
        Tokens::new(&secret, ttl)
    }

    #[test]
    fn issued_tokens_verify() {
        let tokens = tokens(DEFAULT_TOKEN_TTL);
        let token = tokens.issue(&UserId("u_1".into()));
        assert_eq!(tokens.verify(&token.token).unwrap().user_id.as_str(), "u_1");
        assert!(token.expires_at.ends_with('Z'));
    }

    #[test]
    fn expired_forged_and_unsigned_tokens_are_refused() {
        let tokens = tokens(DEFAULT_TOKEN_TTL);
        let expired = encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "u_1".into(),
                exp: Utc::now().timestamp() - 1,
                iat: 0,
            },
            &tokens.encoding,
        )
        .unwrap();
        assert!(tokens.verify(&expired).is_none());

        let other = EncodingKey::from_secret(&[7u8; 32]);
        let forged = encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "u_1".into(),
                exp: Utc::now().timestamp() + 60,
                iat: 0,
            },
            &other,
        )
        .unwrap();
        assert!(tokens.verify(&forged).is_none());

        // alg "none": header and claims with no signature.
        let unsigned =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1XzEiLCJleHAiOjQxMDI0NDQ4MDB9.";
        assert!(tokens.verify(unsigned).is_none());

        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &Claims {
                sub: "u_1".into(),
                exp: Utc::now().timestamp() + 60,
                iat: 0,
            },
            &tokens.encoding,
        )
        .unwrap();
        assert!(tokens.verify(&hs512).is_none());
    }
}
