//! OpenID Connect Back-Channel Logout 1.0: when a session ends, every
//! application it signed in to that registered a back-channel URI gets a
//! signed logout token (and no other application does), from a durable
//! queue that retries with backoff and gives up after a bounded number of
//! tries. Time moves only when a test advances the clock; the sender runs
//! when the test says so.

use crate::support::*;
use chrono::Duration;
use josekit::jwk::JwkSet;
use josekit::jws::RS256;
use josekit::jwt;
use portico_core::Clock;
use portico_oidc::backchannel::{BACKCHANNEL_LOGOUT_EVENT, DeliveryReport, MAX_ATTEMPTS};
use portico_tests::{
    Backend, Browser, LogoutReceiver, TestApp, TestClient, both_backends, pkce_pair, spawn_app,
};
use serde_json::{Value, json};

/// Signs alice in to `client` in `browser`; the token response.
async fn sign_in(app: &TestApp, browser: &Browser, client: &TestClient, scope: &str) -> Value {
    let (code, verifier) = sign_in_for_code(app, browser, client, &[("scope", scope)]).await;
    let resp = redeem(app, client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    json(resp).await
}

/// Single sign-on to another app in a signed-in `browser`: consent, then the code.
async fn sso(app: &TestApp, browser: &Browser, client: &TestClient, scope: &str) -> Value {
    let (verifier, challenge) = pkce_pair();
    let url = authorize_url(app, client, &challenge, &[("scope", scope)]);
    let consent = browser.follow(browser.get(&url).await).await;
    let done = browser
        .follow(browser.consent(consent, "accept").await)
        .await;
    let code = param(&query_of(&done.location.expect("back to the app")), "code").expect("code");
    let resp = redeem(app, client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    json(resp).await
}

/// RP-initiated logout with the ID token as hint (ends the session at once).
async fn log_out(app: &TestApp, browser: &Browser, client: &TestClient, id_token: &str) {
    let url = format!(
        "{}?{}",
        app.url("/logout"),
        serde_urlencoded::to_string([
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", &client.post_logout_redirect_uri),
        ])
        .unwrap()
    );
    let out = browser.get(&url).await;
    assert_eq!(out.status, 303, "{}", out.body);
}

async fn deliver(app: &TestApp) -> DeliveryReport {
    app.server
        .app
        .workers
        .backchannel
        .run_once()
        .await
        .unwrap()
        .expect("this node holds the lease")
}

/// Verifies the logout token's signature against the published JWKS (josekit)
/// and returns (header, claims).
async fn verify(app: &TestApp, token: &str) -> (Value, Value) {
    let jwks = reqwest::get(app.url("/jwks"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let set = JwkSet::from_bytes(&jwks).unwrap();
    let header = jwt_header(token);
    let kid = header["kid"].as_str().unwrap();
    let jwk = set.get(kid).first().copied().expect("published key");
    let verifier = RS256.verifier_from_jwk(jwk).unwrap();
    let (payload, _) = jwt::decode_with_verifier(token, &verifier).expect("valid signature");
    (header, Value::Object(payload.claims_set().clone()))
}

async fn only_the_signed_in_apps_get_a_signed_logout_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let rp = LogoutReceiver::start().await;
    let signed_in = app.web_app_with_backchannel(&rp.uri("/a")).await;
    let never_used = app.web_app_with_backchannel(&rp.uri("/b")).await;
    let without_uri = app.web_app().await;
    let browser = Browser::new(&app.issuer);
    let a = sign_in(&app, &browser, &signed_in, "openid offline_access").await;
    let c = sso(&app, &browser, &without_uri, "openid").await;
    assert!(
        c.get("refresh_token").is_none(),
        "no refresh token without offline_access"
    );
    let id_token = a["id_token"].as_str().unwrap();
    let sid = jwt_claims(id_token)["sid"].clone();
    assert!(sid.is_string(), "the ID token carries sid");
    // Alice's other browser signed in to the other app: that session stays,
    // so that app gets nothing.
    let other = Browser::new(&app.issuer);
    let _ = sign_in(&app, &other, &never_used, "openid").await;

    assert_eq!(
        deliver(&app).await,
        DeliveryReport::default(),
        "nothing before logout"
    );
    log_out(&app, &browser, &signed_in, id_token).await;
    assert_eq!(deliver(&app).await.delivered, 1);
    let got = rp.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "/a");
    let (header, claims) = verify(&app, &got[0].1).await;
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], app.issuer.as_str());
    assert_eq!(claims["aud"], signed_in.client_id.as_str());
    assert_eq!(claims["sub"], alice.as_str());
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["events"], json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
    assert!(
        claims.get("nonce").is_none(),
        "a logout token never has a nonce"
    );
    assert!(claims["jti"].is_string());
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!((1..=120).contains(&lifetime), "short-lived: {lifetime}");

    assert_eq!(deliver(&app).await, DeliveryReport::default(), "sent once");
    // A refresh token is issued only with offline_access, and outlives the session.
    let refreshed = refresh_request(&app, &signed_in, a["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        refreshed.status(),
        200,
        "offline_access outlives the session"
    );
}
both_backends!(
    only_the_signed_in_apps_get_a_signed_logout_token,
    super::only_the_signed_in_apps_get_a_signed_logout_token
);

async fn a_failed_delivery_is_retried_later_and_given_up_after_the_last_try(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let rp = LogoutReceiver::start().await;
    let client = app.web_app_with_backchannel(&rp.uri("/bc")).await;

    // Down, then up: the next try after the backoff delivers it.
    rp.answer(503);
    let browser = Browser::new(&app.issuer);
    let t = sign_in(&app, &browser, &client, "openid").await;
    log_out(&app, &browser, &client, t["id_token"].as_str().unwrap()).await;
    assert_eq!(deliver(&app).await.retried, 1);
    rp.answer(204);
    assert_eq!(
        deliver(&app).await,
        DeliveryReport::default(),
        "not due yet"
    );
    app.clock.advance(Duration::seconds(31));
    assert_eq!(deliver(&app).await.delivered, 1);
    assert_eq!(rp.received().len(), 2);

    // Always failing: exactly MAX_ATTEMPTS tries, then given up.
    rp.answer(500);
    let browser = Browser::new(&app.issuer);
    let t = sign_in(&app, &browser, &client, "openid").await;
    log_out(&app, &browser, &client, t["id_token"].as_str().unwrap()).await;
    let mut given_up = 0;
    for _ in 0..MAX_ATTEMPTS + 2 {
        given_up += deliver(&app).await.given_up;
        app.clock.advance(Duration::hours(1));
    }
    assert_eq!(given_up, 1);
    assert_eq!(rp.received().len(), 2 + MAX_ATTEMPTS as usize);

    // Finished deliveries are purged by the clean-up after a while.
    let rows = |c: Vec<(&'static str, u64)>| {
        c.iter()
            .find(|(t, _)| *t == "backchannel_logouts")
            .unwrap()
            .1
    };
    assert_eq!(rows(app.server.app.storage.row_counts().await.unwrap()), 2);
    app.clock.advance(Duration::days(2));
    app.server
        .app
        .storage
        .purge_expired(app.clock.now())
        .await
        .unwrap();
    assert_eq!(rows(app.server.app.storage.row_counts().await.unwrap()), 0);
}
both_backends!(
    a_failed_delivery_is_retried_later_and_given_up_after_the_last_try,
    super::a_failed_delivery_is_retried_later_and_given_up_after_the_last_try
);

async fn disabling_a_user_sends_the_logout_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let rp = LogoutReceiver::start().await;
    let client = app.web_app_with_backchannel(&rp.uri("/bc")).await;
    let browser = Browser::new(&app.issuer);
    let t = sign_in(&app, &browser, &client, "openid").await;
    let sid = jwt_claims(t["id_token"].as_str().unwrap())["sid"].clone();
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{alice}"),
            Some(json!({"accountEnabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(deliver(&app).await.delivered, 1);
    let (_, claims) = verify(&app, &rp.received()[0].1).await;
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["sub"], alice.as_str());
}
both_backends!(
    disabling_a_user_sends_the_logout_token,
    super::disabling_a_user_sends_the_logout_token
);

/// A session that merely expires ends like a signed-out one: the clean-up
/// that deletes it queues the logout token for the apps it signed in to.
async fn an_expired_session_sends_the_logout_token_when_it_is_cleaned_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let rp = LogoutReceiver::start().await;
    let client = app.web_app_with_backchannel(&rp.uri("/bc")).await;
    let browser = Browser::new(&app.issuer);
    let t = sign_in(&app, &browser, &client, "openid").await;
    let sid = jwt_claims(t["id_token"].as_str().unwrap())["sid"].clone();

    let storage = &app.server.app.storage;
    let report = storage.purge_expired(app.clock.now()).await.unwrap();
    assert_eq!(report.of("sessions"), 0, "the session is still valid");
    assert_eq!(deliver(&app).await.delivered, 0);

    app.clock
        .advance(Duration::hours(12) + Duration::minutes(1));
    let report = storage.purge_expired(app.clock.now()).await.unwrap();
    assert_eq!(report.of("sessions"), 1);
    assert_eq!(deliver(&app).await.delivered, 1);
    let (_, claims) = verify(&app, &rp.received()[0].1).await;
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["sub"], alice.as_str());
    // The browser's session is gone: the next request asks for a sign-in.
    assert_eq!(
        storage
            .purge_expired(app.clock.now())
            .await
            .unwrap()
            .of("sessions"),
        0
    );
}
both_backends!(
    an_expired_session_sends_the_logout_token_when_it_is_cleaned_up,
    super::an_expired_session_sends_the_logout_token_when_it_is_cleaned_up
);

#[tokio::test]
async fn discovery_advertises_back_channel_logout_with_sessions() {
    let app = spawn_app(Backend::Sqlite).await;
    let d = crate::support::get_json(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);
}
