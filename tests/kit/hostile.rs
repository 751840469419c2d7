//! A hostile upstream OpenID provider for federation attack tests.
//!
//! Portico, as a relying party, signs guests in through their "home" IdP. This
//! module is such an IdP that the test controls completely: it has no login
//! page (the attacker controls the upstream anyway), `/authorize` answers at
//! once with a code, and `/token` answers with an ID token crafted for the
//! current [`Scenario`]: honest, unsigned, signed with the wrong key, for the
//! wrong audience, expired, with the wrong nonce, or not answering at all.
//! Everything it receives is recorded so a test can assert what the relying
//! party sent (state, nonce, PKCE challenge and verifier, client
//! authentication).
//!
//! It knows two RSA keys: key A (kid `key-a`) is always published in the JWKS;
//! key B (kid `key-b`) only while the scenario is [`Scenario::RotatedKey`].
//! Nothing here is Portico-specific.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{JwsSigner, RS256};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

/// Key id of key A, always published.
pub const KID_A: &str = "key-a";
/// Key id of key B, published only under [`Scenario::RotatedKey`].
pub const KID_B: &str = "key-b";
/// The other audience / authorized party the hostile tokens name.
pub const OTHER_AUDIENCE: &str = "other";
/// How long the `Hang*` scenarios keep a request waiting.
pub const HANG: Duration = Duration::from_secs(120);
/// Path the [`Scenario::RedirectDiscovery`] redirect points to. It serves the
/// honest discovery document, so a relying party that follows the redirect
/// would succeed (and is counted by [`HostileIdp::redirect_target_fetches`]).
pub const REDIRECT_TARGET_PATH: &str = "/moved/.well-known/openid-configuration";

/// What the upstream does on the next requests. Authorize-side scenarios act
/// on `/authorize`, the others on `/token` (or discovery, JWKS, userinfo).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scenario {
    /// A correct provider: RS256 with key A, right iss/aud/nonce, fresh times.
    #[default]
    Honest,
    /// Header `{"alg":"none"}` and an empty signature.
    AlgNone,
    /// HS256 keyed with the client secret (the RP only accepts RS256).
    Hs256WithClientSecret,
    /// HS256 keyed with key A's public key in PEM (the classic RS/HS confusion).
    Hs256WithPublicKey,
    /// Signed with key B, kid `key-b`, which is not published.
    ForeignKey,
    /// Signed with key B, but the header claims kid `key-a`.
    ForeignKeyWithKidA,
    /// Signed with key B, kid `key-b`, and key B is now published next to A
    /// (a legitimate rotation: the RP should refetch the JWKS once).
    RotatedKey,
    /// `iss` is another issuer.
    WrongIssuer,
    /// `aud` is another client.
    WrongAudience,
    /// `aud` is `[client_id, "other"]`, no `azp`.
    ExtraAudienceNoAzp,
    /// `azp` is `"other"` (aud is the client).
    WrongAzp,
    /// `exp` ten minutes ago, `iat` fifteen minutes ago.
    Expired,
    /// `iat` an hour in the future.
    IssuedInFuture,
    /// `nonce` is not the one sent to `/authorize`.
    WrongNonce,
    /// No `nonce` claim.
    MissingNonce,
    /// `nonce` is this fixed (old) value.
    ReplayNonce(String),
    /// The token endpoint answers with exactly this ID token (see
    /// [`HostileIdp::sign_id_token`]).
    FixedIdToken(String),
    /// Honest ID token, but userinfo answers for another `sub`.
    UserinfoOtherSub,
    /// `/authorize` redirects back with a different `state`.
    WrongState,
    /// `/authorize` redirects back without `state`.
    MissingState,
    /// `/authorize` redirects back with `error=access_denied` (and the state).
    AuthorizeError,
    /// `/token` answers 400 `{"error":"invalid_grant"}`.
    TokenError,
    /// `/token` waits [`HANG`] before answering honestly.
    Hang,
    /// Discovery waits [`HANG`] before answering.
    HangDiscovery,
    /// Discovery answers 200 `text/html` `<html>nope</html>`.
    GarbageDiscovery,
    /// `/token` answers 200 `not json` (labelled `application/json`).
    GarbageToken,
    /// Discovery answers 302 to [`REDIRECT_TARGET_PATH`].
    RedirectDiscovery,
}

