//! Federation under attack: Portico as a relying party to a hostile home IdP
//! (kit/hostile.rs). Every forged, misdirected, replayed or late answer ends
//! on a problem page with its reference code and a way out, and never in a
//! signed-in guest or an accepted invitation; a guest is known by (issuer,
//! subject) only, and an unverified or foreign email must prove the invited
//! mailbox with a code.

use crate::federation::{follow_all, guest, invite_by_mail, trust};
use crate::redeem_steps::{APP_URL, nth_code, step};
use crate::support::{
    authorize_url, json, jwt_claims, param, query_of, redeem as exchange, sign_in_for_code,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_core::Clock;
use portico_tests::hostile::{HostileIdp, Identity, Scenario};
use portico_tests::{
    Backend, Browser, Hop, SmtpServer, TestApp, TestClient, both_backends, pkce_pair, spawn,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::time::Duration;

const SECRET: &str = "contoso-upstream-secret";
const DOMAIN: &str = "fabrikam.example";
const BOB: &str = "bob@fabrikam.example";
const IDPS: &str = "/api/v1/identityProviders";

/// A Portico that trusts a hostile IdP for fabrikam.example, and an app.
struct Fixture {
    app: TestApp,
    idp: HostileIdp,
    /// The trusted IdP's id in Portico.
    idp_id: String,
    client: TestClient,
}

/// Upstream requests time out after 2 s (connect: 1 s), so hangs are quick.
async fn fixture(backend: Backend) -> Fixture {
    fixture_with_timeout(backend, 2).await
}

async fn fixture_with_timeout(backend: Backend, timeout_secs: u64) -> Fixture {
    let app = spawn(backend, Some(SmtpServer::start()), |s| {
        s.federation_timeout_secs = timeout_secs;
        s.federation_connect_timeout_secs = 1;
    })
    .await;
    let idp = HostileIdp::start("contoso", SECRET).await;
    let trusted = trust(&app, "Fabrikam", &idp.issuer, SECRET).await;
    let client = app.web_app().await;
    Fixture {
        idp_id: trusted["id"].as_str().expect("IdP id").to_string(),
        app,
        idp,
        client,
    }
}

impl Fixture {
    async fn patch_idp(&self, body: Value) {
        let (status, v) = self
            .app
            .api("PATCH", &format!("{IDPS}/{}", self.idp_id), Some(body))
            .await;
        assert_eq!(status, 200, "{v}");
    }

    fn token_requests(&self) -> usize {
        self.idp.token_requests().len()
    }
}

fn who(sub: &str, email: &str, verified: bool) -> Identity {
    Identity {
        sub: sub.into(),
        email: Some(email.into()),
        email_verified: Some(verified),
        name: Some("Someone at Fabrikam".into()),
        ..Identity::default()
    }
}

/// Fails the test instead of hanging it: whatever the upstream does, Portico
/// must answer within its own timeouts.
async fn guard<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 30 s"))
}

/// Moves Portico's manual clock up to the system time. The hostile IdP dates
/// its tokens by the system clock (it is another party), and Portico refuses
/// an `iat` more than a minute ahead of its own clock, which stands still.
// The upstream's clock is the system's (see kit/hostile.rs).
#[allow(clippy::disallowed_methods)]
fn catch_up(app: &TestApp) {
    let behind = chrono::Utc::now() - app.clock.now();
    if behind > chrono::Duration::zero() {
        app.clock.advance(behind);
    }
}

/// The `href` of the link with this `id` on a page, unescaped.
fn href_of(body: &str, id: &str) -> Option<String> {
    let end = body.find(&format!("\" id=\"{id}\""))?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(
        body[start..end]
            .replace("&amp;", "&")
            .replace("&#38;", "&")
            .replace("&#x26;", "&")
            .replace("&#43;", "+")
            .replace("&#x2f;", "/")
            .replace("&#x2F;", "/"),
    )
}

/// A problem page: its status, its reference code, and where "Use another
/// way to sign in" leads (if anywhere).
fn assert_problem(page: &Hop, status: u16, code: &str, other_way: Option<&str>) {
    assert_eq!(page.status.as_u16(), status, "{code}: {}", page.body);
    assert!(page.location.is_none(), "{code}: {:?}", page.location);
    assert!(
        page.body.contains(&format!("<code>{code}</code>")),
        "expected the reference {code}: {}",
        page.body
    );
    assert_eq!(
        href_of(&page.body, "other-way").as_deref(),
        other_way,
        "{code}: {}",
        page.body
    );
}

fn other_way(interaction: &str) -> String {
    format!("/interaction/{interaction}?other=1")
}

/// "Use another way" is the sign-in page itself: the interaction is still
/// at its sign-in step (nobody signed in), it offers the email code, and it
/// does not send the browser to the home IdP again.
async fn assert_still_at_sign_in(b: &Browser, interaction: &str) {
    let page = b.get(&other_way(interaction)).await;
    assert_eq!(page.status, 200, "{:?} {}", page.location, page.body);
    assert!(page.location.is_none());
    assert!(
        page.body
            .contains(&format!("action=\"/interaction/{interaction}/email-code\"")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("name=\"other\" value=\"1\""),
        "{}",
        page.body
    );
}

/// The interaction id in a `/interaction/{id}` redirect.
fn interaction_of(hop: &Hop) -> String {
    let loc = hop
        .location
        .clone()
        .unwrap_or_else(|| panic!("{} {}", hop.status, hop.body));
    let start = loc.find("/interaction/").expect("an interaction") + "/interaction/".len();
    loc[start..]
        .split(['?', '/'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// An app sign-in with `domain_hint=fabrikam.example`, followed through
/// Portico and the upstream until a page or a redirect to the app.
struct Attempt {
    interaction: String,
    page: Hop,
    verifier: String,
}

async fn hinted(f: &Fixture, b: &Browser) -> Attempt {
    catch_up(&f.app);
    let (verifier, challenge) = pkce_pair();
    let url = authorize_url(&f.app, &f.client, &challenge, &[("domain_hint", DOMAIN)]);
    let start = b.get(&url).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let interaction = interaction_of(&start);
    let (page, _) = guard(
        "a hinted sign-in",
        follow_all(b, start, f.app.issuer.clone()),
    )
    .await;
    Attempt {
        interaction,
        page,
        verifier,
    }
}

/// Finishes an attempt that came back signed in: app consent if asked,
/// then the code at the app's redirect URI, exchanged; the ID token claims.
async fn signed_in(f: &Fixture, b: &Browser, a: Attempt) -> Value {
    let done = if a.page.body.contains("name=\"decision\"") {
        b.follow(b.consent(a.page, "accept").await).await
    } else {
        a.page
    };
    let loc = done
        .location
        .clone()
        .unwrap_or_else(|| panic!("expected the app's redirect: {} {}", done.status, done.body));
    assert!(loc.starts_with(&f.client.redirect_uri), "{loc}");
    let code = param(&query_of(&loc), "code").expect("a code for the app");
    let resp = exchange(&f.app, &f.client, &code, &a.verifier).await;
    assert_eq!(resp.status(), 200);
    let tokens = json(resp).await;
    jwt_claims(tokens["id_token"].as_str().expect("id_token"))
}

/// Leaves for the upstream with a hinted sign-in and lets it answer, without
/// opening the callback: (interaction, callback URL, PKCE verifier).
async fn to_callback(f: &Fixture, b: &Browser) -> (String, String, String) {
    catch_up(&f.app);
    let (verifier, challenge) = pkce_pair();
    let url = authorize_url(&f.app, &f.client, &challenge, &[("domain_hint", DOMAIN)]);
    let start = b.get(&url).await;
    let interaction = interaction_of(&start);
    let leave = guard(
        "the interaction",
        b.get(&format!("/interaction/{interaction}")),
    )
    .await;
    assert_eq!(leave.status, 303, "{}", leave.body);
    let authorize = leave.location.clone().expect("to the home IdP");
    assert!(
        authorize.starts_with(&f.idp.url("/authorize?")),
        "{authorize}"
    );
    let answered = b.get(&authorize).await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    let callback = answered.location.clone().expect("back to Portico");
    assert!(
        callback.starts_with(&f.app.url("/federation/callback?")),
        "{callback}"
    );
    (interaction, callback, verifier)
}

/// Opens the redeem link and leaves for the home IdP; the page the browser
/// ends on after the upstream answered.
async fn redeem_through_idp(f: &Fixture, b: &Browser, link: &str) -> Hop {
    catch_up(&f.app);
    let landing = b.get(link).await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert!(
        landing.body.contains("Continue to Fabrikam"),
        "{}",
        landing.body
    );
    let leave = step(b, "/redeem/federation", &landing, &[]).await;
    assert_eq!(leave.status, 303, "{}", leave.body);
    let (page, _) = guard("a redemption", follow_all(b, leave, f.app.issuer.clone())).await;
    page
}

/// Accepts on the "Review permissions" page: the guest joins.
async fn accept_on(b: &Browser, consent: &Hop) {
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.body.contains("Review permissions"),
        "{}",
        consent.body
    );
    let done = b
        .follow(step(b, "/redeem/consent", consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some(APP_URL));
}

/// Invites `email` and redeems through the IdP as its current identity
/// (which must assert the invited address, verified); the guest's id.
async fn redeem_honestly(f: &Fixture, email: &str) -> String {
    let link = invite_by_mail(&f.app, email).await;
    let b = Browser::new(&f.app.issuer);
    let consent = redeem_through_idp(f, &b, &link).await;
    accept_on(&b, &consent).await;
    let user = guest(&f.app, email).await;
    assert_eq!(user["externalUserState"], "Accepted", "{user}");
    user["id"].as_str().expect("id").to_string()
}

/// The guest's bound identities as (signInType, issuer, issuerAssignedId).
fn identities(user: &Value) -> Vec<(String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    user["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .map(|i| {
            (
                s(&i["signInType"]),
                s(&i["issuer"]),
                s(&i["issuerAssignedId"]),
            )
        })
        .collect()
}

fn federated(f: &Fixture, sub: &str) -> (String, String, String) {
    ("federated".into(), f.idp.issuer.clone(), sub.into())
}

/// An ID token that fails any one check of OIDC Core §3.1.3.7 is refused,
/// after the code was exchanged, with 502 `idp_invalid_response` and a way
/// out; the guest it names (a redeemed one) is not signed in. The same
/// guest with an honest token is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_failing_any_check_does_not_sign_the_guest_in() {
    let f = fixture(Backend::Sqlite).await;
    let bob = redeem_honestly(&f, BOB).await;
    let refused = [
        Scenario::AlgNone,
        Scenario::Hs256WithClientSecret,
        Scenario::Hs256WithPublicKey,
        Scenario::ForeignKey,
        Scenario::ForeignKeyWithKidA,
        Scenario::WrongIssuer,
        Scenario::WrongAudience,
        Scenario::ExtraAudienceNoAzp,
        Scenario::WrongAzp,
        Scenario::Expired,
        Scenario::IssuedInFuture,
        Scenario::WrongNonce,
        Scenario::MissingNonce,
    ];
    for scenario in refused {
        f.idp.set_scenario(scenario.clone());
        let before = f.token_requests();
        let b = Browser::new(&f.app.issuer);
        let a = hinted(&f, &b).await;
        assert_eq!(
            f.token_requests(),
            before + 1,
            "{scenario:?}: the code was exchanged, so the ID token itself was refused"
        );
        let page = &a.page;
        assert_eq!(page.status, 502, "{scenario:?}: {}", page.body);
        assert_problem(
            page,
            502,
            "idp_invalid_response",
            Some(&other_way(&a.interaction)),
        );
        assert_still_at_sign_in(&b, &a.interaction).await;
    }

    // Positive control: the same guest, an honest token, reaches the app.
    f.idp.set_scenario(Scenario::Honest);
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    let claims = signed_in(&f, &b, a).await;
    assert_eq!(claims["sub"], bob.as_str());
    assert_eq!(claims["idp"], f.idp.issuer.as_str());
    assert_eq!(claims["amr"], json!(["fed"]));
}

/// The authorization request carries a fresh `state`, `nonce` and an S256
/// PKCE challenge; the token request carries the matching verifier and
/// authenticates the client with exactly one method (client_secret_basic,
/// as discovery allows it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_requests_carry_pkce_nonce_state_and_client_authentication() {
    let f = fixture(Backend::Sqlite).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let b = Browser::new(&f.app.issuer);
        let a = hinted(&f, &b).await;
        // Nobody was invited: verified upstream, but not a guest here.
        assert_problem(
            &a.page,
            403,
            "not_a_guest",
            Some(&other_way(&a.interaction)),
        );
        let auth = f.idp.last_authorize().expect("an authorization request");
        let token = f.idp.last_token_request().expect("a token request");
        seen.push((auth, token));
    }
    let redirect_uri = f.app.url("/federation/callback");
    for (auth, token) in &seen {
        assert_eq!(auth.response_type.as_deref(), Some("code"));
        assert_eq!(auth.client_id.as_deref(), Some("contoso"));
        assert_eq!(auth.redirect_uri.as_deref(), Some(redirect_uri.as_str()));
        assert!(
            auth.scope
                .as_deref()
                .is_some_and(|s| s.split(' ').any(|x| x == "openid")),
            "{auth:?}"
        );
        assert_eq!(auth.code_challenge_method.as_deref(), Some("S256"));
        let challenge = auth.code_challenge.clone().expect("code_challenge");
        let state = auth.state.clone().expect("state");
        let nonce = auth.nonce.clone().expect("nonce");
        assert!(state.len() >= 32 && nonce.len() >= 32, "{auth:?}");
        assert_ne!(state, nonce);

        assert_eq!(token.grant_type.as_deref(), Some("authorization_code"));
        assert_eq!(token.code, auth.code_issued, "the code of this flow");
        assert_eq!(token.redirect_uri.as_deref(), Some(redirect_uri.as_str()));
        let verifier = token.code_verifier.clone().expect("code_verifier");
        assert!((43..=128).contains(&verifier.len()), "RFC 7636 §4.1");
        assert_eq!(
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            challenge,
            "the challenge is S256 of the verifier"
        );
        assert!(
            auth.params.iter().all(|(_, v)| *v != verifier),
            "the verifier never travels through the browser"
        );
        assert_eq!(
            token.basic_auth,
            Some(("contoso".to_string(), SECRET.to_string()))
        );
        assert_eq!(token.post_client_secret, None, "exactly one client auth");
    }
    let (a, b) = (&seen[0].0, &seen[1].0);
    assert_ne!(a.state, b.state, "a fresh state per flow");
    assert_ne!(a.nonce, b.nonce, "a fresh nonce per flow");
    assert_ne!(
        a.code_challenge, b.code_challenge,
        "a fresh verifier per flow"
    );
}

/// An honest ID token from an earlier flow is refused in a later one (its
/// nonce is the old flow's); a callback URL works once, and its replay
/// exchanges nothing.
async fn replays_are_refused(backend: Backend) {
    let f = fixture(backend).await;
    let bob = redeem_honestly(&f, BOB).await;

    // Flow 1: honest, and replayed at the callback.
    let b = Browser::new(&f.app.issuer);
    let (interaction, callback, verifier) = to_callback(&f, &b).await;
    let nonce_1 = f.idp.last_authorize().and_then(|a| a.nonce).expect("nonce");
    let before = f.token_requests();
    let back = b.get(&callback).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let continuation = back.location.clone().expect("continuation");
    assert!(
        continuation.starts_with(&format!("/interaction/{interaction}/federated?flow=")),
        "{continuation}"
    );
    let replay = b.get(&callback).await;
    assert_problem(&replay, 400, "invalid_state", None);
    let other = Browser::new(&f.app.issuer);
    let replay = other.get(&callback).await;
    assert_problem(&replay, 400, "invalid_state", None);
    assert_eq!(
        f.token_requests(),
        before + 1,
        "the replays exchanged nothing"
    );
    // The first answer still completes the sign-in, once.
    let a = Attempt {
        interaction: interaction.clone(),
        page: b.follow(b.get(&continuation).await).await,
        verifier,
    };
    let claims = signed_in(&f, &b, a).await;
    assert_eq!(claims["sub"], bob.as_str());
    let again = b.get(&continuation).await;
    assert_problem(&again, 400, "invalid_state", Some(&other_way(&interaction)));

    // Flow 2: the upstream answers with an honest token minted for flow 1.
    let old = f.idp.id_token_for_nonce(Some(&nonce_1));
    assert_eq!(jwt_claims(&old)["nonce"], nonce_1.as_str());
    f.idp.set_scenario(Scenario::FixedIdToken(old));
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    assert_problem(
        &a.page,
        502,
        "idp_invalid_response",
        Some(&other_way(&a.interaction)),
    );
    assert_still_at_sign_in(&b, &a.interaction).await;
}
both_backends!(
    a_replayed_id_token_or_callback_is_refused,
    super::replays_are_refused
);

/// A missing or unknown `state` is refused before any code is exchanged; so
/// is an answer naming another issuer (mix-up, RFC 9207). An upstream error
/// is "refused", a garbled token response "unavailable"; a consumed state
/// cannot be retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_state_or_an_upstream_error_ends_the_flow() {
    let f = fixture(Backend::Sqlite).await;
    for scenario in [Scenario::WrongState, Scenario::MissingState] {
        f.idp.set_scenario(scenario.clone());
        let before = f.token_requests();
        let b = Browser::new(&f.app.issuer);
        let a = hinted(&f, &b).await;
        assert_problem(&a.page, 400, "invalid_state", None);
        assert_eq!(
            f.token_requests(),
            before,
            "{scenario:?}: no code exchanged"
        );
        assert_still_at_sign_in(&b, &a.interaction).await;
    }

    f.idp.set_scenario(Scenario::Honest);
    let b = Browser::new(&f.app.issuer);
    for forged in [
        "/federation/callback",
        "/federation/callback?code=abc",
        "/federation/callback?code=abc&state=",
        "/federation/callback?code=abc&state=0123456789abcdef0123456789abcdef0123456789a",
    ] {
        let page = b.get(forged).await;
        assert_problem(&page, 400, "invalid_state", None);
    }
    assert_eq!(f.token_requests(), 0);

    // Mix-up: the answer says another issuer sent it.
    let (interaction, callback, _) = to_callback(&f, &b).await;
    let mixed = format!("{callback}&iss=http%3A%2F%2Fevil.example");
    let page = b.get(&mixed).await;
    assert_problem(&page, 400, "invalid_state", Some(&other_way(&interaction)));
    let retry = b.get(&callback).await;
    assert_problem(&retry, 400, "invalid_state", None);
    assert_eq!(f.token_requests(), 0, "a mixed-up code is never exchanged");

    f.idp.set_scenario(Scenario::AuthorizeError);
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    assert_problem(
        &a.page,
        400,
        "idp_refused",
        Some(&other_way(&a.interaction)),
    );
    assert_eq!(f.token_requests(), 0);
    assert_still_at_sign_in(&b, &a.interaction).await;

    for (scenario, status, code) in [
        (Scenario::TokenError, 400, "idp_refused"),
        (Scenario::GarbageToken, 503, "idp_unavailable"),
    ] {
        f.idp.set_scenario(scenario.clone());
        let before = f.token_requests();
        let b = Browser::new(&f.app.issuer);
        let a = hinted(&f, &b).await;
        assert_eq!(f.token_requests(), before + 1, "{scenario:?}");
        assert_problem(&a.page, status, code, Some(&other_way(&a.interaction)));
        assert_still_at_sign_in(&b, &a.interaction).await;
    }
}

