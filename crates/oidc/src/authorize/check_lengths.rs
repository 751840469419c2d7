//! Size limits on the values an authorization request hands Portico to keep:
//! the interaction stores the whole request, the grant and code keep `nonce`,
//! `claims` and `acr_values`, and `state` goes back in the redirect. A value
//! past its limit is `invalid_request` (RFC 6749 §4.1.2.1), redirected to the
//! verified redirect URI like the other checks after it.
//!
//! The limits (bytes, after URL decoding) leave room for every legitimate use:
//!
//! | parameter | limit | why |
//! |---|---|---|
//! | `state` | 2048 | opaque to us; RPs put a JWT or a signed blob here at most |
//! | `nonce` | 512 | a random string; echoed in the ID token |
//! | `claims` | 4096 | JSON (OIDC Core §5.5); a few dozen claim requests |
//! | `login_hint`, `domain_hint` | 320 | an email address is at most 254 |
//! | `id_token_hint` | 8192 | one of our own ID tokens |
//! | `acr_values` | 512 | a few URIs |
//! | `ui_locales` | 128 | a few BCP 47 tags |
//! | `scope` | 1024 | every scope we support, many times over |
//! | `code_challenge` | 128 | RFC 7636 §4.2: 43 to 128 characters |

use super::params::RawParams;
use crate::error::OAuthError;

/// `(parameter, longest accepted value in bytes)`.
pub const VALUE_LIMITS: &[(&str, usize)] = &[
    ("state", 2048),
    ("nonce", 512),
    ("claims", 4096),
    ("login_hint", 320),
    ("domain_hint", 320),
    ("id_token_hint", 8192),
    ("acr_values", 512),
    ("ui_locales", 128),
    ("scope", 1024),
    ("code_challenge", 128),
];

/// Refuses a request whose stored values exceed [`VALUE_LIMITS`].
pub fn reject_oversized_values(raw: &RawParams) -> Result<(), OAuthError> {
    for (name, max) in VALUE_LIMITS {
        if raw.get(name).is_some_and(|v| v.len() > *max) {
            return Err(OAuthError::invalid_request(format!(
                "The parameter {name} is longer than {max} bytes."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, len: usize) -> bool {
        let raw = RawParams::new(vec![(name.to_string(), "x".repeat(len))]);
        reject_oversized_values(&raw).is_ok()
    }

    #[test]
    fn values_at_the_limit_pass_and_one_byte_more_is_refused() {
        for (name, max) in VALUE_LIMITS {
            assert!(check(name, *max), "{name} at {max}");
            assert!(!check(name, max + 1), "{name} at {}", max + 1);
        }
        assert!(
            check("unknown_extension", 100_000),
            "unknown parameters are ignored"
        );
    }
}
