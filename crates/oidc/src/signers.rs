//! What signs and verifies with a signing key, made once when the key is
//! loaded (`keys.rs`).
//!
//! A key's PEM is read once. The public JWK is written from the key's own
//! numbers, not read back through another parse: OpenSSL 3 looks up its
//! decoders again for every PEM it reads, and reading each key three times
//! (key pair, signer, verifier) was a quarter of a start (perf, stop 23).
//!
//! - An RS256 key's PKCS#8 PEM is unwrapped here to its PKCS#1 key, which
//!   OpenSSL reads without looking up decoders ([`rsa_from_pkcs8`]); any
//!   other encoding goes to OpenSSL's generic reader.
//! - RS256 signs with OpenSSL through contexts prepared once (PKCS#1 v1.5
//!   padding, SHA-256) and kept for the next signature ([`RsaSigner`]): a
//!   signature is then the RSA operation on a SHA-256 digest, what `openssl
//!   speed` measures, without OpenSSL 3 fetching the digest and the
//!   signature algorithm again for every token. Never the `rsa` crate
//!   (RUSTSEC-2023-0071).
//! - ES256 and EdDSA sign with `ring` ([`RingSigner`]), from the PKCS#8 DER
//!   in the PEM; OpenSSL reads a PEM that is not PKCS#8 (a SEC 1 EC key).
//! - Each verifies with the same library it signs with; the tests check the
//!   signatures with josekit's own verifiers built from the published JWK.

use crate::keys::SigningAlg;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsAlgorithm, JwsSigner, JwsVerifier, RS256};
use openssl::error::ErrorStack;
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use ring::signature::KeyPair;
use serde_json::Value;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// What a loaded key signs with, verifies with, and publishes.
pub struct KeyParts {
    pub signer: Box<dyn JwsSigner>,
    pub verifier: Box<dyn JwsVerifier>,
    /// `kty` and the public numbers (RFC 7518 §6, RFC 8037 §2); the caller
    /// adds `kid`, `use` and `alg`.
    pub public_jwk: Jwk,
}

/// Reads `pem` (a private key of `alg`) once.
pub fn parse(alg: SigningAlg, pem: &[u8]) -> anyhow::Result<KeyParts> {
    match alg {
        SigningAlg::Rs256 => rsa(pem),
        SigningAlg::Es256 | SigningAlg::EdDsa => ring_key(alg, pem),
    }
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(URL_SAFE_NO_PAD.encode(bytes))
}

fn jwk(kty: &str, params: &[(&str, Value)]) -> anyhow::Result<Jwk> {
    let mut jwk = Jwk::new(kty);
    for (k, v) in params {
        jwk.set_parameter(k, Some(v.clone()))?;
    }
    Ok(jwk)
}

fn rsa(pem: &[u8]) -> anyhow::Result<KeyParts> {
    let pkey = match pkcs8_der(pem).and_then(|der| rsa_from_pkcs8(&der)) {
        Some(pkey) => pkey,
        None => PKey::private_key_from_pem(pem)?,
    };
    let rsa = pkey.rsa()?;
    anyhow::ensure!(
        rsa.size() >= 256,
        "an RS256 key has at least 2048 bits, this one {}",
        rsa.size() * 8
    );
    let public_jwk = jwk(
        "RSA",
        &[("n", b64(&rsa.n().to_vec())), ("e", b64(&rsa.e().to_vec()))],
    )?;
    let key = Arc::new(RsaKey {
        len: rsa.size() as usize,
        pkey,
        signing: Mutex::default(),
        verifying: Mutex::default(),
    });
    Ok(KeyParts {
        signer: Box::new(RsaSigner(key.clone())),
        verifier: Box::new(RsaVerifier(key)),
        public_jwk,
    })
}

/// Prepared contexts kept per key and purpose: as many as signatures ran at
/// once, up to this.
const MAX_READY: usize = 64;

struct RsaKey {
    pkey: PKey<Private>,
    /// The signature's length (the modulus's).
    len: usize,
    signing: Mutex<Vec<PkeyCtx<Private>>>,
    verifying: Mutex<Vec<PkeyCtx<Private>>>,
}

impl RsaKey {
    /// Runs `f` on a context prepared for RSASSA-PKCS1-v1_5 with SHA-256 (a
    /// kept one, or a new one), and keeps it for the next call unless `f`
    /// failed.
    fn with_ctx<R>(
        &self,
        signing: bool,
        f: impl FnOnce(&mut PkeyCtx<Private>) -> Result<R, ErrorStack>,
    ) -> Result<R, ErrorStack> {
        let ready = if signing {
            &self.signing
        } else {
            &self.verifying
        };
        let kept = ready.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut ctx = match kept {
            Some(ctx) => ctx,
            None => {
                let mut ctx = PkeyCtx::new(&self.pkey)?;
                if signing {
                    ctx.sign_init()?;
                } else {
                    ctx.verify_init()?;
                }
                ctx.set_rsa_padding(Padding::PKCS1)?;
                ctx.set_signature_md(Md::sha256())?;
                ctx
            }
        };
        let out = f(&mut ctx)?;
        let mut ready = ready.lock().unwrap_or_else(PoisonError::into_inner);
        if ready.len() < MAX_READY {
            ready.push(ctx);
        }
        Ok(out)
    }
}

