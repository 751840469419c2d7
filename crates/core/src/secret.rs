//! Secrets: a newtype that never prints itself, random token generation, and the
//! keyed SHA-256 used to store secrets Portico generates (codes, refresh tokens,
//! client secrets, session ids). Human passwords use argon2id elsewhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// A secret string: `Debug`/`Display` print `[redacted]`, equality is constant-time.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret value itself; call sites that need it are easy to grep for.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}
impl Eq for Secret {}

/// `bytes` random bytes from the OS-seeded CSPRNG, base64url without padding.
/// Portico's own secrets use at least 16 bytes (128 bits); the default is 32.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes.max(16)];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Keyed SHA-256 (HMAC) over generated secrets: fast enough for the token
/// endpoint, useless to someone holding only a database dump.
#[derive(Clone)]
pub struct SecretHasher {
    key: Vec<u8>,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher([redacted])")
    }
}

impl SecretHasher {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts any key length"),
        }
    }

    /// The stored form of a secret: base64url(HMAC-SHA256(key, purpose || 0 || secret)).
    /// `purpose` separates domains so a code hash can never match a token hash.
    pub fn hash(&self, purpose: &str, secret: &str) -> String {
        let mut m = self.mac();
        m.update(purpose.as_bytes());
        m.update(&[0]);
        m.update(secret.as_bytes());
        URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
    }

    /// Constant-time check of a presented secret against a stored hash.
    pub fn verify(&self, purpose: &str, secret: &str, stored: &str) -> bool {
        self.hash(purpose, secret)
            .as_bytes()
            .ct_eq(stored.as_bytes())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
    }

    #[test]
    fn hashes_are_keyed_and_domain_separated() {
        let a = SecretHasher::new(b"key-a");
        let b = SecretHasher::new(b"key-b");
        assert_ne!(a.hash("code", "x"), b.hash("code", "x"));
        assert_ne!(a.hash("code", "x"), a.hash("refresh", "x"));
        assert!(a.verify("code", "x", &a.hash("code", "x")));
        assert!(!a.verify("code", "y", &a.hash("code", "x")));
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let t = random_token(32);
        assert_eq!(t.len(), 43);
        assert_ne!(t, random_token(32));
        assert!(random_token(1).len() >= 22, "never fewer than 128 bits");
    }
}
