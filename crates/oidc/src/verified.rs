//! Signatures already checked: a resource server introspects (or calls
//! userinfo with) the same access token on every request it serves, and the
//! RSA or ECDSA check was most of that request's work (bench/run, stop 21).
//!
//! An entry holds the exact token text, the `kid` and `typ` its header named
//! and its claims, once the signature over exactly that text was valid. It
//! says nothing else: every use still checks that the key is still published,
//! the `typ` asked for, the issuer and expiry (`Provider::verify_own_jwt`),
//! and everything a token stands for (`access.rs`). Only tokens whose
//! signature was valid get in, so an anonymous caller cannot fill it; it holds
//! at most [`CAPACITY`] entries and starts over when full.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Entries kept at most (a JWT access token and its claims are ~1–2 KB).
pub const CAPACITY: usize = 512;

#[derive(Debug, Clone)]
pub struct Verified {
    pub kid: String,
    pub typ: Option<String>,
    pub claims: Arc<Map<String, Value>>,
}

#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, Verified>>,
}

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<Verified> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    /// Remembers that `token`'s signature is valid.
    pub fn insert(&self, token: &str, verified: Verified) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(token.into(), verified);
    }

    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kid: &str) -> Verified {
        Verified {
            kid: kid.into(),
            typ: None,
            claims: Arc::default(),
        }
    }

    #[test]
    fn it_holds_at_most_its_capacity() {
        let v = VerifiedTokens::default();
        for i in 0..CAPACITY {
            v.insert(&format!("t{i}"), entry("k"));
        }
        assert_eq!(v.len(), CAPACITY);
        assert_eq!(v.get("t7").map(|e| e.kid), Some("k".into()));
        v.insert("one more", entry("k2"));
        assert_eq!(v.len(), 1);
        assert!(v.get("t7").is_none());
        assert_eq!(v.get("one more").map(|e| e.kid), Some("k2".into()));
    }
}