/// The upstream's answer is completed only by the browser that left: a
/// callback URL opened elsewhere (a leaked one, or an attacker's own forced
/// on a victim: login CSRF), or a continuation opened in another browser,
/// signs nobody in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_continues_only_in_the_browser_that_left() {
    let f = fixture(Backend::Sqlite).await;
    let bob = redeem_honestly(&f, BOB).await;

    // A completes the callback; B (no cookie, or its own sign-in's) opens
    // the continuation.
    let a = Browser::new(&f.app.issuer);
    let (interaction_a, callback, verifier) = to_callback(&f, &a).await;
    let back = a.get(&callback).await;
    let continuation = back.location.clone().expect("continuation");
    let flow = continuation
        .split("flow=")
        .nth(1)
        .expect("flow id")
        .to_string();
    let b = Browser::new(&f.app.issuer);
    let stolen = b.get(&continuation).await;
    assert_problem(
        &stolen,
        400,
        "invalid_state",
        Some(&other_way(&interaction_a)),
    );
    let (_, challenge) = pkce_pair();
    let url = authorize_url(&f.app, &f.client, &challenge, &[("prompt", "login")]);
    let interaction_b = interaction_of(&b.get(&url).await);
    let stolen = b.get(&continuation).await;
    assert_problem(
        &stolen,
        400,
        "invalid_state",
        Some(&other_way(&interaction_a)),
    );
    let grafted = b
        .get(&format!(
            "/interaction/{interaction_b}/federated?flow={flow}"
        ))
        .await;
    assert_problem(
        &grafted,
        400,
        "invalid_state",
        Some(&other_way(&interaction_b)),
    );
    assert_still_at_sign_in(&b, &interaction_b).await;
    // A itself still finishes (only the binding stopped B).
    let page = a.follow(a.get(&continuation).await).await;
    let claims = signed_in(
        &f,
        &a,
        Attempt {
            interaction: interaction_a,
            page,
            verifier,
        },
    )
    .await;
    assert_eq!(claims["sub"], bob.as_str());

    // The callback URL of the attacker's own flow, opened by the victim.
    let attacker = Browser::new(&f.app.issuer);
    let (_, callback, _) = to_callback(&f, &attacker).await;
    let victim = Browser::new(&f.app.issuer);
    let (page, _) = follow_all(&victim, victim.get(&callback).await, f.app.issuer.clone()).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("<code>invalid_state</code>"));
    assert!(page.location.is_none());

    // Redemption: the continuation in another browser that opened the same
    // link (and so holds a redeem binding of its own) is refused too.
    let link = invite_by_mail(&f.app, "carol@fabrikam.example").await;
    f.idp
        .set_identity(who("carol", "carol@fabrikam.example", true));
    let left = Browser::new(&f.app.issuer);
    let landing = left.get(&link).await;
    let leave = step(&left, "/redeem/federation", &landing, &[]).await;
    let answered = left
        .get(leave.location.as_deref().expect("to the IdP"))
        .await;
    let back = left
        .get(answered.location.as_deref().expect("callback"))
        .await;
    let continuation = back.location.clone().expect("continuation");
    assert!(
        continuation.starts_with("/redeem/federated?flow="),
        "{continuation}"
    );
    let other = Browser::new(&f.app.issuer);
    assert_eq!(other.get(&link).await.status, 200);
    let stolen = other.get(&continuation).await;
    assert_eq!(stolen.status, 400, "{}", stolen.body);
    assert!(stolen.body.contains("<code>invalid_state</code>"));
    assert!(!stolen.body.contains("Review permissions"));
    let fresh = Browser::new(&f.app.issuer);
    let stale = fresh.get(&continuation).await;
    assert_eq!(
        stale.status, 403,
        "no redeem binding at all: {}",
        stale.body
    );
    assert!(!stale.body.contains("Review permissions"));
    let carol = guest(&f.app, "carol@fabrikam.example").await;
    assert_eq!(carol["externalUserState"], "PendingAcceptance", "{carol}");
    // The browser that left continues.
    let consent = left.get(&continuation).await;
    accept_on(&left, &consent).await;
}

