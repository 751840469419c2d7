//! The token endpoint, introspection and revocation.

use crate::support::*;
use portico_oidc::model::{AuthMethod, ClientType};
use portico_tests::{Backend, Browser, both_backends, spawn_app};

async fn reused_code_is_refused_and_revokes_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    let first = json(redeem(&app, &client, &code, &verifier).await).await;
    let at = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, at).await.status(), 200);
    assert_oauth_error(
        redeem(&app, &client, &code, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_eq!(
        userinfo(&app, at).await.status(),
        401,
        "the replay revoked the access token"
    );
    let rt = first["refresh_token"].as_str().unwrap();
    let r = refresh_request(&app, &client, rt).await;
    assert_oauth_error(r, 400, "invalid_grant").await;
}
both_backends!(
    reused_code_is_refused_and_revokes_tokens,
    super::reused_code_is_refused_and_revokes_tokens
);

#[tokio::test]
async fn codes_expire_after_sixty_seconds() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    app.clock.advance(chrono::Duration::seconds(61));
    assert_oauth_error(
        redeem(&app, &client, &code, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn pkce_is_verified_and_a_downgrade_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    // A fresh browser for each sign-in: a signed-in one would get SSO, not the pages.
    let b = || Browser::new(&app.issuer);
    let (code, _) = sign_in_for_code(&app, &b(), &client, &[]).await;
    let wrong = "a".repeat(43);
    assert_oauth_error(
        redeem(&app, &client, &code, &wrong).await,
        400,
        "invalid_grant",
    )
    .await;
    // Without a challenge at /authorize (an app that opted out of PKCE), a
    // verifier at /token is a downgrade attempt.
    let legacy = app.web_app().await;
    opt_out_of_pkce(&app, &legacy).await;
    let (code, verifier) = sign_in_for_code(
        &app,
        &b(),
        &legacy,
        &[("code_challenge", ""), ("code_challenge_method", "")],
    )
    .await;
    assert_oauth_error(
        redeem(&app, &legacy, &code, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    // And a challenge without a verifier.
    let (code, _) = sign_in_for_code(&app, &b(), &client, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
    ];
    assert_oauth_error(
        token_request(&app, &client, &form).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn the_token_request_must_repeat_the_exact_redirect_uri() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    let other = format!("{}/", client.redirect_uri);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &other),
        ("code_verifier", &verifier),
    ];
    assert_oauth_error(
        token_request(&app, &client, &form).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn client_authentication_rules_are_enforced() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.web_app().await;
    let secret = client.secret.clone().unwrap();
    let http = reqwest::Client::new();
    let url = app.url("/token");
    // Two methods at once.
    let r = http
        .post(&url)
        .basic_auth(&client.client_id, Some(&secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
    // Wrong secret: 401 with WWW-Authenticate.
    let r = http
        .post(&url)
        .basic_auth(&client.client_id, Some("nope"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("www-authenticate"));
    assert_oauth_error(r, 401, "invalid_client").await;
    // client_secret_post for a client registered with client_secret_basic.
    let r = http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", &client.client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 401, "invalid_client").await;
    // No authentication for a confidential client.
    let r = http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", &client.client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 401, "invalid_client").await;
    // Grant type problems.
    let r = http
        .post(&url)
        .basic_auth(&client.client_id, Some(&secret))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "unsupported_grant_type").await;
    let r = http
        .post(&url)
        .basic_auth(&client.client_id, Some(&secret))
        .form(&[("code", "x")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
    let r = http
        .post(&url)
        .basic_auth(&client.client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "unauthorized_client").await;
    // client_secret_post clients work with the body credentials.
    let post = app
        .register(
            ClientType::Confidential,
            AuthMethod::ClientSecretPost,
            &["client_credentials"],
        )
        .await;
    let r = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &post.client_id),
            ("client_secret", post.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reuse_revokes_the_family() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let t1 = tokens_for_alice(&app, &client).await;
    let rt1 = t1["refresh_token"].as_str().unwrap();
    let t2 = json(refresh_request(&app, &client, rt1).await).await;
    let rt2 = t2["refresh_token"].as_str().expect("rotated").to_string();
    assert_ne!(rt1, rt2);
    assert_eq!(
        jwt_claims(t2["id_token"].as_str().unwrap())["sub"],
        jwt_claims(t1["id_token"].as_str().unwrap())["sub"]
    );
    let at2 = t2["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, at2).await.status(), 200);
    // Replay the first one: refused, and the whole family dies.
    assert_oauth_error(
        refresh_request(&app, &client, rt1).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        refresh_request(&app, &client, &rt2).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_eq!(userinfo(&app, at2).await.status(), 401);
}

/// A refresh refused by a check (here a scope wider than the grant) uses
/// nothing up: the token is marked used only with its successor saved, so it
/// still rotates afterwards, and nothing was revoked.
#[tokio::test]
async fn a_refused_refresh_leaves_the_token_usable() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let t1 = tokens_for_alice(&app, &client).await;
    let rt1 = t1["refresh_token"].as_str().unwrap();
    assert_oauth_error(
        token_request(
            &app,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt1),
                (
                    "scope",
                    "openid profile email offline_access User.ReadWrite.All",
                ),
            ],
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;
    let t2 = json(refresh_request(&app, &client, rt1).await).await;
    let rt2 = t2["refresh_token"].as_str().expect("rotated");
    assert_ne!(rt1, rt2);
    assert_eq!(
        userinfo(&app, t1["access_token"].as_str().unwrap())
            .await
            .status(),
        200,
        "the family was not revoked"
    );
}

#[tokio::test]
async fn introspection_and_revocation_see_only_the_callers_tokens() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let other = app.web_app().await;
    let t = tokens_for_alice(&app, &client).await;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let introspect = |c: &portico_tests::TestClient, token: &str| {
        http.post(app.url("/introspect"))
            .basic_auth(&c.client_id, c.secret.as_deref())
            .form(&[("token", token.to_string())])
            .send()
    };
    let v = json(introspect(&client, at).await.unwrap()).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], client.client_id);
    assert_eq!(
        json(introspect(&client, rt).await.unwrap()).await["active"],
        true
    );
    assert_eq!(
        json(introspect(&other, at).await.unwrap()).await["active"],
        false
    );
    assert_eq!(
        json(introspect(&client, "garbage").await.unwrap()).await["active"],
        false
    );
    // Revoke the access token: userinfo and introspection agree.
    let r = http
        .post(app.url("/revoke"))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(userinfo(&app, at).await.status(), 401);
    assert_eq!(
        json(introspect(&client, at).await.unwrap()).await["active"],
        false
    );
    // Another client cannot revoke our refresh token; we can, and it kills the grant.
    let r = http
        .post(app.url("/revoke"))
        .basic_auth(&other.client_id, other.secret.as_deref())
        .form(&[("token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(app.url("/revoke"))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(&[("token", rt), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_oauth_error(
        refresh_request(&app, &client, rt).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn public_clients_use_pkce_and_no_secret() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let spa = app.spa().await;
    let t = tokens_for_alice(&app, &spa).await;
    assert!(t["id_token"].is_string());
    // Public clients may not introspect.
    let r = reqwest::Client::new()
        .post(app.url("/introspect"))
        .form(&[("token", "x"), ("client_id", spa.client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn codes_refresh_tokens_and_client_secrets_are_not_stored_in_clear() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    let t = json(redeem(&app, &client, &code, &verifier).await).await;
    let secrets = [
        code.as_str(),
        t["refresh_token"].as_str().unwrap(),
        client.secret.as_deref().unwrap(),
        ALICE_PW,
    ];
    // Read every byte SQLite wrote (main file and WAL).
    let mut stored = Vec::new();
    for f in ["portico.db", "portico.db-wal"] {
        if let Ok(bytes) = std::fs::read(app.data_dir.join(f)) {
            stored.extend(bytes);
        }
    }
    assert!(stored.len() > 10_000, "the database was read");
    let text = String::from_utf8_lossy(&stored);
    assert!(
        text.contains(ALICE),
        "sanity: plain data is visible this way"
    );
    for s in secrets {
        assert!(!text.contains(s), "a secret is stored in clear");
    }
}
