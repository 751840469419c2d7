//! A software passkey: what a browser with a platform authenticator sends,
//! built by hand so the server's real WebAuthn verification (webauthn-rs)
//! checks real signatures. A P-256 key (OpenSSL), "none" attestation, user
//! presence and user verification set, a counter that goes up.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct SoftPasskey {
    key: EcKey<Private>,
    pub credential_id: Vec<u8>,
    /// The user handle the registration options named (the user's id).
    pub user_handle: Option<Vec<u8>>,
    counter: u32,
    origin: String,
    rp_id: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// CBOR (RFC 8949) head: major type and argument.
fn head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => [vec![m | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![m | 26], (n as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn int(v: i64) -> Vec<u8> {
    if v >= 0 {
        head(0, v as u64)
    } else {
        head(1, (-1 - v) as u64)
    }
}

fn bytes(b: &[u8]) -> Vec<u8> {
    [head(2, b.len() as u64), b.to_vec()].concat()
}

fn text(s: &str) -> Vec<u8> {
    [head(3, s.len() as u64), s.as_bytes().to_vec()].concat()
}

fn map(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    let mut out = head(5, entries.len() as u64);
    for (k, v) in entries {
        out.extend(k);
        out.extend(v);
    }
    out
}

impl SoftPasskey {
    /// A new authenticator for the site at `origin` (`http://localhost:PORT`).
    pub fn new(origin: &str) -> Self {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let url = url::Url::parse(origin).unwrap();
        Self {
            key: EcKey::generate(&group).unwrap(),
            credential_id: uuid::Uuid::new_v4().as_bytes().to_vec(),
            user_handle: None,
            counter: 0,
            origin: origin.trim_end_matches('/').to_string(),
            rp_id: url.host_str().unwrap().to_string(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": options["challenge"].as_str().expect("a challenge"),
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// The authenticator data: RP id hash, flags, counter (and what follows).
    fn auth_data(&self, flags: u8) -> Vec<u8> {
        let mut d = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        d.push(flags);
        d.extend(self.counter.to_be_bytes());
        d
    }

    fn cose_key(&self) -> Vec<u8> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        self.key
            .public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .unwrap();
        // RFC 9053: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
        map(vec![
            (int(1), int(2)),
            (int(3), int(-7)),
            (int(-1), int(1)),
            (int(-2), bytes(&x.to_vec_padded(32).unwrap())),
            (int(-3), bytes(&y.to_vec_padded(32).unwrap())),
        ])
    }

    /// Answers `navigator.credentials.create({publicKey: options})`: the
    /// JSON the page posts back.
    pub fn register(&mut self, options: &Value) -> Value {
        let user_id = options["user"]["id"].as_str().expect("a user id");
        self.user_handle = Some(URL_SAFE_NO_PAD.decode(user_id).unwrap());
        let client_data = self.client_data("webauthn.create", options);
        // UP | UV | AT (attested credential data follows).
        let mut auth = self.auth_data(0x01 | 0x04 | 0x40);
        auth.extend([0u8; 16]); // AAGUID: unknown
        auth.extend((self.credential_id.len() as u16).to_be_bytes());
        auth.extend(&self.credential_id);
        auth.extend(self.cose_key());
        let attestation = map(vec![
            (text("fmt"), text("none")),
            (text("attStmt"), map(vec![])),
            (text("authData"), bytes(&auth)),
        ]);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
            },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get({publicKey: options})`.
    pub fn assert(&mut self, options: &Value) -> Value {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", options);
        let auth = self.auth_data(0x01 | 0x04);
        let mut signed = auth.clone();
        signed.extend(Sha256::digest(&client_data));
        let digest = Sha256::digest(&signed);
        let sig = EcdsaSig::sign(&digest, &self.key)
            .unwrap()
            .to_der()
            .unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&sig),
                "userHandle": self.user_handle.as_deref().map(b64),
            },
            "extensions": {},
        })
    }
}
