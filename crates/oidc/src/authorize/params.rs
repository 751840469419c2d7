//! The raw request parameters, from the query (GET) or the form body (POST),
//! as OIDC Core §3.1.2.1 requires both; the token, introspection, revocation
//! and logout endpoints read their forms the same way.
//!
//! Everything here runs before the client is authenticated, so it must cost
//! time linear in the input and refuse oversized input before parsing it:
//! [`ParamLimits`] caps the size and the number of parameters per endpoint,
//! and the repeated-name check is one pass with a hash map (SipHash, so
//! colliding names cannot be chosen to slow it down).

use std::collections::HashMap;

/// How much input an endpoint accepts before it even looks at it.
///
/// The numbers are generous for every legitimate request and small enough
/// that a hostile one costs microseconds:
///
/// | endpoint | bytes | parameters | why |
/// |---|---|---|---|
/// | `/token`, `/introspect`, `/revoke` | 16 KiB | 32 | a grant, a code or token, PKCE verifier, a `client_assertion` JWT of a few KiB |
/// | `/authorize` (query or form_post) | 64 KiB | 64 | up to 30 OIDC parameters; `claims` and `id_token_hint` are the large ones |
/// | `/logout`, `/logout/confirm` | 32 KiB | 32 | an `id_token_hint` (a few KiB), a handful of others |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamLimits {
    pub max_bytes: usize,
    pub max_params: usize,
}

impl ParamLimits {
    /// `/token`, `/introspect`, `/revoke` (RFC 6749 §3.2, RFC 7662, RFC 7009).
    pub const TOKEN: ParamLimits = ParamLimits {
        max_bytes: 16 * 1024,
        max_params: 32,
    };
    /// `/authorize`, GET or POST (OIDC Core §3.1.2.1).
    pub const AUTHORIZE: ParamLimits = ParamLimits {
        max_bytes: 64 * 1024,
        max_params: 64,
    };
    /// `/logout` and its confirmation form (OIDC RP-Initiated Logout §2).
    pub const LOGOUT: ParamLimits = ParamLimits {
        max_bytes: 32 * 1024,
        max_params: 32,
    };
}

/// Why a query or form could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("the request is larger than this endpoint accepts")]
    TooLarge,
    #[error("the request has more parameters than this endpoint accepts")]
    TooManyParams,
    #[error("the request is not valid application/x-www-form-urlencoded")]
    Malformed,
}

/// Decodes `application/x-www-form-urlencoded` input (a query string or a
/// body) within `limits`: the size and the parameter count (one pass over
/// the bytes counting `&`) are checked before anything is decoded.
pub fn parse_pairs(input: &[u8], limits: ParamLimits) -> Result<Vec<(String, String)>, ParamError> {
    if input.len() > limits.max_bytes {
        return Err(ParamError::TooLarge);
    }
    let separators = input.iter().filter(|b| **b == b'&').count();
    if separators >= limits.max_params {
        return Err(ParamError::TooManyParams);
    }
    serde_urlencoded::from_bytes(input).map_err(|_| ParamError::Malformed)
}

/// Parameters in arrival order, indexed by name when built (one pass), so
/// every lookup and the repeated-name check are constant time per name.
#[derive(Debug, Clone, Default)]
pub struct RawParams {
    pairs: Vec<(String, String)>,
    /// Name → (index of the first non-empty value, how often the name came).
    index: HashMap<String, (Option<usize>, usize)>,
    /// Index of the first pair whose name had been seen before.
    first_repeat: Option<usize>,
}

impl RawParams {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut index: HashMap<String, (Option<usize>, usize)> =
            HashMap::with_capacity(pairs.len());
        let mut first_repeat = None;
        for (i, (k, v)) in pairs.iter().enumerate() {
            let entry = index.entry(k.clone()).or_insert((None, 0));
            if entry.1 > 0 && first_repeat.is_none() {
                first_repeat = Some(i);
            }
            entry.1 += 1;
            if entry.0.is_none() && !v.is_empty() {
                entry.0 = Some(i);
            }
        }
        Self {
            pairs,
            index,
            first_repeat,
        }
    }

    /// The value of `name`; empty values count as absent (OIDC Core §3.1.2.1 form serialization).
    pub fn get(&self, name: &str) -> Option<&str> {
        let (first, _) = self.index.get(name)?;
        first
            .and_then(|i| self.pairs.get(i))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` was sent more than once (RFC 6749 §3.1: parameters MUST NOT repeat).
    pub fn is_repeated(&self, name: &str) -> bool {
        self.index.get(name).is_some_and(|(_, n)| *n > 1)
    }

    /// The first repeated parameter name, if any.
    pub fn first_repeated(&self) -> Option<&str> {
        self.first_repeat
            .and_then(|i| self.pairs.get(i))
            .map(|(k, _)| k.as_str())
    }

    /// The pairs in arrival order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_absent_and_repeats_are_seen() {
        let p = RawParams::new(vec![
            ("a".into(), "".into()),
            ("b".into(), "1".into()),
            ("b".into(), "2".into()),
            ("c".into(), "".into()),
            ("c".into(), "3".into()),
        ]);
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("1"));
        assert_eq!(p.get("c"), Some("3"));
        assert_eq!(p.get("zz"), None);
        assert!(p.is_repeated("b"));
        assert!(!p.is_repeated("a"));
        assert_eq!(p.first_repeated(), Some("b"));
    }

    #[test]
    fn the_first_repeat_in_arrival_order_is_named() {
        let p = RawParams::new(vec![
            ("x".into(), "1".into()),
            ("y".into(), "1".into()),
            ("y".into(), "2".into()),
            ("x".into(), "2".into()),
        ]);
        assert_eq!(p.first_repeated(), Some("y"));
        let many: Vec<(String, String)> =
            (0..50_000).map(|i| (format!("p{i}"), "v".into())).collect();
        assert_eq!(RawParams::new(many).first_repeated(), None);
    }

    #[test]
    fn limits_are_checked_before_decoding() {
        let small = ParamLimits {
            max_bytes: 32,
            max_params: 3,
        };
        let check = |input: &str| parse_pairs(input.as_bytes(), small);
        assert_eq!(
            check("a=1&b=2&c=3").map(|p| p.len()),
            Ok(3),
            "three parameters fit"
        );
        assert_eq!(check("a=1&b=2&c=3&d=4"), Err(ParamError::TooManyParams));
        assert_eq!(check(&"x".repeat(33)), Err(ParamError::TooLarge));
        assert_eq!(check(""), Ok(vec![]));
    }
}
