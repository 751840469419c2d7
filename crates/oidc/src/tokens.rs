//! JWT minting and checking: ID tokens (OIDC Core §2), JWT access tokens
//! (RFC 9068) and the verification of tokens Portico issued itself.

use crate::Provider;
use crate::error::OAuthError;
use crate::keys::{LoadedKey, SigningAlg};
use crate::verified::Verified;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::JwsHeader;
use josekit::jwt::{self, JwtPayload};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The `typ` of a JWT access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// `at_hash`: the left half of the hash the ID token's `alg` implies (SHA-256
/// for RS256 and ES256, SHA-512 for EdDSA on Ed25519) of the access token,
/// base64url (OIDC Core §3.1.3.6).
pub fn at_hash(access_token: &str, alg: SigningAlg) -> String {
    URL_SAFE_NO_PAD.encode(alg.left_half_hash(access_token.as_bytes()))
}

fn to_payload(claims: Map<String, Value>) -> Result<JwtPayload, OAuthError> {
    JwtPayload::from_map(claims).map_err(|e| OAuthError::server_error().with_debug(e.to_string()))
}

impl Provider {
    /// Signs `claims` with the active key of `alg`; `typ` is `JWT`, `at+jwt`
    /// or `logout+jwt`.
    pub async fn sign_jwt(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: Map<String, Value>,
    ) -> Result<String, OAuthError> {
        let key = self.signing_key(alg).await?;
        sign_with(&key, typ, claims)
    }

    /// The key that signs `alg` tokens now (RS256's while that line has none).
    pub(crate) async fn signing_key(
        &self,
        alg: SigningAlg,
    ) -> Result<std::sync::Arc<LoadedKey>, OAuthError> {
        Ok(self
            .keys
            .signing_key(self.store.as_ref(), self.clock.now(), alg)
            .await?)
    }

    /// Verifies a JWT this provider signed: a published key, our issuer, and
    /// (unless `allow_expired`) not expired. Returns its claims.
    pub async fn verify_own_jwt(
        &self,
        token: &str,
        expected_typ: Option<&str>,
        allow_expired: bool,
    ) -> Result<Map<String, Value>, OAuthError> {
        let now = self.clock.now();
        let bad = || OAuthError::invalid_token("The token is invalid.");
        let keys = self.keys.published(self.store.as_ref(), now).await?;
        let claims = match self.verified.get(token) {
            // Checked before (verified.rs): the key must still be published.
            Some(v) if keys.iter().any(|k| k.meta.kid == v.kid) => {
                if let Some(typ) = expected_typ
                    && v.typ.as_deref() != Some(typ)
                {
                    return Err(bad().with_debug("wrong typ"));
                }
                Arc::unwrap_or_clone(v.claims)
            }
            _ => {
                let header =
                    jwt::decode_header(token).map_err(|e| bad().with_debug(e.to_string()))?;
                let typ = header.claim("typ").and_then(Value::as_str);
                if let Some(expected) = expected_typ
                    && typ != Some(expected)
                {
                    return Err(bad().with_debug("wrong typ"));
                }
                let typ = typ.map(str::to_string);
                let kid = header
                    .claim("kid")
                    .and_then(Value::as_str)
                    .ok_or_else(bad)?
                    .to_string();
                let key = keys
                    .iter()
                    .find(|k| k.meta.kid == kid)
                    .ok_or_else(|| bad().with_debug("unknown kid"))?;
                let (payload, _) = jwt::decode_with_verifier(token, key.verifier.as_ref())
                    .map_err(|e| bad().with_debug(e.to_string()))?;
                let claims = payload.claims_set().clone();
                self.verified.insert(
                    token,
                    Verified {
                        kid,
                        typ,
                        claims: Arc::new(claims.clone()),
                    },
                );
                claims
            }
        };
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(bad().with_debug("wrong iss"));
        }
        let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(bad)?;
        if !allow_expired && exp <= now.timestamp() {
            return Err(OAuthError::invalid_token("The token has expired."));
        }
        Ok(claims)
    }
}

/// Signs `claims` with `key`, naming it in the header's `kid`.
pub(crate) fn sign_with(
    key: &LoadedKey,
    typ: &str,
    claims: Map<String, Value>,
) -> Result<String, OAuthError> {
    let mut header = JwsHeader::new();
    header.set_token_type(typ);
    header.set_key_id(key.meta.kid.clone());
    let payload = to_payload(claims)?;
    jwt::encode_with_signer(&payload, &header, key.signer.as_ref())
        .map_err(|e| OAuthError::server_error().with_debug(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_spec_example() {
        // OIDC Core appendix A.3 example values.
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                SigningAlg::Rs256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
