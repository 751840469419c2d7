//! The code flow end to end through the real sign-in and consent pages.

use crate::support::*;
use portico_tests::{Backend, Browser, both_backends, pkce_pair, spawn_app};

async fn code_flow_issues_tokens_and_sso_skips_the_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice_id = app.alice().await;
    let client = app.web_app().await;
    let browser = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &browser, &client, &[]).await;
    let resp = redeem(&app, &client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let t = json(resp).await;
    assert_eq!(t["token_type"], "Bearer");
    assert!(
        t["refresh_token"].is_string(),
        "offline_access gives a refresh token"
    );
    let id = jwt_claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], app.issuer);
    assert_eq!(id["aud"], client.client_id);
    assert_eq!(id["sub"], alice_id);
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["email"], ALICE);
    assert_eq!(id["user_type"], "Member");
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert!(id["sid"].is_string() && id["auth_time"].is_i64() && id["at_hash"].is_string());
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(jwt_header(at)["typ"], "at+jwt");

    // UserInfo by GET and by POST (header and body).
    let ui = json(userinfo(&app, at).await).await;
    assert_eq!(ui["sub"], alice_id);
    assert_eq!(ui["email"], ALICE);
    let http = reqwest::Client::new();
    let post = http
        .post(app.url("/userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(json(post).await["sub"], alice_id);

    // A second authorization in the same browser: SSO, straight back with a code.
    let (_, challenge) = pkce_pair();
    let again = browser
        .get(&authorize_url(&app, &client, &challenge, &[]))
        .await;
    let loc = again.location.expect("redirect");
    assert!(
        loc.starts_with(&client.redirect_uri),
        "no pages on SSO: {loc}"
    );
    assert!(param(&query_of(&loc), "code").is_some());

    // prompt=none also succeeds silently now.
    let silent = browser
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert!(param(&query_of(&silent.location.unwrap()), "code").is_some());

    // prompt=login forces the sign-in page again, max_age=0 too.
    for extra in [("prompt", "login"), ("max_age", "0")] {
        app.clock.advance(chrono::Duration::seconds(2));
        let forced = browser
            .follow(
                browser
                    .get(&authorize_url(&app, &client, &challenge, &[extra]))
                    .await,
            )
            .await;
        assert!(
            forced.body.contains("name=\"password\""),
            "{extra:?} shows the sign-in page"
        );
    }
}
both_backends!(
    code_flow_issues_tokens_and_sso_skips_the_pages,
    super::code_flow_issues_tokens_and_sso_skips_the_pages
);

#[tokio::test]
async fn prompt_none_without_a_session_returns_login_required() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let hop = b
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    let q = query_of(&hop.location.expect("redirect"));
    assert_eq!(param(&q, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&q, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&q, "iss").as_deref(), Some(app.issuer.as_str()));
}

#[tokio::test]
async fn declining_consent_returns_access_denied_and_no_code() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let after_login = b.sign_in(start, ALICE, ALICE_PW).await;
    let done = b.follow(b.consent(after_login, "cancel").await).await;
    let q = query_of(&done.location.expect("redirect"));
    assert_eq!(param(&q, "error").as_deref(), Some("access_denied"));
    assert!(param(&q, "code").is_none());
}

#[tokio::test]
async fn wrong_password_shows_a_generic_error_and_no_redirect() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    for (email, pw) in [
        (ALICE, "wrong password"),
        ("nobody@contoso.example", ALICE_PW),
    ] {
        let hop = b
            .sign_in(b.get(start.location.as_deref().unwrap()).await, email, pw)
            .await;
        assert_eq!(hop.status, 200);
        assert!(hop.location.is_none());
        assert!(
            hop.body.contains("The email or password is incorrect."),
            "same message for unknown users"
        );
    }
}

#[tokio::test]
async fn login_form_without_the_csrf_token_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let path = start.location.unwrap();
    let hop = b
        .post_form(
            &format!("{path}/login"),
            &[("csrf", "forged"), ("email", ALICE), ("password", ALICE_PW)],
        )
        .await;
    assert_eq!(hop.status, 403);
    // Another browser (no binding cookie) cannot use the interaction either.
    let other = Browser::new(&app.issuer);
    let page = other.get(&path).await;
    assert_eq!(page.status, 403);
}

#[tokio::test]
async fn form_post_response_mode_delivers_the_code_in_an_autosubmitting_form() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let start = b
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("response_mode", "form_post")],
        ))
        .await;
    let after_login = b.sign_in(start, ALICE, ALICE_PW).await;
    let page = b.follow(b.consent(after_login, "accept").await).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("action=\"{}\"", client.redirect_uri)),
        "{}",
        page.body
    );
    assert!(portico_tests::find_hidden(&page.body, "code").is_some());
    assert_eq!(
        portico_tests::find_hidden(&page.body, "state").as_deref(),
        Some("st-123")
    );
    assert!(portico_tests::find_hidden(&page.body, "iss").is_some());
}

#[tokio::test]
async fn pages_and_cookies_carry_the_security_attributes() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(authorize_url(&app, &client, &challenge, &[]))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_name_for_a_while() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let path = start.location.clone().unwrap();
    for _ in 0..10 {
        let hop = b.sign_in(b.get(&path).await, ALICE, "wrong password").await;
        assert!(hop.body.contains("incorrect"));
    }
    // Now even the right password is refused, without a redirect.
    let hop = b.sign_in(b.get(&path).await, ALICE, ALICE_PW).await;
    assert!(hop.location.is_none());
    assert!(
        hop.body.contains("Too many failed attempts"),
        "{}",
        hop.body
    );
    // After the window, the right password works again.
    app.clock.advance(chrono::Duration::minutes(16));
    let hop = b.sign_in(b.get(&path).await, ALICE, ALICE_PW).await;
    assert!(hop.status.is_redirection(), "{} {}", hop.status, hop.body);
}