/// How [`HostileIdp::sign_id_token`] signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    /// RS256 with key A, kid `key-a` (the honest signature).
    A,
    /// RS256 with key B, kid `key-b`.
    B,
    /// RS256 with key B, but kid `key-a` in the header.
    BWithKidA,
    /// `{"alg":"none"}`, empty signature.
    None,
    /// HS256 with these key bytes, no kid.
    Hs256(Vec<u8>),
}

/// The end-user the next ID token (and userinfo) asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    /// `auth_time`, this many seconds before the token is issued; none without.
    pub auth_seconds_ago: Option<i64>,
    /// `amr` and `acr`, when set.
    pub amr: Option<Vec<String>>,
    pub acr: Option<String>,
}

impl Default for Identity {
    /// `upstream-bob`, `bob@fabrikam.example` (verified), "Bob Fabrikam".
    fn default() -> Self {
        Self {
            sub: "upstream-bob".into(),
            email: Some("bob@fabrikam.example".into()),
            email_verified: Some(true),
            name: Some("Bob Fabrikam".into()),
            auth_seconds_ago: None,
            amr: None,
            acr: None,
        }
    }
}

/// One `/authorize` request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeSeen {
    /// Every query parameter, in order (repeats included).
    pub params: Vec<(String, String)>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// The code put in the redirect (none for `AuthorizeError` or a missing redirect_uri).
    pub code_issued: Option<String>,
}

impl AuthorizeSeen {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        first(&self.params, name)
    }
}

/// One `/token` request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequestSeen {
    /// Every form parameter, in order (repeats included).
    pub params: Vec<(String, String)>,
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub code_verifier: Option<String>,
    pub redirect_uri: Option<String>,
    /// `client_id` / `client_secret` from the form body (client_secret_post).
    pub post_client_id: Option<String>,
    pub post_client_secret: Option<String>,
    /// `(client_id, client_secret)` from `Authorization: Basic`, form-decoded
    /// as RFC 6749 §2.3.1 says (client_secret_basic).
    pub basic_auth: Option<(String, String)>,
    /// The raw `Authorization` header, if any.
    pub authorization_header: Option<String>,
}

impl TokenRequestSeen {
    /// The first value of form parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        first(&self.params, name)
    }
}

struct Inner {
    scenario: Scenario,
    identity: Identity,
    /// code → nonce of the authorize request it was issued for.
    codes: HashMap<String, Option<String>>,
    authorizations: Vec<AuthorizeSeen>,
    token_requests: Vec<TokenRequestSeen>,
    discovery_fetches: usize,
    redirect_target_fetches: usize,
    jwks_fetches: usize,
    userinfo_fetches: usize,
}

struct Shared {
    issuer: String,
    client_id: String,
    client_secret: String,
    key_a: Box<dyn JwsSigner>,
    key_b: Box<dyn JwsSigner>,
    jwk_a: Jwk,
    jwk_b: Jwk,
    /// Key A's public key as PEM, for [`Scenario::Hs256WithPublicKey`].
    pem_a: Vec<u8>,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking handler must not take the other tests' assertions with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The hostile upstream IdP on a free localhost port; stops when dropped.
pub struct HostileIdp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    state: Arc<Shared>,
    task: JoinHandle<()>,
}