/// A token signed with a newly published key is accepted after exactly one
/// JWKS refetch; unknown keys refetch at most once per interval, however
/// many forged tokens arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_costs_one_jwks_fetch_and_unknown_keys_do_not_hammer_it() {
    let f = fixture(Backend::Sqlite).await;
    let bob = redeem_honestly(&f, BOB).await;
    let (discovery, jwks) = (f.idp.discovery_fetches(), f.idp.jwks_fetches());
    assert!(jwks >= 1, "discovery fetched the JWKS");

    f.idp.set_scenario(Scenario::RotatedKey);
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    let claims = signed_in(&f, &b, a).await;
    assert_eq!(claims["sub"], bob.as_str());
    assert_eq!(
        f.idp.jwks_fetches(),
        jwks + 1,
        "one refetch for the new kid"
    );
    assert_eq!(
        f.idp.discovery_fetches(),
        discovery,
        "metadata from the cache"
    );
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    signed_in(&f, &b, a).await;
    assert_eq!(f.idp.jwks_fetches(), jwks + 1, "the new key is cached now");

    // A fresh cache (editing the IdP drops it), then forged kids.
    f.patch_idp(json!({"displayName": "Fabrikam ID"})).await;
    f.idp.set_scenario(Scenario::Honest);
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    signed_in(&f, &b, a).await;
    assert_eq!(f.idp.discovery_fetches(), discovery + 1, "fetched again");
    let jwks = f.idp.jwks_fetches();
    f.idp.set_scenario(Scenario::ForeignKey);
    for _ in 0..2 {
        let b = Browser::new(&f.app.issuer);
        let a = hinted(&f, &b).await;
        assert_problem(
            &a.page,
            502,
            "idp_invalid_response",
            Some(&other_way(&a.interaction)),
        );
    }
    assert!(
        f.idp.jwks_fetches() <= jwks + 1,
        "{} JWKS fetches for two forged kids",
        f.idp.jwks_fetches() - jwks
    );
}

