//! "Contoso Trials": the demo's relying party, an ordinary confidential web
//! app that signs people in at Contoso's Portico with the `openidconnect`
//! crate (discovery, code + PKCE, nonce, ID token checked against the JWKS,
//! RP-initiated logout). It knows nothing of guests or federation: that is
//! the point of the demo. It also serves the mailbox (`/mail`).
//!
//! Sessions live in memory (a demo app); pending sign-ins are bounded so a
//! reload loop cannot grow them without limit.

use super::mailbox;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use portico_core::random_token;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const COOKIE: &str = "contoso_trials_session";
/// Sign-ins started but not finished that are remembered (oldest dropped).
const MAX_PENDING: usize = 256;

pub struct SampleAppConfig {
    pub issuer: String,
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// (organization, outbox folder) pairs the mailbox reads.
    pub outboxes: Vec<(String, PathBuf)>,
}

/// A sign-in the app started: what the callback must check.
struct Pending {
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

/// Who is signed in to the app, from the verified ID token.
#[derive(Clone)]
pub struct SignedIn {
    pub name: String,
    pub email: String,
    pub subject: String,
    pub id_token: String,
    pub claims: Vec<(String, String)>,
}

#[derive(Default)]
struct Sessions {
    pending: HashMap<String, Pending>,
    order: VecDeque<String>,
    signed_in: HashMap<String, SignedIn>,
}

#[derive(Clone)]
pub struct SampleApp {
    config: Arc<SampleAppConfig>,
    http: reqwest::Client,
    sessions: Arc<Mutex<Sessions>>,
}

#[derive(Template)]
#[template(path = "demo/app.html")]
struct HomePage<'a> {
    issuer: &'a str,
    user: Option<SignedIn>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl SampleApp {
    pub fn new(config: SampleAppConfig) -> Self {
        // Redirects are never followed by an OIDC client's back channel.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        SampleApp {
            config: Arc::new(config),
            http,
            sessions: Arc::default(),
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(home))
            .route("/signin", get(signin))
            .route("/callback", get(callback))
            .route("/signout", get(signout))
            .route("/mail", get(mailbox::list))
            .with_state(self)
    }

    /// Discovers Contoso and builds the client (each time: the demo's
    /// Portico may have rotated keys, and discovery is one local request).
    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        String,
    > {
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| e.to_string())?;
        let meta = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| format!("discovery at {} failed: {e}", self.config.issuer))?;
        let redirect = RedirectUrl::new(format!("{}/callback", self.config.base_url))
            .map_err(|e| e.to_string())?;
        Ok(CoreClient::from_provider_metadata(
            meta,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // A panic while holding the lock leaves plain data: keep serving.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn current(&self, headers: &HeaderMap) -> Option<SignedIn> {
        let id = session_cookie(headers)?;
        self.sessions().signed_in.get(&id).cloned()
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_string)
        })
}

fn page(issuer: &str, user: Option<SignedIn>, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    match (HomePage {
        issuer,
        user,
        error,
    })
    .render()
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template: {e}")).into_response(),
    }
}

async fn home(State(app): State<SampleApp>, headers: HeaderMap) -> Response {
    page(&app.config.issuer, app.current(&headers), None)
}

async fn signin(State(app): State<SampleApp>) -> Response {
    let client = match app.client().await {
        Ok(c) => c,
        Err(e) => return page(&app.config.issuer, None, Some(e)),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut s = app.sessions();
    s.pending
        .insert(state.secret().clone(), Pending { nonce, verifier });
    s.order.push_back(state.secret().clone());
    while s.order.len() > MAX_PENDING {
        if let Some(old) = s.order.pop_front() {
            s.pending.remove(&old);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

async fn callback(State(app): State<SampleApp>, Query(q): Query<Callback>) -> Response {
    let issuer = app.config.issuer.clone();
    if let Some(error) = q.error {
        let why = q.error_description.unwrap_or_default();
        return page(
            &issuer,
            None,
            Some(format!("Contoso answered {error}: {why}")),
        );
    }
    let pending = q
        .state
        .as_deref()
        .and_then(|s| app.sessions().pending.remove(s));
    let (Some(code), Some(pending)) = (q.code, pending) else {
        return page(
            &issuer,
            None,
            Some("This sign-in was not started here, or has already finished.".into()),
        );
    };
    match finish(&app, code, pending).await {
        Ok(user) => {
            let id = random_token(32);
            app.sessions().signed_in.insert(id.clone(), user);
            let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
            let mut res = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => page(&issuer, None, Some(e)),
    }
}

/// Redeems the code (with the PKCE verifier) and verifies the ID token.
async fn finish(app: &SampleApp, code: String, pending: Pending) -> Result<SignedIn, String> {
    let client = app.client().await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| e.to_string())?
        .set_pkce_verifier(pending.verifier)
        .request_async(&app.http)
        .await
        .map_err(|e| format!("the code exchange failed: {e}"))?;
    let id_token = tokens.id_token().ok_or("Contoso sent no ID token")?.clone();
    let claims = id_token
        .claims(&client.id_token_verifier(), &pending.nonce)
        .map_err(|e| format!("the ID token does not verify: {e}"))?;
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string())
        .unwrap_or_default();
    let email = claims.email().map(|e| e.to_string()).unwrap_or_default();
    // Every claim as Contoso sent it, for the curious.
    let raw: serde_json::Value = serde_json::to_value(claims).unwrap_or_default();
    let listed = raw
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.clone(), shown)
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SignedIn {
        name,
        email,
        subject: claims.subject().to_string(),
        id_token: id_token.to_string(),
        claims: listed,
    })
}

/// Forgets the app session, then ends the one at Contoso (RP-initiated
/// logout with the ID token as hint), which comes back to the home page.
async fn signout(State(app): State<SampleApp>, headers: HeaderMap) -> Response {
    let user = session_cookie(&headers).and_then(|id| app.sessions().signed_in.remove(&id));
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    let target = match user {
        Some(u) => {
            let query = serde_urlencoded::to_string([
                ("id_token_hint", u.id_token.as_str()),
                (
                    "post_logout_redirect_uri",
                    &format!("{}/", app.config.base_url),
                ),
            ])
            .unwrap_or_default();
            format!("{}/logout?{query}", app.config.issuer)
        }
        None => "/".into(),
    };
    let mut res = Redirect::to(&target).into_response();
    if let Ok(v) = HeaderValue::from_str(&clear) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

impl SampleApp {
    pub(super) fn outboxes(&self) -> &[(String, PathBuf)] {
        &self.config.outboxes
    }
}