impl HostileIdp {
    /// Starts the provider for one registered client (scenario `Honest`,
    /// identity `Identity::default()`).
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind the hostile IdP");
        let port = listener.local_addr().expect("local addr").port();
        let issuer = format!("http://127.0.0.1:{port}");
        let (key_a, jwk_a, pem_a) = rsa_key(KID_A);
        let (key_b, jwk_b, _) = rsa_key(KID_B);
        let state = Arc::new(Shared {
            issuer: issuer.clone(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            key_a,
            key_b,
            jwk_a,
            jwk_b,
            pem_a,
            inner: Mutex::new(Inner {
                scenario: Scenario::Honest,
                identity: Identity::default(),
                codes: HashMap::new(),
                authorizations: Vec::new(),
                token_requests: Vec::new(),
                discovery_fetches: 0,
                redirect_target_fetches: 0,
                jwks_fetches: 0,
                userinfo_fetches: 0,
            }),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route(REDIRECT_TARGET_PATH, get(redirect_target))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo).post(userinfo))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            issuer,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            state,
            task,
        }
    }

    /// `issuer` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Stops listening: new connections are refused; open keep-alive
    /// connections are closed once their current request is answered.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// What the following requests do.
    pub fn set_scenario(&self, scenario: Scenario) {
        self.state.lock().scenario = scenario;
    }

    pub fn scenario(&self) -> Scenario {
        self.state.lock().scenario.clone()
    }

    /// Who the following ID tokens and userinfo answers are about.
    pub fn set_identity(&self, identity: Identity) {
        self.state.lock().identity = identity;
    }

    /// The latest `/authorize` request.
    pub fn last_authorize(&self) -> Option<AuthorizeSeen> {
        self.state.lock().authorizations.last().cloned()
    }

    /// Every `/authorize` request so far, oldest first.
    pub fn authorizations(&self) -> Vec<AuthorizeSeen> {
        self.state.lock().authorizations.clone()
    }

    /// The latest `/token` request.
    pub fn last_token_request(&self) -> Option<TokenRequestSeen> {
        self.state.lock().token_requests.last().cloned()
    }

    /// Every `/token` request so far, oldest first.
    pub fn token_requests(&self) -> Vec<TokenRequestSeen> {
        self.state.lock().token_requests.clone()
    }

    /// How many times `/jwks` was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.lock().jwks_fetches
    }

    /// How many times the discovery document was requested.
    pub fn discovery_fetches(&self) -> usize {
        self.state.lock().discovery_fetches
    }

    /// How many times [`REDIRECT_TARGET_PATH`] was fetched (a relying party
    /// that follows discovery redirects).
    pub fn redirect_target_fetches(&self) -> usize {
        self.state.lock().redirect_target_fetches
    }

    /// How many times `/userinfo` was requested.
    pub fn userinfo_fetches(&self) -> usize {
        self.state.lock().userinfo_fetches
    }

    /// The ID token `/token` would return now for a code issued with `nonce`
    /// (the current scenario's token; `FixedIdToken` returns its token).
    pub fn id_token_for_nonce(&self, nonce: Option<&str>) -> String {
        let (scenario, identity) = {
            let inner = self.state.lock();
            (inner.scenario.clone(), inner.identity.clone())
        };
        scenario_id_token(&self.state, &scenario, &identity, nonce.map(str::to_owned))
    }

    /// The claims an honest ID token for the current identity carries
    /// (iss, sub, aud, iat, exp, the nonce if given, email, email_verified,
    /// name), to tweak and sign with [`sign_id_token`](Self::sign_id_token).
    pub fn honest_claims(&self, nonce: Option<&str>) -> Value {
        let identity = self.state.lock().identity.clone();
        honest_claims(&self.state, &identity, nonce.map(str::to_owned))
    }

    /// A compact JWS of `claims` signed as `key` says (header `typ: JWT`
    /// and the key's kid, except for `None` and `Hs256`).
    pub fn sign_id_token(&self, claims: Value, key: KeyChoice) -> String {
        sign(&self.state, &claims, &key)
    }

    /// Key A's public key as PEM (the HMAC key of [`Scenario::Hs256WithPublicKey`]).
    pub fn key_a_public_pem(&self) -> String {
        String::from_utf8_lossy(&self.state.pem_a).into_owned()
    }

    /// Key A's public JWK (kid `key-a`).
    pub fn jwk_a(&self) -> Value {
        jwk_json(&self.state.jwk_a)
    }

    /// Key B's public JWK (kid `key-b`).
    pub fn jwk_b(&self) -> Value {
        jwk_json(&self.state.jwk_b)
    }
}

