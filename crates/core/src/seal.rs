//! Sealing secrets Portico must read back (TOTP secrets): AES-256-GCM with a
//! key derived from the server's secret key material, so a database dump
//! alone reveals nothing. Secrets Portico only has to recognize are hashed
//! instead ([`crate::SecretHasher`]).
//!
//! The sealed form is `v1.<base64url(nonce || ciphertext || tag)>` with a
//! random 96-bit nonce per seal. The caller's `context` (for example
//! `totp:<user id>`) is authenticated as associated data, so a sealed value
//! copied into another row does not open there.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 12;
/// Separates the sealing key from every other use of the server key.
const KEY_LABEL: &[u8] = b"portico-seal-v1";

/// Why a sealed value did not open. Deliberately vague: a wrong key, a wrong
/// context and a tampered value look the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// Not of the form `v1.<base64url>` or too short to hold a nonce and tag.
    Malformed,
    /// The authentication tag did not verify.
    Rejected,
    /// The plaintext was too large to encrypt (never the case for secrets).
    TooLarge,
}

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SealError::Malformed => "sealed value is malformed",
            SealError::Rejected => "sealed value does not open with this key and context",
            SealError::TooLarge => "value too large to seal",
        })
    }
}

impl std::error::Error for SealError {}

/// AES-256-GCM over secrets at rest. `Debug` never shows the key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// AES-256-GCM keyed by HMAC-SHA256(`key`, `label`): one key material, many
/// separated uses.
pub(crate) fn derive_cipher(key: &[u8], label: &[u8]) -> Aes256Gcm {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(label);
    let key = mac.finalize().into_bytes();
    match Aes256Gcm::new_from_slice(&key) {
        Ok(c) => c,
        Err(_) => unreachable!("HMAC-SHA256 yields the 32 bytes AES-256 needs"),
    }
}

/// `nonce || ciphertext || tag` of `plaintext` with `context` as associated data.
pub(crate) fn encrypt(
    cipher: &Aes256Gcm,
    context: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce[..]);
    let payload = Payload {
        msg: plaintext,
        aad: context.as_bytes(),
    };
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), payload)
        .map_err(|_| SealError::TooLarge)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Opens the base64url body made by [`encrypt`].
pub(crate) fn decrypt(cipher: &Aes256Gcm, context: &str, body: &str) -> Result<Vec<u8>, SealError> {
    let raw = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| SealError::Malformed)?;
    // A 16-byte tag follows the nonce even for an empty plaintext.
    if raw.len() < NONCE_LEN + 16 {
        return Err(SealError::Malformed);
    }
    let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
    let payload = Payload {
        msg: ciphertext,
        aad: context.as_bytes(),
    };
    cipher
        .decrypt(Nonce::from_slice(nonce), payload)
        .map_err(|_| SealError::Rejected)
}

impl Sealer {
    /// `server_key` is the key material [`crate::SecretHasher::new`] is built
    /// from; the AES key is HMAC-SHA256(server_key, "portico-seal-v1").
    pub fn new(server_key: &[u8]) -> Self {
        Self {
            cipher: derive_cipher(server_key, KEY_LABEL),
        }
    }

    /// Encrypts `plaintext` bound to `context`; two seals of the same value differ.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, SealError> {
        let raw = encrypt(&self.cipher, context, plaintext)?;
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
    }

    /// Decrypts a value made by [`Sealer::seal`] with the same key and context.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
        decrypt(&self.cipher, context, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_with_the_same_key_and_context() {
        let s = Sealer::new(b"server-key");
        let sealed = s.seal("totp:u1", b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(s.open("totp:u1", &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn two_seals_of_the_same_plaintext_differ() {
        let s = Sealer::new(b"server-key");
        let a = s.seal("c", b"same").unwrap();
        let b = s.seal("c", b"same").unwrap();
        assert_ne!(a, b);
        assert_eq!(s.open("c", &a).unwrap(), s.open("c", &b).unwrap());
    }

    #[test]
    fn tampered_value_wrong_context_and_wrong_key_are_refused() {
        let s = Sealer::new(b"server-key");
        let sealed = s.seal("totp:u1", b"secret").unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&sealed[3..]).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = format!("v1.{}", URL_SAFE_NO_PAD.encode(&raw));
        assert_eq!(s.open("totp:u1", &tampered), Err(SealError::Rejected));
        assert_eq!(s.open("totp:u2", &sealed), Err(SealError::Rejected));
        let other = Sealer::new(b"other-key");
        assert_eq!(other.open("totp:u1", &sealed), Err(SealError::Rejected));
        assert_eq!(s.open("totp:u1", "v2.abc"), Err(SealError::Malformed));
        assert_eq!(s.open("totp:u1", "v1.!!"), Err(SealError::Malformed));
        assert_eq!(s.open("totp:u1", "v1.AAAA"), Err(SealError::Malformed));
    }

    #[test]
    fn sealer_never_prints_its_key() {
        assert_eq!(format!("{:?}", Sealer::new(b"k")), "[redacted]");
    }
}
