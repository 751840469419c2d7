//! Relying parties built with real client libraries nobody here wrote: the
//! `openidconnect` crate and npm `openid-client`, through the real pages.

use crate::support::*;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use portico_tests::{Backend, Browser, both_backends, spawn_app};

async fn openidconnect_crate_completes_code_pkce_refresh_and_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice_id = app.alice().await;
    let c = app.web_app().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(c.client_id.clone()),
        c.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(c.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(&app.issuer);
    let start = browser.get(url.as_str()).await;
    let done = browser
        .follow(
            browser
                .consent(browser.sign_in(start, ALICE, ALICE_PW).await, "accept")
                .await,
        )
        .await;
    let q = query_of(&done.location.expect("redirect"));
    assert_eq!(param(&q, "state").as_deref(), Some(csrf.secret().as_str()));
    let code = param(&q, "code").expect("code");

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint known")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token");
    let id_verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("ID token verifies against the JWKS");
    assert_eq!(claims.subject().as_str(), alice_id);
    assert_eq!(claims.email().map(|e| e.as_str()), Some(ALICE));
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .expect("userinfo endpoint known")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), alice_id);

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("refresh token"))
        .expect("token endpoint known")
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.refresh_token().map(|r| r.secret()),
        tokens.refresh_token().map(|r| r.secret())
    );

    // RP-initiated logout with the ID token as hint: straight back to the app, session gone.
    let logout = format!(
        "{}?{}",
        app.url("/logout"),
        serde_urlencoded::to_string([
            ("id_token_hint", id_token.to_string()),
            (
                "post_logout_redirect_uri",
                c.post_logout_redirect_uri.clone()
            ),
            ("state", "bye".to_string()),
        ])
        .unwrap()
    );
    let out = browser.get(&logout).await;
    assert_eq!(
        out.location.as_deref(),
        Some(format!("{}?state=bye", c.post_logout_redirect_uri).as_str())
    );
    let (_, ch) = portico_tests::pkce_pair();
    let again = browser
        .get(&authorize_url(&app, &c, &ch, &[("prompt", "none")]))
        .await;
    assert_eq!(
        param(&query_of(&again.location.unwrap()), "error").as_deref(),
        Some("login_required")
    );
}
both_backends!(
    openidconnect_crate_completes_code_pkce_refresh_and_logout,
    super::openidconnect_crate_completes_code_pkce_refresh_and_logout
);

#[tokio::test]
async fn logout_refuses_unregistered_post_logout_redirect_uris_and_confirms_without_a_hint() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let c = app.web_app().await;
    let b = Browser::new(&app.issuer);
    sign_in_for_code(&app, &b, &c, &[]).await;
    let bad = b
        .get(&format!(
            "/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
            c.client_id
        ))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.location.is_none());
    // No hint: a confirmation page, and only its CSRF-protected form signs out.
    let confirm = b.get(&format!("/logout?client_id={}", c.client_id)).await;
    assert_eq!(confirm.status, 200);
    let csrf = portico_tests::find_hidden(&confirm.body, "csrf").expect("csrf");
    let forged = b
        .post_form(
            "/logout/confirm",
            &[("csrf", "forged"), ("client_id", &c.client_id)],
        )
        .await;
    assert_eq!(forged.status, 403);
    // Neither the page nor the forged post signed the user out: SSO still works.
    let (_, ch) = portico_tests::pkce_pair();
    let still = b
        .get(&authorize_url(&app, &c, &ch, &[("prompt", "none")]))
        .await;
    assert!(
        param(&query_of(&still.location.unwrap()), "code").is_some(),
        "still signed in"
    );
    let done = b
        .post_form(
            "/logout/confirm",
            &[("csrf", &csrf), ("client_id", &c.client_id)],
        )
        .await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("signed out"));
    let after = b
        .get(&authorize_url(&app, &c, &ch, &[("prompt", "none")]))
        .await;
    assert_eq!(
        param(&query_of(&after.location.unwrap()), "error").as_deref(),
        Some("login_required"),
        "the session ended"
    );
}

/// npm `openid-client` (v6) drives the same flow from Node.
#[tokio::test]
async fn openid_client_npm_completes_code_pkce_refresh_and_logout() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("interop");
    assert!(
        dir.join("node_modules/openid-client").exists(),
        "npm openid-client is not installed: run `npm ci --prefix tests/interop` (Node.js 20+ is needed), or ./test"
    );
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let c = app.web_app().await;
    let out = tokio::process::Command::new("node")
        .arg(dir.join("openid-client-flow.mjs"))
        .env("PORTICO_ISSUER", &app.issuer)
        .env("CLIENT_ID", &c.client_id)
        .env("CLIENT_SECRET", c.secret.as_deref().unwrap())
        .env("REDIRECT_URI", &c.redirect_uri)
        .env("POST_LOGOUT_REDIRECT_URI", &c.post_logout_redirect_uri)
        .env("USER_EMAIL", ALICE)
        .env("USER_PASSWORD", ALICE_PW)
        .output()
        .await
        .expect("node must be installed (apt-get install nodejs, or ./test)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "openid-client flow failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("openid-client interop: OK"), "{stdout}");
}