impl Drop for HostileIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn first<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn owned(params: &[(String, String)], name: &str) -> Option<String> {
    first(params, name).map(str::to_owned)
}

fn parse_form(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn rsa_key(kid: &str) -> (Box<dyn JwsSigner>, Jwk, Vec<u8>) {
    let pair = RS256.generate_key_pair(2048).expect("generate an RSA key");
    let mut private = pair.to_jwk_private_key();
    private.set_key_id(kid);
    let signer = RS256.signer_from_jwk(&private).expect("RSA signer");
    let mut public = pair.to_jwk_public_key();
    public.set_key_id(kid);
    public.set_algorithm("RS256");
    public.set_key_use("sig");
    (Box::new(signer), public, pair.to_pem_public_key())
}

fn jwk_json(jwk: &Jwk) -> Value {
    serde_json::to_value(jwk.as_ref()).expect("JWK as JSON")
}

/// Seconds since the epoch by the system clock.
// The upstream is a separate party with its own clock: it does not follow
// Portico's (possibly manual) Clock, just as a real home IdP would not.
#[allow(clippy::disallowed_methods)]
fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(state: &Shared, claims: &Value, key: &KeyChoice) -> String {
    let (header, signer): (Value, Option<&dyn JwsSigner>) = match key {
        KeyChoice::A => (
            json!({"alg": "RS256", "typ": "JWT", "kid": KID_A}),
            Some(state.key_a.as_ref()),
        ),
        KeyChoice::B => (
            json!({"alg": "RS256", "typ": "JWT", "kid": KID_B}),
            Some(state.key_b.as_ref()),
        ),
        KeyChoice::BWithKidA => (
            json!({"alg": "RS256", "typ": "JWT", "kid": KID_A}),
            Some(state.key_b.as_ref()),
        ),
        KeyChoice::None => (json!({"alg": "none"}), None),
        KeyChoice::Hs256(_) => (json!({"alg": "HS256", "typ": "JWT"}), None),
    };
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = match (key, signer) {
        (KeyChoice::Hs256(secret), _) => hmac_sha256(secret, input.as_bytes()),
        (_, Some(signer)) => signer.sign(input.as_bytes()).expect("RSA signature"),
        (_, None) => Vec::new(),
    };
    format!("{input}.{}", b64(&signature))
}

/// HMAC-SHA-256 (RFC 2104) by hand: josekit refuses keys shorter than 32
/// bytes, and an attacker uses whatever key the victim would.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest = Sha256::digest(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn honest_claims(state: &Shared, identity: &Identity, nonce: Option<String>) -> Value {
    let now = now_secs();
    let mut claims = json!({
        "iss": state.issuer,
        "sub": identity.sub,
        "aud": state.client_id,
        "iat": now,
        "exp": now + 300,
    });
    let mut put = |name: &str, value: Value| {
        if let Some(map) = claims.as_object_mut() {
            map.insert(name.to_owned(), value);
        }
    };
    if let Some(nonce) = nonce {
        put("nonce", json!(nonce));
    }
    if let Some(email) = &identity.email {
        put("email", json!(email));
    }
    if let Some(verified) = identity.email_verified {
        put("email_verified", json!(verified));
    }
    if let Some(name) = &identity.name {
        put("name", json!(name));
    }
    if let Some(ago) = identity.auth_seconds_ago {
        put("auth_time", json!(now - ago));
    }
    if let Some(amr) = &identity.amr {
        put("amr", json!(amr));
    }
    if let Some(acr) = &identity.acr {
        put("acr", json!(acr));
    }
    claims
}

