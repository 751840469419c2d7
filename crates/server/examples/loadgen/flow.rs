//! One browser per worker (its connection kept alive, redirects not followed,
//! a cookie jar emptied at the start of each flow) and the OpenID Connect
//! steps the load generator times: authorization code + PKCE through the
//! OP's own sign-in and consent pages, the token endpoint, userinfo.

use crate::html;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderValue, LOCATION};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// What went wrong in one iteration: an answer with an unexpected status, or
/// anything else (transport, a page without the expected form, a bad body).
#[derive(Debug)]
pub enum Failure {
    Status(u16, String),
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Status(s, what) => write!(f, "{what}: HTTP {s}"),
            Failure::Other(what) => f.write_str(what),
        }
    }
}

fn other(e: impl std::fmt::Display) -> Failure {
    Failure::Other(e.to_string())
}

/// The OP under test, from its discovery document, and the client and users
/// the flows use.
pub struct Op {
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Url,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub scope: String,
    pub password: String,
}

impl Op {
    pub async fn discover(issuer: &str, client: Client) -> Result<Self, Failure> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc: Value = reqwest::get(&url)
            .await
            .map_err(other)?
            .json()
            .await
            .map_err(other)?;
        let endpoint = |name: &str| -> Result<Url, Failure> {
            doc[name]
                .as_str()
                .and_then(|u| Url::parse(u).ok())
                .ok_or_else(|| Failure::Other(format!("discovery has no {name}")))
        };
        Ok(Self {
            authorization_endpoint: endpoint("authorization_endpoint")?,
            token_endpoint: endpoint("token_endpoint")?,
            userinfo_endpoint: endpoint("userinfo_endpoint")?,
            client_id: client.id,
            client_secret: client.secret,
            redirect_uri: client.redirect_uri,
            scope: client.scope,
            password: client.password,
        })
    }
}

pub struct Client {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
    pub scope: String,
    pub password: String,
}

/// A cookie jar that can be swapped for an empty one: a fresh browser
/// profile per flow without building a new HTTP client (and connection).
#[derive(Default)]
struct SwapJar(Mutex<Arc<Jar>>);

impl SwapJar {
    fn current(&self) -> Arc<Jar> {
        Arc::clone(&self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
    fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(Jar::default());
    }
}

impl CookieStore for SwapJar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        self.current().set_cookies(headers, url);
    }
    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.current().cookies(url)
    }
}

pub struct Browser {
    pub http: reqwest::Client,
    jar: Arc<SwapJar>,
}

pub struct Page {
    pub status: u16,
    pub url: Url,
    pub location: Option<Url>,
    pub body: String,
}

impl Browser {
    pub fn new() -> Result<Self, Failure> {
        let jar = Arc::new(SwapJar::default());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(Arc::clone(&jar))
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(other)?;
        Ok(Self { http, jar })
    }

    /// Forgets every cookie: the next flow starts without a session.
    pub fn new_profile(&self) {
        self.jar.clear();
    }