/// Signs RS256 with OpenSSL through prepared contexts (see the module doc).
#[derive(Clone)]
pub struct RsaSigner(Arc<RsaKey>);

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaSigner([redacted])")
    }
}

impl JwsSigner for RsaSigner {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &RS256
    }

    /// The `kid` is set on each header (`tokens::sign_with`).
    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        self.0.len
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let digest = openssl::sha::sha256(message);
        let mut signature = vec![0; self.0.len];
        let written = self
            .0
            .with_ctx(true, |ctx| ctx.sign(&digest, Some(&mut signature)))
            .map_err(|e| JoseError::InvalidSignature(e.into()))?;
        signature.truncate(written);
        Ok(signature)
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

/// Verifies RS256 with the same key and prepared contexts.
#[derive(Clone)]
pub struct RsaVerifier(Arc<RsaKey>);

impl fmt::Debug for RsaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaVerifier")
    }
}

impl JwsVerifier for RsaVerifier {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &RS256
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let digest = openssl::sha::sha256(message);
        // A wrong signature is `Ok(false)` or an error OpenSSL queued (which
        // `ErrorStack` takes off the queue); neither keeps the context from
        // the next verification.
        match self.0.with_ctx(false, |ctx| ctx.verify(&digest, signature)) {
            Ok(true) => Ok(()),
            _ => Err(JoseError::InvalidSignature(anyhow::anyhow!(
                "the RS256 signature does not verify"
            ))),
        }
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(self.clone())
    }
}

/// The DER of a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), or `None` for
/// another label (SEC 1 `EC PRIVATE KEY`, …), which OpenSSL reads instead.
fn pkcs8_der(pem: &[u8]) -> Option<Vec<u8>> {
    match pem_rfc7468::decode_vec(pem) {
        Ok(("PRIVATE KEY", der)) => Some(der),
        _ => None,
    }
}

/// The RSA key in a PKCS#8 DER (RFC 5208: `rsaEncryption`, the PKCS#1
/// `RSAPrivateKey` in the `privateKey` octets), read by OpenSSL's PKCS#1
/// decoder directly; `None` for anything else, which OpenSSL's generic
/// reader then takes. That reader looks its decoders up for every key: about
/// 0.7 ms a key, 2 ms for the first, the largest part of a start (stop 28),
/// against 0.01 ms here.
fn rsa_from_pkcs8(der: &[u8]) -> Option<PKey<Private>> {
    use pkcs8::der::Decode;
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).ok()?;
    if info.algorithm.oid != pkcs8::ObjectIdentifier::new_unwrap(RSA_ENCRYPTION) {
        return None;
    }
    let rsa = openssl::rsa::Rsa::private_key_from_der(info.private_key.as_bytes()).ok()?;
    PKey::from_rsa(rsa).ok()
}

/// `rsaEncryption` (RFC 8017 §A.1).
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

enum RingKey {
    Es256(ring::signature::EcdsaKeyPair),
    Ed25519(ring::signature::Ed25519KeyPair),
}

/// An ES256 or EdDSA key signing with `ring`: the signature is already in
/// the JWS form (P-256: `r || s`, 64 bytes, RFC 7518 §3.4; Ed25519: 64 bytes,
/// RFC 8037 §3.1). OpenSSL 3 looked its algorithm up again for every
/// signature, a third of an ES256 `client_credentials` request (bench/run,
/// stop 21).
#[derive(Clone)]
pub struct RingSigner {
    key: Arc<RingKey>,
    rng: ring::rand::SystemRandom,
}

impl fmt::Debug for RingSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RingSigner([redacted])")
    }
}