/// Discovery that answers garbage, redirects (not followed), hangs, or
/// cannot be reached ends on a 503 page at the step that leaves, within the
/// timeout; its "another way" is the sign-in page with the email code, with
/// no trip to the IdP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_or_unreachable_discovery_shows_a_page_with_another_way() {
    let f = fixture(Backend::Sqlite).await;
    let check = |what: &'static str| {
        let f = &f;
        async move {
            let authorizations = f.idp.authorizations().len();
            let b = Browser::new(&f.app.issuer);
            let a = guard(what, hinted(f, &b)).await;
            assert_problem(
                &a.page,
                503,
                "idp_unavailable",
                Some(&other_way(&a.interaction)),
            );
            assert_eq!(
                f.idp.authorizations().len(),
                authorizations,
                "{what}: the browser was not sent to the IdP"
            );
            assert_still_at_sign_in(&b, &a.interaction).await;
        }
    };
    f.idp.set_scenario(Scenario::GarbageDiscovery);
    check("garbage discovery").await;
    f.idp.set_scenario(Scenario::RedirectDiscovery);
    check("redirected discovery").await;
    assert!(f.idp.discovery_fetches() >= 2);
    assert_eq!(f.idp.redirect_target_fetches(), 0, "no redirect followed");
    f.idp.set_scenario(Scenario::HangDiscovery);
    check("hanging discovery").await;

    // Nothing was cached from those: a stopped IdP is asked, and is down.
    f.idp.set_scenario(Scenario::Honest);
    f.idp.stop();
    check("stopped IdP").await;

    // Redemption: the page appears at the step that leaves, and its
    // "another way" is the landing page with the email code.
    let link = invite_by_mail(&f.app, BOB).await;
    let b = Browser::new(&f.app.issuer);
    let landing = b.get(&link).await;
    assert!(
        landing.body.contains("Continue to Fabrikam"),
        "{}",
        landing.body
    );
    let leave = guard(
        "leaving to redeem",
        step(&b, "/redeem/federation", &landing, &[]),
    )
    .await;
    let link_path = link.trim_start_matches(&f.app.issuer).to_string();
    let other = format!("{link_path}&other=1");
    assert_problem(&leave, 503, "idp_unavailable", Some(&other));
    let page = b.get(&other).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("action=\"/redeem/code\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Continue to Fabrikam"), "{}", page.body);
}