/// The ID token of `scenario` for a code issued with `nonce`.
fn scenario_id_token(
    state: &Shared,
    scenario: &Scenario,
    identity: &Identity,
    nonce: Option<String>,
) -> String {
    if let Scenario::FixedIdToken(token) = scenario {
        return token.clone();
    }
    let mut claims = honest_claims(state, identity, nonce);
    let now = now_secs();
    let set = |claims: &mut Value, name: &str, value: Value| {
        if let Some(map) = claims.as_object_mut() {
            map.insert(name.to_owned(), value);
        }
    };
    let mut key = KeyChoice::A;
    match scenario {
        Scenario::AlgNone => key = KeyChoice::None,
        Scenario::Hs256WithClientSecret => {
            key = KeyChoice::Hs256(state.client_secret.as_bytes().to_vec())
        }
        Scenario::Hs256WithPublicKey => key = KeyChoice::Hs256(state.pem_a.clone()),
        Scenario::ForeignKey | Scenario::RotatedKey => key = KeyChoice::B,
        Scenario::ForeignKeyWithKidA => key = KeyChoice::BWithKidA,
        Scenario::WrongIssuer => set(&mut claims, "iss", json!("http://evil.example")),
        Scenario::WrongAudience => set(&mut claims, "aud", json!(OTHER_AUDIENCE)),
        Scenario::ExtraAudienceNoAzp => {
            set(&mut claims, "aud", json!([state.client_id, OTHER_AUDIENCE]));
        }
        Scenario::WrongAzp => set(&mut claims, "azp", json!(OTHER_AUDIENCE)),
        Scenario::Expired => {
            set(&mut claims, "exp", json!(now - 600));
            set(&mut claims, "iat", json!(now - 900));
        }
        Scenario::IssuedInFuture => {
            set(&mut claims, "iat", json!(now + 3600));
            set(&mut claims, "exp", json!(now + 3900));
        }
        Scenario::WrongNonce => set(
            &mut claims,
            "nonce",
            json!(format!("hostile-{}", uuid::Uuid::new_v4().simple())),
        ),
        Scenario::MissingNonce => {
            if let Some(map) = claims.as_object_mut() {
                map.remove("nonce");
            }
        }
        Scenario::ReplayNonce(old) => set(&mut claims, "nonce", json!(old)),
        _ => {}
    }
    sign(state, &claims, &key)
}

fn discovery_document(state: &Shared) -> Value {
    let issuer = &state.issuer;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "azp",
                             "email", "email_verified", "name"],
    })
}

async fn discovery(State(state): State<Arc<Shared>>) -> Response {
    let scenario = {
        let mut inner = state.lock();
        inner.discovery_fetches += 1;
        inner.scenario.clone()
    };
    match scenario {
        Scenario::HangDiscovery => {
            tokio::time::sleep(HANG).await;
            axum::Json(discovery_document(&state)).into_response()
        }
        Scenario::GarbageDiscovery => {
            ([(header::CONTENT_TYPE, "text/html")], "<html>nope</html>").into_response()
        }
        Scenario::RedirectDiscovery => (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("{}{REDIRECT_TARGET_PATH}", state.issuer),
            )],
        )
            .into_response(),
        _ => axum::Json(discovery_document(&state)).into_response(),
    }
}

async fn redirect_target(State(state): State<Arc<Shared>>) -> Response {
    state.lock().redirect_target_fetches += 1;
    axum::Json(discovery_document(&state)).into_response()
}

async fn jwks(State(state): State<Arc<Shared>>) -> Response {
    let rotated = {
        let mut inner = state.lock();
        inner.jwks_fetches += 1;
        inner.scenario == Scenario::RotatedKey
    };
    let mut keys = vec![jwk_json(&state.jwk_a)];
    if rotated {
        keys.push(jwk_json(&state.jwk_b));
    }
    axum::Json(json!({ "keys": keys })).into_response()
}