    async fn page(resp: reqwest::Response) -> Result<Page, Failure> {
        let status = resp.status().as_u16();
        let url = resp.url().clone();
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l).ok());
        let body = resp.text().await.map_err(other)?;
        Ok(Page {
            status,
            url,
            location,
            body,
        })
    }

    pub async fn get(&self, url: Url) -> Result<Page, Failure> {
        Self::page(self.http.get(url).send().await.map_err(other)?).await
    }

    pub async fn post_form(&self, url: Url, form: &[(String, String)]) -> Result<Page, Failure> {
        Self::page(self.http.post(url).form(form).send().await.map_err(other)?).await
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
fn pkce_pair() -> (String, String) {
    let verifier = portico_core::random_token(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_url(op: &Op, challenge: &str, state: &str) -> Url {
    let mut url = op.authorization_endpoint.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &op.client_id)
        .append_pair("redirect_uri", &op.redirect_uri)
        .append_pair("scope", &op.scope)
        .append_pair("state", state)
        .append_pair("nonce", &portico_core::random_token(16))
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        // Consent is asked and accepted on every flow, on both OPs alike
        // (oidc-provider also honours offline_access only with it).
        .append_pair("prompt", "consent");
    url
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Follows redirects within the OP until a page (or a redirect to the client).
async fn follow(b: &Browser, op: &Op, mut page: Page) -> Result<Page, Failure> {
    for _ in 0..10 {
        match &page.location {
            Some(loc)
                if is_redirect(page.status) && !loc.as_str().starts_with(&op.redirect_uri) =>
            {
                page = b.get(loc.clone()).await?;
            }
            _ => return Ok(page),
        }
    }
    Err(Failure::Other("too many redirects".into()))
}

fn expect_page(page: &Page) -> Result<(), Failure> {
    if page.status == 200 {
        Ok(())
    } else {
        Err(Failure::Status(
            page.status,
            format!("GET {}", page.url.path()),
        ))
    }
}

/// The sign-in form of a page, if it shows one.
fn sign_in_form(page: &Page) -> Option<html::Form> {
    html::forms(&page.body)
        .into_iter()
        .find(|f| f.post && !f.hidden && f.has_password())
}

/// The form a consent page asks to submit (the first visible post form that
/// does not cancel).
fn consent_form(page: &Page) -> Option<html::Form> {
    html::forms(&page.body).into_iter().find(|f| {
        f.post && !f.hidden && !f.action.contains("cancel") && !f.action.contains("abort")
    })
}

fn action_url(page: &Page, form: &html::Form) -> Result<Url, Failure> {
    page.url.join(&form.action).map_err(other)
}

/// A code flow up to the code: /authorize, the sign-in form with `user`'s
/// password, the consent form. Returns the code, the PKCE verifier and how
/// many consent pages were accepted.
pub async fn code(b: &Browser, op: &Op, user: &str) -> Result<(String, String, u32), Failure> {
    b.new_profile();
    let (verifier, challenge) = pkce_pair();
    let state = portico_core::random_token(16);
    let mut page = b.get(authorize_url(op, &challenge, &state)).await?;
    let mut signed_in = false;
    let mut consents = 0;
    for _ in 0..8 {
        page = follow(b, op, page).await?;
        if let Some(loc) = page.location.as_ref().filter(|_| is_redirect(page.status)) {
            let q: Vec<(String, String)> = loc.query_pairs().into_owned().collect();
            let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if get("state").as_deref() != Some(state.as_str()) {
                return Err(Failure::Other(format!("redirect without our state: {loc}")));
            }
            return match get("code") {
                Some(code) => Ok((code, verifier, consents)),
                None => Err(Failure::Other(format!("no code: {loc}"))),
            };
        }
        expect_page(&page)?;
        if let Some(form) = sign_in_form(&page) {
            if signed_in {
                return Err(Failure::Other(
                    "the sign-in form came back: the password was refused".into(),
                ));
            }
            signed_in = true;
            let url = action_url(&page, &form)?;
            page = b.post_form(url, &form.fill(user, &op.password)).await?;
        } else if let Some(form) = consent_form(&page) {
            consents += 1;
            let url = action_url(&page, &form)?;
            page = b.post_form(url, &form.fill(user, &op.password)).await?;
        } else {
            return Err(Failure::Other(format!(
                "a page without a form at {}",
                page.url.path()
            )));
        }
    }
    Err(Failure::Other("too many pages".into()))
}

/// Only the password step: /authorize and the sign-in page (not timed), then
/// the form POST, whose duration is returned. The OP must answer it with a
/// redirect (to consent or the client); the form again means the password
/// was refused.
pub async fn password_login(b: &Browser, op: &Op, user: &str) -> Result<Duration, Failure> {
    b.new_profile();
    let (_, challenge) = pkce_pair();
    let state = portico_core::random_token(16);
    let page = b.get(authorize_url(op, &challenge, &state)).await?;
    let page = follow(b, op, page).await?;
    expect_page(&page)?;
    let form = sign_in_form(&page)
        .ok_or_else(|| Failure::Other(format!("no sign-in form at {}", page.url.path())))?;
    let url = action_url(&page, &form)?;
    let fields = form.fill(user, &op.password);
    let started = Instant::now();
    let answer = b.post_form(url, &fields).await?;
    let took = started.elapsed();
    if is_redirect(answer.status) {
        Ok(took)
    } else if answer.status == 200 {
        Err(Failure::Other(
            "the sign-in form came back: the password was refused".into(),
        ))
    } else {
        Err(Failure::Status(
            answer.status,
            "the sign-in form POST".into(),
        ))
    }
}

/// POST to the token endpoint with client_secret_basic; the JSON answer.
pub async fn token(b: &Browser, op: &Op, form: &[(&str, &str)]) -> Result<Value, Failure> {
    let resp = b
        .http
        .post(op.token_endpoint.clone())
        .basic_auth(&op.client_id, Some(&op.client_secret))
        .form(form)
        .send()
        .await
        .map_err(other)?;
    let status = resp.status().as_u16();
    if status != 200 {
        let body = resp.text().await.unwrap_or_default();
        return Err(Failure::Status(status, format!("POST /token ({body})")));
    }
    resp.json().await.map_err(other)
}

pub async fn redeem(b: &Browser, op: &Op, code: &str, verifier: &str) -> Result<Value, Failure> {
    token(
        b,
        op,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &op.redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str, Failure> {
    v[name]
        .as_str()
        .ok_or_else(|| Failure::Other(format!("the token answer has no {name}")))
}

pub async fn userinfo(b: &Browser, op: &Op, access_token: &str) -> Result<(), Failure> {
    let resp = b
        .http
        .get(op.userinfo_endpoint.clone())
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(other)?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(Failure::Status(status, "GET userinfo".into()));
    }
    let v: Value = resp.json().await.map_err(other)?;
    if v["sub"].is_string() {
        Ok(())
    } else {
        Err(Failure::Other("userinfo without sub".into()))
    }
}

/// The whole flow: code, token, userinfo. Returns the token answer and the
/// consent pages accepted.
pub async fn full(b: &Browser, op: &Op, user: &str) -> Result<(Value, u32), Failure> {
    let (code, verifier, consents) = code(b, op, user).await?;
    let tokens = redeem(b, op, &code, &verifier).await?;
    userinfo(b, op, field(&tokens, "access_token")?).await?;
    Ok((tokens, consents))
}