/// A token endpoint that never answers costs the callback its timeout (503
/// `idp_unavailable`), and nobody else anything: a member signs in while it
/// hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_token_endpoint_times_out_without_holding_up_other_sign_ins() {
    // A longer upstream timeout than elsewhere, so the member's sign-in
    // clearly fits inside the hang.
    let f = fixture_with_timeout(Backend::Sqlite, 15).await;
    f.app.alice().await;
    let b = Browser::new(&f.app.issuer);
    let (interaction, callback, _) = to_callback(&f, &b).await;
    f.idp.set_scenario(Scenario::Hang);
    let http = b.http.clone();
    let hanging = tokio::spawn(async move {
        let resp = http.get(&callback).send().await.expect("callback");
        let status = resp.status();
        (status, resp.text().await.unwrap_or_default())
    });
    guard("the token request", async {
        while f.token_requests() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    let member = Browser::new(&f.app.issuer);
    let (code, verifier) = guard(
        "a member's sign-in",
        sign_in_for_code(&f.app, &member, &f.client, &[]),
    )
    .await;
    let tokens = exchange(&f.app, &f.client, &code, &verifier).await;
    assert_eq!(tokens.status(), 200);
    assert!(
        !hanging.is_finished(),
        "the member signed in while the upstream still hung"
    );

    let (status, body) = guard("the hanging callback", hanging)
        .await
        .expect("callback task");
    let page = Hop {
        status,
        location: None,
        retry_after: None,
        body,
    };
    assert_problem(
        &page,
        503,
        "idp_unavailable",
        Some(&other_way(&interaction)),
    );
    assert_still_at_sign_in(&b, &interaction).await;
}

/// Bob's invitation is still open: no identity bound.
async fn still_pending(f: &Fixture) {
    let user = guest(&f.app, BOB).await;
    assert_eq!(user["externalUserState"], "PendingAcceptance", "{user}");
    assert_eq!(user["identities"], json!([]), "{user}");
}

/// A hand-made accept from the code page, with the page's unused code id
/// or none at all, is refused.
async fn accept_without_code_is_refused(b: &Browser, code_page: &Hop) {
    for code_id in [None, Some("")] {
        let mut extra = vec![("decision", "accept")];
        if let Some(id) = code_id {
            extra.push(("code_id", id));
        }
        let done = step(b, "/redeem/consent", code_page, &extra).await;
        assert_eq!(done.status, 400, "{}", done.body);
        assert!(
            done.body.contains("<code>code_spent</code>"),
            "{}",
            done.body
        );
        assert!(done.location.is_none());
    }
}

/// Redeeming with a home account that does not vouch for the invited
/// mailbox (unverified, or another address: a forwarded invitation) needs
/// the code sent to the invited mailbox; a hand-made accept without it is
/// refused. With the code, the home account is bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_account_not_vouching_for_the_invited_mailbox_needs_its_code() {
    let f = fixture(Backend::Sqlite).await;
    let link = invite_by_mail(&f.app, BOB).await;
    let smtp = f.app.smtp.as_ref().expect("smtp");
    // (a) Mallory's home account shows Bob's address, unverified.
    f.idp.set_identity(who("mallory", BOB, false));
    let mallory = Browser::new(&f.app.issuer);
    let page = redeem_through_idp(&f, &mallory, &link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("did not confirm"), "{}", page.body);
    assert!(page.body.contains("name=\"flow\""), "{}", page.body);
    assert!(!page.body.contains("Review permissions"));
    nth_code(&f.app, BOB, 1).await;
    accept_without_code_is_refused(&mallory, &page).await;
    still_pending(&f).await;

    // (b) Eve opens Bob's forwarded link with her own verified account.
    f.idp.set_identity(who("eve", "eve@fabrikam.example", true));
    let eve = Browser::new(&f.app.issuer);
    let page = redeem_through_idp(&f, &eve, &link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("did not confirm"), "{}", page.body);
    nth_code(&f.app, BOB, 2).await;
    f.app.settle_mail().await;
    assert!(
        smtp.messages()
            .iter()
            .all(|m| !m.to.iter().any(|t| t.contains("eve"))),
        "nothing is sent to the address the home IdP asserted"
    );
    accept_without_code_is_refused(&eve, &page).await;
    still_pending(&f).await;

    // (c) Bob, unverified upstream, with the code from his mailbox.
    f.idp.set_identity(who("bob-sub", BOB, false));
    let b = Browser::new(&f.app.issuer);
    let page = redeem_through_idp(&f, &b, &link).await;
    assert!(page.body.contains("did not confirm"), "{}", page.body);
    let code = nth_code(&f.app, BOB, 3).await;
    let consent = step(&b, "/redeem/verify", &page, &[("code", &code)]).await;
    accept_on(&b, &consent).await;
    let user = guest(&f.app, BOB).await;
    assert_eq!(user["externalUserState"], "Accepted", "{user}");
    assert_eq!(identities(&user), [federated(&f, "bob-sub")]);
}