async fn authorize(State(state): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let mut seen = AuthorizeSeen {
        client_id: owned(&params, "client_id"),
        redirect_uri: owned(&params, "redirect_uri"),
        response_type: owned(&params, "response_type"),
        scope: owned(&params, "scope"),
        state: owned(&params, "state"),
        nonce: owned(&params, "nonce"),
        code_challenge: owned(&params, "code_challenge"),
        code_challenge_method: owned(&params, "code_challenge_method"),
        code_issued: None,
        params,
    };
    let mut inner = state.lock();
    let scenario = inner.scenario.clone();
    let target = seen
        .redirect_uri
        .as_deref()
        .and_then(|uri| url::Url::parse(uri).ok());
    let Some(mut target) = target else {
        inner.authorizations.push(seen);
        return (StatusCode::BAD_REQUEST, "redirect_uri missing or not a URL").into_response();
    };
    let returned_state = match scenario {
        Scenario::WrongState => Some(format!("hostile-{}", uuid::Uuid::new_v4().simple())),
        Scenario::MissingState => None,
        _ => seen.state.clone(),
    };
    {
        let mut pairs = target.query_pairs_mut();
        if scenario == Scenario::AuthorizeError {
            pairs.append_pair("error", "access_denied");
        } else {
            let code = uuid::Uuid::new_v4().simple().to_string();
            pairs.append_pair("code", &code);
            inner.codes.insert(code.clone(), seen.nonce.clone());
            seen.code_issued = Some(code);
        }
        if let Some(s) = &returned_state {
            pairs.append_pair("state", s);
        }
    }
    inner.authorizations.push(seen);
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, target.to_string())],
    )
        .into_response()
}

/// `Authorization: Basic` → (client_id, client_secret), form-decoded.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value
        .strip_prefix("Basic ")
        .or(value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let form_decode = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((form_decode(id), form_decode(secret)))
}

async fn token(State(state): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = parse_form(&body);
    let authorization_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let seen = TokenRequestSeen {
        grant_type: owned(&params, "grant_type"),
        code: owned(&params, "code"),
        code_verifier: owned(&params, "code_verifier"),
        redirect_uri: owned(&params, "redirect_uri"),
        post_client_id: owned(&params, "client_id"),
        post_client_secret: owned(&params, "client_secret"),
        basic_auth: authorization_header.as_deref().and_then(basic_credentials),
        authorization_header,
        params,
    };
    let (scenario, identity, nonce) = {
        let mut inner = state.lock();
        let nonce = seen
            .code
            .as_ref()
            .and_then(|code| inner.codes.get(code).cloned())
            .flatten();
        inner.token_requests.push(seen);
        (inner.scenario.clone(), inner.identity.clone(), nonce)
    };
    let no_store = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ];
    match scenario {
        Scenario::TokenError => {
            return (
                StatusCode::BAD_REQUEST,
                no_store,
                axum::Json(json!({"error": "invalid_grant"})),
            )
                .into_response();
        }
        Scenario::GarbageToken => {
            return (
                no_store,
                [(header::CONTENT_TYPE, "application/json")],
                "not json",
            )
                .into_response();
        }
        Scenario::Hang => tokio::time::sleep(HANG).await,
        _ => {}
    }
    let id_token = scenario_id_token(&state, &scenario, &identity, nonce);
    (
        no_store,
        axum::Json(json!({
            "access_token": format!("at-{}", uuid::Uuid::new_v4().simple()),
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "openid profile email",
            "id_token": id_token,
        })),
    )
        .into_response()
}

async fn userinfo(State(state): State<Arc<Shared>>) -> Response {
    let (scenario, identity) = {
        let mut inner = state.lock();
        inner.userinfo_fetches += 1;
        (inner.scenario.clone(), inner.identity.clone())
    };
    let sub = match scenario {
        Scenario::UserinfoOtherSub => format!("other-{}", identity.sub),
        _ => identity.sub,
    };
    let mut body = json!({ "sub": sub });
    if let Some(map) = body.as_object_mut() {
        if let Some(email) = identity.email {
            map.insert("email".into(), json!(email));
        }
        if let Some(verified) = identity.email_verified {
            map.insert("email_verified".into(), json!(verified));
        }
        if let Some(name) = identity.name {
            map.insert("name".into(), json!(name));
        }
    }
    axum::Json(body).into_response()
}