fn ring_key(alg: SigningAlg, pem: &[u8]) -> anyhow::Result<KeyParts> {
    let der = match pkcs8_der(pem) {
        Some(der) => der,
        None => PKey::private_key_from_pem(pem)?.private_key_to_pkcs8()?,
    };
    let rng = ring::rand::SystemRandom::new();
    let bad = |e: ring::error::KeyRejected| anyhow::anyhow!("not a {alg} key: {e}");
    type VerifyAlg = &'static dyn ring::signature::VerificationAlgorithm;
    // The key, its public key as ring verifies with it, and its JWK.
    let (key, public, jwk, verify_alg): (_, Vec<u8>, _, VerifyAlg) = match alg {
        SigningAlg::Es256 => {
            let kp = ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
                &rng,
            )
            .map_err(bad)?;
            // The uncompressed point: 0x04 || x || y (SEC 1 §2.3.3).
            let point = kp.public_key().as_ref().to_vec();
            anyhow::ensure!(point.len() == 65 && point[0] == 4, "not a P-256 point");
            let jwk = jwk(
                "EC",
                &[
                    ("crv", Value::String("P-256".into())),
                    ("x", b64(&point[1..33])),
                    ("y", b64(&point[33..])),
                ],
            )?;
            let verify = &ring::signature::ECDSA_P256_SHA256_FIXED;
            (RingKey::Es256(kp), point, jwk, verify)
        }
        SigningAlg::EdDsa => {
            let kp =
                ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(bad)?;
            let public = kp.public_key().as_ref().to_vec();
            let jwk = jwk(
                "OKP",
                &[
                    ("crv", Value::String("Ed25519".into())),
                    ("x", b64(&public)),
                ],
            )?;
            (RingKey::Ed25519(kp), public, jwk, &ring::signature::ED25519)
        }
        SigningAlg::Rs256 => anyhow::bail!("RS256 keys sign with OpenSSL"),
    };
    let signer = RingSigner {
        key: Arc::new(key),
        rng,
    };
    let verifier = RingVerifier {
        jws: signer.jws_algorithm(),
        verify_alg,
        public: Arc::from(public),
    };
    Ok(KeyParts {
        signer: Box::new(signer),
        verifier: Box::new(verifier),
        public_jwk: jwk,
    })
}

impl RingSigner {
    fn jws_algorithm(&self) -> &'static dyn JwsAlgorithm {
        match *self.key {
            RingKey::Es256(_) => &ES256,
            RingKey::Ed25519(_) => &EdDSA,
        }
    }
}

impl JwsSigner for RingSigner {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        self.jws_algorithm()
    }

    /// The `kid` is set on each header (`tokens::sign_with`).
    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        64
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        match &*self.key {
            RingKey::Es256(k) => k
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::InvalidSignature(anyhow::anyhow!("P-256 signing failed"))),
            RingKey::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

/// Verifies ES256 or EdDSA with `ring` and the key's public point.
#[derive(Clone)]
pub struct RingVerifier {
    jws: &'static dyn JwsAlgorithm,
    verify_alg: &'static dyn ring::signature::VerificationAlgorithm,
    public: Arc<[u8]>,
}

impl fmt::Debug for RingVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RingVerifier({})", self.jws.name())
    }
}

impl JwsVerifier for RingVerifier {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        self.jws
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        ring::signature::UnparsedPublicKey::new(self.verify_alg, &*self.public)
            .verify(message, signature)
            .map_err(|_| {
                JoseError::InvalidSignature(anyhow::anyhow!(
                    "the {} signature does not verify",
                    self.jws.name()
                ))
            })
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PKCS#8 PEM as OpenSSL writes it is decoded here, to the DER OpenSSL
    /// reads from it (so ring never waits on OpenSSL's decoders); a SEC 1
    /// PEM is left to OpenSSL.
    #[test]
    fn pkcs8_pem_is_decoded_without_openssl() {
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let ec = openssl::ec::EcKey::generate(&group).unwrap();
        let key = PKey::from_ec_key(ec.clone()).unwrap();
        let pem = key.private_key_to_pem_pkcs8().unwrap();
        assert_eq!(pkcs8_der(&pem), Some(key.private_key_to_pkcs8().unwrap()));
        assert_eq!(pkcs8_der(&ec.private_key_to_pem().unwrap()), None);
        assert_eq!(
            pkcs8_der(b"-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n"),
            None
        );
    }

    /// An RSA key in PKCS#8 is read by the PKCS#1 decoder (the same numbers
    /// as OpenSSL's generic reader finds); other keys are not, and a PKCS#1
    /// PEM still loads through the generic reader.
    #[test]
    fn rsa_pkcs8_is_read_by_the_pkcs1_decoder() {
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let der = key.private_key_to_pkcs8().unwrap();
        let fast = rsa_from_pkcs8(&der).expect("an RSA PKCS#8 key");
        let generic = PKey::private_key_from_der(&der).unwrap();
        assert!(fast.public_eq(&generic));
        assert_eq!(
            fast.rsa().unwrap().d().to_vec(),
            generic.rsa().unwrap().d().to_vec()
        );

        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let ec = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
        assert!(rsa_from_pkcs8(&ec.private_key_to_pkcs8().unwrap()).is_none());
        assert!(rsa_from_pkcs8(b"not DER").is_none());

        let pkcs1 = key.rsa().unwrap().private_key_to_pem().unwrap();
        assert!(String::from_utf8_lossy(&pkcs1).starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let parts = parse(SigningAlg::Rs256, &pkcs1).unwrap();
        let from_pkcs8 =
            parse(SigningAlg::Rs256, &key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        assert_eq!(parts.public_jwk, from_pkcs8.public_jwk);
        let sig = from_pkcs8.signer.sign(b"payload").unwrap();
        parts.verifier.verify(b"payload", &sig).unwrap();
    }
}
