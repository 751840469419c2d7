//! ID token validation (OIDC Core §3.1.3.7), on top of `openidconnect`'s
//! verifier, plus what it leaves to the caller:
//! - signature with the upstream JWKS, asymmetric algorithms only: `none`
//!   and HMAC (`HS*`, keyed with a client secret the IdP also knows) are
//!   refused (steps 6–8);
//! - `iss` exactly the configured issuer (step 2), `aud` contains our
//!   client id and nothing untrusted (step 3);
//! - `azp`, which the crate does not check: required with several
//!   audiences, and must be our client id when present (steps 4–5);
//! - `exp` in the future and `iat` neither in the future nor too old, both
//!   with a bounded leeway (steps 9–10);
//! - `nonce` equal to the flow's, compared in constant time (step 11); the
//!   flow is single-use, so a nonce is never accepted twice.

use crate::model::ClaimsMapping;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, Nonce, SignatureVerificationError,
};
use serde_json::{Map, Value};

/// The asymmetric algorithms accepted from upstream IdPs.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

pub(crate) struct Expectations<'a> {
    pub client_id: &'a str,
    pub issuer: &'a str,
    pub nonce: &'a str,
    pub now: DateTime<Utc>,
    pub leeway: Duration,
    pub max_age: Duration,
}

#[derive(Debug)]
pub(crate) enum Rejection {
    /// No key in the JWKS matches the token's `kid`/`alg`: refresh and retry once.
    UnknownKey,
    Invalid(String),
}

/// Verifies a raw ID token against the JWKS; returns the verified claims and
/// the raw payload (for claim mappings naming non-standard claims).
pub(crate) fn verify_id_token(
    raw: &str,
    jwks: &CoreJsonWebKeySet,
    x: &Expectations<'_>,
) -> Result<(CoreIdTokenClaims, Map<String, Value>), Rejection> {
    let token: CoreIdToken = raw
        .parse()
        .map_err(|e| Rejection::Invalid(format!("the ID token is not a JWT: {e}")))?;
    let issuer = IssuerUrl::new(x.issuer.to_string())
        .map_err(|e| Rejection::Invalid(format!("issuer: {e}")))?;
    let now = x.now;
    let (leeway, max_age) = (x.leeway, x.max_age);
    // `exp` is compared with "now minus leeway", so a token is accepted up
    // to `leeway` after it expired (clock skew), and not longer.
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(x.client_id.to_string()),
        issuer,
        jwks.clone(),
    )
    .set_allowed_algs(ALLOWED_ALGS)
    .set_time_fn(move || now - leeway)
    .set_issue_time_verifier_fn(move |iat| {
        if iat > now + leeway {
            Err(format!("issued in the future ({iat})"))
        } else if iat < now - max_age {
            Err(format!("issued too long ago ({iat})"))
        } else {
            Ok(())
        }
    });
    let nonce = Nonce::new(x.nonce.to_string());
    let claims = token.claims(&verifier, &nonce).map_err(|e| match e {
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => Rejection::UnknownKey,
        other => Rejection::Invalid(other.to_string()),
    })?;
    check_azp(claims, x.client_id)?;
    let payload = raw_payload(raw)?;
    Ok((claims.clone(), payload))
}

/// OIDC Core §3.1.3.7 steps 4–5.
fn check_azp(claims: &CoreIdTokenClaims, client_id: &str) -> Result<(), Rejection> {
    match claims.authorized_party() {
        Some(azp) if azp.as_str() != client_id => Err(Rejection::Invalid(format!(
            "azp is `{}`, not this client",
            azp.as_str()
        ))),
        None if claims.audiences().len() > 1 => {
            Err(Rejection::Invalid("several audiences and no azp".into()))
        }
        _ => Ok(()),
    }
}

/// The payload of a JWS whose signature was already verified.
fn raw_payload(raw: &str) -> Result<Map<String, Value>, Rejection> {
    let bad = || Rejection::Invalid("the ID token payload is not a JSON object".into());
    let part = raw.split('.').nth(1).ok_or_else(bad)?;
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| bad())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad()),
    }
}

/// The attributes the mapping names, read from the verified claims and,
/// where the ID token lacks them, from userinfo (whose `sub` was checked).
pub(crate) struct Mapped {
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
}

fn string_claim(m: &Map<String, Value>, name: &str) -> Option<String> {
    m.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `email_verified` counts only when explicitly true (some IdPs send the
/// string "true").
fn verified_claim(m: &Map<String, Value>, name: &str) -> Option<bool> {
    match m.get(name)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        _ => Some(false),
    }
}

pub(crate) fn map_claims(
    mapping: &ClaimsMapping,
    id_token: &Map<String, Value>,
    userinfo: Option<&Map<String, Value>>,
) -> Mapped {
    let pick = |f: &dyn Fn(&Map<String, Value>) -> Option<String>| {
        f(id_token).or_else(|| userinfo.and_then(f))
    };
    let email = pick(&|m| string_claim(m, &mapping.email));
    // The verification flag must come from the same document as the email.
    let email_verified = if string_claim(id_token, &mapping.email).is_some() {
        verified_claim(id_token, &mapping.email_verified)
    } else {
        userinfo.and_then(|u| verified_claim(u, &mapping.email_verified))
    }
    .unwrap_or(false);
    Mapped {
        email,
        email_verified,
        display_name: pick(&|m| string_claim(m, &mapping.display_name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn check(
        id: Value,
        ui: Option<Value>,
        mapping: &ClaimsMapping,
        expected: (Option<&str>, bool, Option<&str>),
    ) {
        let ui = ui.map(obj);
        let m = map_claims(mapping, &obj(id.clone()), ui.as_ref());
        assert_eq!(
            (
                m.email.as_deref(),
                m.email_verified,
                m.display_name.as_deref()
            ),
            expected,
            "{id}"
        );
    }

    #[test]
    fn mapping_table() {
        let d = ClaimsMapping::default();
        check(
            json!({"email": "a@f.example", "email_verified": true, "name": "A"}),
            None,
            &d,
            (Some("a@f.example"), true, Some("A")),
        );
        check(
            json!({"email": "a@f.example", "email_verified": "true"}),
            None,
            &d,
            (Some("a@f.example"), true, None),
        );
        check(
            json!({"email": "a@f.example", "email_verified": "yes"}),
            None,
            &d,
            (Some("a@f.example"), false, None),
        );
        check(
            json!({"email": "a@f.example"}),
            None,
            &d,
            (Some("a@f.example"), false, None),
        );
        check(
            json!({"email": "a@f.example", "email_verified": false}),
            None,
            &d,
            (Some("a@f.example"), false, None),
        );
        // Missing from the ID token: read from userinfo, flag included.
        check(
            json!({}),
            Some(json!({"email": "a@f.example", "email_verified": true})),
            &d,
            (Some("a@f.example"), true, None),
        );
        // The ID token's email never borrows userinfo's verification flag.
        check(
            json!({"email": "a@f.example"}),
            Some(json!({"email_verified": true})),
            &d,
            (Some("a@f.example"), false, None),
        );
        let custom = ClaimsMapping {
            email: "upn".into(),
            email_verified: "upn_verified".into(),
            display_name: "display".into(),
        };
        check(
            json!({"upn": "a@f.example", "upn_verified": true, "display": "A", "email": "x@y.example"}),
            None,
            &custom,
            (Some("a@f.example"), true, Some("A")),
        );
    }
}