/// A returning guest is found by (issuer, subject), never by email: another
/// home account showing the guest's verified address gets `not_a_guest`,
/// and the guest's own account with a new address still signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_is_known_by_issuer_and_subject_never_by_email() {
    let f = fixture(Backend::Sqlite).await;
    let bob = redeem_honestly(&f, BOB).await;

    f.idp.set_identity(who("mallory", BOB, true));
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    assert_problem(
        &a.page,
        403,
        "not_a_guest",
        Some(&other_way(&a.interaction)),
    );
    assert_still_at_sign_in(&b, &a.interaction).await;

    f.idp
        .set_identity(who("upstream-bob", "robert@fabrikam.example", true));
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    let claims = signed_in(&f, &b, a).await;
    assert_eq!(claims["sub"], bob.as_str());
    assert_eq!(claims["idp"], f.idp.issuer.as_str());
}

/// Resetting a redemption unbinds the home account: it no longer signs in,
/// and the new link binds whichever account redeems it, to the same user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_redemption_unbinds_the_home_account() {
    let f = fixture(Backend::Sqlite).await;
    let bob = redeem_honestly(&f, BOB).await;
    let (status, inv) = f
        .app
        .invite(json!({
            "invitedUserEmailAddress": BOB,
            "inviteRedirectUrl": APP_URL,
            "resetRedemption": true,
        }))
        .await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["invitedUser"]["id"], bob.as_str());

    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    assert_problem(
        &a.page,
        403,
        "not_a_guest",
        Some(&other_way(&a.interaction)),
    );

    f.idp.set_identity(who("bob-new-account", BOB, true));
    let link = inv["inviteRedeemUrl"].as_str().expect("link");
    let b = Browser::new(&f.app.issuer);
    let consent = redeem_through_idp(&f, &b, link).await;
    accept_on(&b, &consent).await;
    let user = guest(&f.app, BOB).await;
    assert_eq!(user["id"], bob.as_str(), "the same user");
    assert_eq!(identities(&user), [federated(&f, "bob-new-account")]);

    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    let claims = signed_in(&f, &b, a).await;
    assert_eq!(claims["sub"], bob.as_str());
    f.idp.set_identity(Identity::default());
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    assert_problem(
        &a.page,
        403,
        "not_a_guest",
        Some(&other_way(&a.interaction)),
    );
}

