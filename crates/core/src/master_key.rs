//! The master key: 32 bytes kept outside the database that seal the secrets
//! Portico must read back (signing keys' private PEMs, upstream client
//! secrets, the server secrets). A database dump alone then forges nothing.
//!
//! The sealed form is `v2.<kid>.<base64url(nonce || ciphertext || tag)>`:
//! `kid` names the master key (a hash of it, never the key), so a
//! [`Keyring`] holding the current key and the previous ones opens values
//! sealed before a rotation and always seals under the current key. As with
//! [`crate::Sealer`], the caller's context (`signing-key:<kid>`,
//! `idp-secret:<id>`) is the associated data.

use crate::seal::{SealError, decrypt, derive_cipher, encrypt};
use aes_gcm::Aes256Gcm;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

const PREFIX: &str = "v2.";
const KEY_LEN: usize = 32;
/// Separates the sealing key from the key id (and any later use).
const SEAL_LABEL: &[u8] = b"portico-master-seal-v2";
const KID_LABEL: &[u8] = b"portico-master-key-id";

/// Why a master key was refused. The message never contains the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterKeyError(String);

impl std::fmt::Display for MasterKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MasterKeyError {}

/// 32 random bytes. `Debug` prints `[redacted]`.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl MasterKey {
    /// A fresh key from the OS-seeded CSPRNG.
    pub fn generate() -> MasterKey {
        let mut k = [0u8; KEY_LEN];
        rand::fill(&mut k[..]);
        MasterKey(k)
    }

    /// Reads 32 bytes written as 64 hex digits or base64 (standard or
    /// url-safe, padded or not); surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<MasterKey, MasterKeyError> {
        let t = text.trim();
        let bytes = if t.len() == 2 * KEY_LEN && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            decode_hex(t)
        } else {
            [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(t).ok())
        };
        match bytes {
            Some(b) => {
                let n = b.len();
                b.try_into().map(MasterKey).map_err(|_| {
                    MasterKeyError(format!(
                        "the master key must be 32 bytes, this one is {n} bytes"
                    ))
                })
            }
            None => Err(MasterKeyError(
                "the master key must be 32 bytes written as 64 hex digits or base64".into(),
            )),
        }
    }

    /// The key as base64 (what `master.key` holds).
    pub fn encode(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The public name of this key: 8 hex digits of SHA-256 over a label and
    /// the key. It tells which key sealed a value, and nothing about the key.
    pub fn kid(&self) -> String {
        let mut h = Sha256::new();
        h.update(KID_LABEL);
        h.update(self.0);
        h.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn decode_hex(t: &str) -> Option<Vec<u8>> {
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Why a value did not open under the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Not a `v2.` value (it may be plain text from before sealing).
    NotSealed,
    /// Sealed under a master key the keyring does not hold.
    UnknownKey(String),
    /// The key is known but the value does not open (tampered, or moved to
    /// another context).
    Sealed(SealError),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::NotSealed => f.write_str("the value is not sealed"),
            OpenError::UnknownKey(kid) => write!(
                f,
                "the value is sealed under master key {kid}, which is not configured \
                 (PORTICO_MASTER_KEY, or PORTICO_MASTER_KEY_PREVIOUS during a rotation)"
            ),
            OpenError::Sealed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for OpenError {}

/// The current master key (seals and opens) and previous ones (open only).
#[derive(Clone)]
pub struct Keyring {
    current: (String, Aes256Gcm),
    previous: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.0)
            .field(
                "previous",
                &self.previous.iter().map(|p| &p.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    pub fn new(current: &MasterKey, previous: &[MasterKey]) -> Keyring {
        let entry = |k: &MasterKey| (k.kid(), derive_cipher(&k.0, SEAL_LABEL));
        Keyring {
            current: entry(current),
            previous: previous.iter().map(entry).collect(),
        }
    }

    /// The id of the key [`Keyring::seal`] uses.
    pub fn current_kid(&self) -> &str {
        &self.current.0
    }

    /// Whether `value` is in the sealed form (under any key).
    pub fn is_sealed(value: &str) -> bool {
        Self::split(value).is_some()
    }

    /// Whether `value` is sealed under the current key.
    pub fn is_current(&self, value: &str) -> bool {
        Self::split(value).is_some_and(|(kid, _)| kid == self.current.0)
    }

    /// Seals `plaintext` under the current key, bound to `context`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, SealError> {
        let raw = encrypt(&self.current.1, context, plaintext)?;
        Ok(format!(
            "{PREFIX}{}.{}",
            self.current.0,
            URL_SAFE_NO_PAD.encode(raw)
        ))
    }

    /// Opens a value sealed under the current or a previous key.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let (kid, body) = Self::split(sealed).ok_or(OpenError::NotSealed)?;
        let cipher = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|(k, _)| k == kid)
            .map(|(_, c)| c)
            .ok_or_else(|| OpenError::UnknownKey(kid.to_owned()))?;
        decrypt(cipher, context, body).map_err(OpenError::Sealed)
    }

    /// Opens a value that must be text (a PEM, a client secret).
    pub fn open_text(&self, context: &str, sealed: &str) -> Result<String, OpenError> {
        String::from_utf8(self.open(context, sealed)?)
            .map_err(|_| OpenError::Sealed(SealError::Malformed))
    }

    fn split(value: &str) -> Option<(&str, &str)> {
        let rest = value.strip_prefix(PREFIX)?;
        let (kid, body) = rest.split_once('.')?;
        (kid.len() == 8 && kid.bytes().all(|b| b.is_ascii_hexdigit())).then_some((kid, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_parses_hex_and_base64_and_refuses_other_lengths() {
        let k = MasterKey::generate();
        let hex: String = k.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(MasterKey::parse(&hex).unwrap().0, k.0);
        assert_eq!(MasterKey::parse(&k.encode()).unwrap().0, k.0);
        assert_eq!(
            MasterKey::parse(&format!(" {} \n", URL_SAFE_NO_PAD.encode(k.0)))
                .unwrap()
                .0,
            k.0
        );
        let short = MasterKey::parse(&STANDARD.encode([1u8; 16])).unwrap_err();
        assert!(short.to_string().contains("16 bytes"), "{short}");
        assert!(MasterKey::parse("not a key!").is_err());
        assert!(MasterKey::parse("").is_err());
    }

    #[test]
    fn sealed_value_names_its_key_and_opens_only_with_it_and_its_context() {
        let k = MasterKey::generate();
        let ring = Keyring::new(&k, &[]);
        let sealed = ring.seal("idp-secret:1", b"s3cret").unwrap();
        assert!(sealed.starts_with(&format!("v2.{}.", k.kid())));
        assert!(ring.is_current(&sealed) && Keyring::is_sealed(&sealed));
        assert_eq!(ring.open_text("idp-secret:1", &sealed).unwrap(), "s3cret");
        assert_eq!(
            ring.open("idp-secret:2", &sealed),
            Err(OpenError::Sealed(SealError::Rejected))
        );
        let other = Keyring::new(&MasterKey::generate(), &[]);
        assert!(matches!(
            other.open("idp-secret:1", &sealed),
            Err(OpenError::UnknownKey(_))
        ));
        assert_eq!(ring.open("c", "plain"), Err(OpenError::NotSealed));
        assert!(!Keyring::is_sealed("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn a_rotated_keyring_opens_old_values_and_seals_under_the_new_key() {
        let old = MasterKey::generate();
        let new = MasterKey::generate();
        let sealed_old = Keyring::new(&old, &[]).seal("c", b"v").unwrap();
        let ring = Keyring::new(&new, std::slice::from_ref(&old));
        assert!(!ring.is_current(&sealed_old));
        assert_eq!(ring.open("c", &sealed_old).unwrap(), b"v");
        assert!(ring.is_current(&ring.seal("c", b"v").unwrap()));
    }

    #[test]
    fn master_key_and_keyring_never_print_the_key() {
        let k = MasterKey::generate();
        assert_eq!(format!("{k:?}"), "[redacted]");
        let ring = format!("{:?}", Keyring::new(&k, &[]));
        assert!(!ring.contains(&k.encode()));
        assert!(ring.contains(&k.kid()));
    }
}