/// Disabling an IdP ends the flows in flight (403 `idp_disabled`, the code
/// never exchanged) and takes it out of home-realm discovery: hints, a
/// bound guest's address and the redeem landing all get the email code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_idp_ends_flows_in_flight_and_is_not_discovered() {
    let f = fixture(Backend::Sqlite).await;
    redeem_honestly(&f, BOB).await;

    let b = Browser::new(&f.app.issuer);
    let (interaction, callback, _) = to_callback(&f, &b).await;
    f.patch_idp(json!({"enabled": false})).await;
    let before = f.token_requests();
    let page = b.get(&callback).await;
    assert_problem(&page, 403, "idp_disabled", Some(&other_way(&interaction)));
    assert_eq!(f.token_requests(), before, "no code exchanged with it");
    assert_still_at_sign_in(&b, &interaction).await;

    let authorizations = f.idp.authorizations().len();
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    assert_eq!(a.page.status, 200, "{:?} {}", a.page.location, a.page.body);
    assert!(a.page.body.contains("/email-code\""), "{}", a.page.body);
    // Bob's address (bound to the IdP) gets the email code form too.
    let csrf = portico_tests::find_hidden(&a.page.body, "csrf").expect("csrf");
    let code_page = b
        .post_form(
            &format!("/interaction/{}/email-code", a.interaction),
            &[("csrf", &csrf), ("email", BOB)],
        )
        .await;
    assert_eq!(
        code_page.status, 200,
        "{:?} {}",
        code_page.location, code_page.body
    );
    assert_eq!(
        f.idp.authorizations().len(),
        authorizations,
        "never sent there"
    );

    let link = invite_by_mail(&f.app, "carol@fabrikam.example").await;
    let b = Browser::new(&f.app.issuer);
    let landing = b.get(&link).await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert!(!landing.body.contains("Continue to"), "{}", landing.body);
    let leave = step(&b, "/redeem/federation", &landing, &[]).await;
    assert_eq!(leave.status, 303, "{}", leave.body);
    assert!(
        leave
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/redeem?") && l.ends_with("&other=1")),
        "{:?}",
        leave.location
    );
    assert_eq!(f.idp.authorizations().len(), authorizations);
}

/// A resend replaces a (perhaps leaked) link: a redemption flow started from
/// the old link neither continues after it nor hands out the new link on
/// its problem page (the new link goes to the invited mailbox only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_from_a_replaced_link_neither_continues_nor_reveals_the_new_link() {
    let f = fixture(Backend::Sqlite).await;
    let old = invite_by_mail(&f.app, BOB).await;
    let id = param(&query_of(&old), "i").expect("invitation id");
    // Two flows leave from the old link; the upstream answers neither yet.
    let mut flows = Vec::new();
    for _ in 0..2 {
        let b = Browser::new(&f.app.issuer);
        let landing = b.get(&old).await;
        let leave = step(&b, "/redeem/federation", &landing, &[]).await;
        let authorize = leave.location.clone().expect("to the IdP");
        flows.push((b, authorize));
    }
    let (status, resent) = f
        .app
        .api("POST", &format!("/api/v1/invitations/{id}/resend"), None)
        .await;
    assert_eq!(status, 200, "{resent}");
    let new = resent["inviteRedeemUrl"].as_str().expect("new link");
    let new_token = param(&query_of(new), "t").expect("t");

    // An error answer for the first flow (anyone holding its state can
    // make one up): the page offers no link, least of all the new one.
    let (b, authorize) = &flows[0];
    let state = param(&query_of(authorize), "state").expect("state");
    let page = b
        .get(&format!(
            "/federation/callback?state={state}&error=access_denied"
        ))
        .await;
    assert_problem(&page, 400, "idp_refused", None);
    assert!(!page.body.contains(&new_token), "{}", page.body);
    assert!(!page.body.contains("/redeem?"), "{}", page.body);

    // An honest answer for the second flow: verified upstream, but the
    // invitation moved on, so there is no consent page.
    let (b, authorize) = &flows[1];
    catch_up(&f.app);
    let (page, _) = follow_all(b, b.get(authorize).await, authorize.clone()).await;
    assert_eq!(page.status, 404, "{}", page.body);
    assert!(!page.body.contains("Review permissions"));
    assert!(!page.body.contains(&new_token));
    still_pending(&f).await;
}

/// An app sign-in with `domain_hint` and `extra` parameters, sent on to the
/// upstream: the upstream's `/authorize` as Portico sent it and the page the
/// browser ends on after the callback.
async fn hinted_with(f: &Fixture, b: &Browser, extra: &[(&str, &str)]) -> Attempt {
    catch_up(&f.app);
    let (verifier, challenge) = pkce_pair();
    let mut params = vec![("domain_hint", DOMAIN)];
    params.extend_from_slice(extra);
    let url = authorize_url(&f.app, &f.client, &challenge, &params);
    let start = b.get(&url).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let interaction = interaction_of(&start);
    let (page, _) = guard(
        "a hinted sign-in",
        follow_all(b, start, f.app.issuer.clone()),
    )
    .await;
    Attempt {
        interaction,
        page,
        verifier,
    }
}

/// OIDC Core §3.1.2.1: the app's `acr_values`, `max_age` and `prompt=login`
/// reach the home IdP's authorization request (a redemption sends none), and
/// with a `max_age` an ID token without `auth_time`, or with an older one,
/// is refused with its own page; a recent one signs the guest in.
async fn the_apps_requirements_reach_the_home_idp(backend: Backend) {
    let f = fixture(backend).await;
    redeem_honestly(&f, BOB).await;
    let redeemed = f.idp.last_authorize().expect("the redemption's request");
    for p in ["acr_values", "max_age", "prompt"] {
        assert_eq!(redeemed.param(p), None, "a redemption sends no {p}");
    }

    let mfa = "https://refeds.org/profile/mfa";
    let asks = [("acr_values", mfa), ("max_age", "300"), ("prompt", "login")];
    // No auth_time at all.
    let b = Browser::new(&f.app.issuer);
    let a = hinted_with(&f, &b, &asks).await;
    let sent = f.idp.last_authorize().expect("an upstream request");
    assert_eq!(sent.param("acr_values"), Some(mfa));
    assert_eq!(sent.param("max_age"), Some("300"));
    assert_eq!(sent.param("prompt"), Some("login"));
    assert_problem(
        &a.page,
        400,
        "idp_stale_authentication",
        Some(&other_way(&a.interaction)),
    );
    assert!(a.page.body.contains("not recent enough"), "{}", a.page.body);

    // An hour old, against max_age=300.
    f.idp.set_identity(Identity {
        auth_seconds_ago: Some(3600),
        ..Identity::default()
    });
    let a = hinted_with(&f, &Browser::new(&f.app.issuer), &[("max_age", "300")]).await;
    assert_problem(
        &a.page,
        400,
        "idp_stale_authentication",
        Some(&other_way(&a.interaction)),
    );

    // Ten seconds old: signed in.
    f.idp.set_identity(Identity {
        auth_seconds_ago: Some(10),
        ..Identity::default()
    });
    let b = Browser::new(&f.app.issuer);
    let a = hinted_with(&f, &b, &[("max_age", "300")]).await;
    let claims = signed_in(&f, &b, a).await;
    assert_eq!(claims["idp"], f.idp.issuer.as_str(), "{claims}");
}
both_backends!(
    the_apps_acr_values_max_age_and_prompt_login_reach_the_home_idp_and_a_stale_answer_is_refused,
    super::the_apps_requirements_reach_the_home_idp
);

/// The SSRF guard holds through a whole guest sign-in, not only when an IdP
/// is saved: a node that does not allow private networks, sharing the
/// database of one that trusted an IdP on a loopback address, refuses to
/// call it at sign-in (no discovery, no authorization request reaches it),
/// shows the "not responding" page and records the failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_node_never_calls_a_private_idp_during_a_sign_in() {
    let f = fixture(Backend::Sqlite).await;
    let guarded = f
        .app
        .second_node_with(|s| s.federation_allow_private_networks = false)
        .await;
    let (discoveries, authorizations) = (f.idp.discovery_fetches(), f.idp.authorizations().len());
    catch_up(&f.app);
    let b = Browser::new(&guarded.issuer);
    let (_, challenge) = pkce_pair();
    let url = authorize_url(&f.app, &f.client, &challenge, &[("domain_hint", DOMAIN)]).replacen(
        &f.app.issuer,
        &guarded.issuer,
        1,
    );
    let start = b.get(&url).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let (page, _) = guard(
        "a hinted sign-in on the guarded node",
        follow_all(&b, start, guarded.issuer.clone()),
    )
    .await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("idp_unavailable"), "{}", page.body);
    assert_eq!(f.idp.discovery_fetches(), discoveries, "no discovery fetch");
    assert_eq!(f.idp.authorizations().len(), authorizations);
    assert!(f.idp.token_requests().is_empty());

    let (status, log) = f
        .app
        .api(
            "GET",
            "/api/v1/auditLogs/signIns?$filter=result%20eq%20'failed'",
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let reasons: Vec<&Value> = log["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|r| &r["status"]["additionalDetails"])
        .collect();
    assert_eq!(reasons, vec!["idp_unavailable"], "{log:#}");
}

/// Every way a home-IdP sign-in fails ends in a failure record of the
/// sign-in log naming the reason the page showed; an account the IdP vouched
/// for that is no guest here is recorded with the address it claimed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_are_recorded_in_the_sign_in_log_with_their_reason() {
    let f = fixture(Backend::Sqlite).await;
    redeem_honestly(&f, BOB).await;
    let mut expected = vec![];
    for (scenario, code) in [
        (Scenario::AlgNone, "idp_invalid_response"),
        (Scenario::AuthorizeError, "idp_refused"),
        (Scenario::GarbageToken, "idp_unavailable"),
    ] {
        f.idp.set_scenario(scenario);
        let b = Browser::new(&f.app.issuer);
        let a = hinted(&f, &b).await;
        assert!(a.page.body.contains(code), "{}", a.page.body);
        expected.push(code);
    }
    f.idp.set_scenario(Scenario::Honest);
    f.idp
        .set_identity(who("mallory", "mallory@fabrikam.example", true));
    let b = Browser::new(&f.app.issuer);
    let a = hinted(&f, &b).await;
    assert_eq!(a.page.status, 403);
    expected.push("not_a_guest");

    let (status, log) = f
        .app
        .api(
            "GET",
            "/api/v1/auditLogs/signIns?$filter=result%20eq%20'failed'",
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let rows = log["value"].as_array().expect("value");
    let mut reasons: Vec<&str> = rows
        .iter()
        .filter(|r| r["appId"] == f.client.client_id.as_str())
        .map(|r| {
            r["status"]["additionalDetails"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    reasons.reverse();
    assert_eq!(reasons, expected, "{log:#}");
    let foreign = rows
        .iter()
        .find(|r| r["status"]["additionalDetails"] == "not_a_guest")
        .expect("the not-a-guest record");
    assert_eq!(foreign["userPrincipalName"], "mallory@fabrikam.example");
    assert_eq!(foreign["status"]["errorCode"], 90072);
    for r in rows {
        assert_eq!(r["homeIdentityProvider"], f.idp.issuer.as_str(), "{r:#}");
        let steps = r["authenticationSteps"].as_array().expect("steps");
        assert_eq!(steps.last().expect("a step")["method"], "upstream", "{r:#}");
    }
}
