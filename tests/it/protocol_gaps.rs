//! The last protocol gaps a black-box conformance run found: `max_age=0`,
//! "Cancel" on the sign-in page, loopback redirect URIs for native apps,
//! PKCE for every client, codes presented by the wrong party, and public
//! clients revoking their own tokens.

use crate::support::{
    app_id_of, assert_oauth_error, authorize_url, json, param, query_of, redeem, refresh_request,
    sign_in_for_code, token_request, userinfo,
};
use portico_tests::{
    Backend, Browser, TestClient, both_backends, find_hidden, form_action, pkce_pair, spawn_app,
};
use serde_json::json;

/// OIDC Core §3.1.2.1: `max_age=0` equals `prompt=login`, even within the
/// second the session was made; with `prompt=none` it is `login_required`.
async fn max_age_zero_asks_for_a_fresh_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    sign_in_for_code(&app, &b, &client, &[]).await;
    let (_, challenge) = pkce_pair();
    // The clock has not moved: the session is zero seconds old.
    let silent = b
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("prompt", "none"), ("max_age", "0")],
        ))
        .await;
    let q = query_of(silent.location.as_deref().unwrap());
    assert_eq!(
        param(&q, "error").as_deref(),
        Some("login_required"),
        "{q:?}"
    );
    assert_eq!(param(&q, "state").as_deref(), Some("st-123"));
    let again = b
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("max_age", "0")],
        ))
        .await;
    let page = b.follow(again).await;
    assert!(page.body.contains("name=\"password\""), "{}", page.body);
    // Signing in again satisfies it.
    let (code, _) = sign_in_for_code(&app, &b, &client, &[("max_age", "0")]).await;
    assert!(!code.is_empty());
}
both_backends!(
    max_age_zero_asks_for_a_fresh_sign_in,
    super::max_age_zero_asks_for_a_fresh_sign_in
);

/// "Cancel" on the sign-in page sends `access_denied` (with `state` and
/// `iss`) to the verified redirect URI, and the sign-in log records the abort.
async fn cancel_on_the_sign_in_page_returns_access_denied(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let page = b.follow(start).await;
    assert!(page.body.contains("/cancel"), "{}", page.body);
    let id = form_action(&page.body)
        .trim_start_matches("/interaction/")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    // Without the form's CSRF token nothing happens.
    let forged = b
        .post_form(&format!("/interaction/{id}/cancel"), &[("csrf", "x")])
        .await;
    assert_eq!(forged.status, 403);
    let back = b
        .follow(
            b.post_form(&format!("/interaction/{id}/cancel"), &[("csrf", &csrf)])
                .await,
        )
        .await;
    let loc = back.location.expect("back to the app");
    assert!(loc.starts_with(&client.redirect_uri), "{loc}");
    let q = query_of(&loc);
    assert_eq!(param(&q, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&q, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&q, "iss").as_deref(), Some(app.issuer.as_str()));
    let (status, log) = app.api("GET", "/api/v1/auditLogs/signIns", None).await;
    assert_eq!(status, 200, "{log}");
    let rows = log["value"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{log}");
    assert_eq!(rows[0]["result"], "aborted");
    assert_eq!(rows[0]["status"]["additionalDetails"], "user_cancelled");
    assert_eq!(rows[0]["appId"], client.client_id.as_str());
}
both_backends!(
    cancel_on_the_sign_in_page_returns_access_denied,
    super::cancel_on_the_sign_in_page_returns_access_denied
);

/// RFC 8252 §7.3: a native app registered with `http://127.0.0.1/cb` (or
/// `[::1]`) may use any port; the token request repeats the URI it used.
async fn loopback_redirect_uris_accept_any_port(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let (status, created) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(json!({
                "displayName": "Desktop app",
                "clientType": "public",
                "redirectUris": ["http://127.0.0.1/native/cb", "http://[::1]/native/cb"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let native = |uri: &str| TestClient {
        client_id: created["clientId"].as_str().unwrap().to_string(),
        secret: None,
        redirect_uri: uri.to_string(),
        post_logout_redirect_uri: String::new(),
    };
    // Two-digit ports never collide with the test server's own.
    let on_port = native("http://127.0.0.1:53/native/cb");
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &on_port, &[]).await;
    let t = redeem(&app, &on_port, &code, &verifier).await;
    assert_eq!(t.status(), 200);
    // Another port next time, and IPv6.
    for uri in ["http://127.0.0.1:61/native/cb", "http://[::1]:62/native/cb"] {
        let b = Browser::new(&app.issuer);
        let (code, verifier) = sign_in_for_code(&app, &b, &native(uri), &[]).await;
        let t = redeem(&app, &native(uri), &code, &verifier).await;
        assert_eq!(t.status(), 200, "{uri}");
    }
    // The token request must repeat the port it used (RFC 6749 §4.1.3).
    let (code, verifier) = sign_in_for_code(&app, &Browser::new(&app.issuer), &on_port, &[]).await;
    let other_port = native("http://127.0.0.1:54/native/cb");
    assert_oauth_error(
        redeem(&app, &other_port, &code, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    // Nothing else varies: path, host name, scheme.
    let (_, challenge) = pkce_pair();
    for uri in [
        "http://127.0.0.1:53/native/cb/",
        "http://localhost:53/native/cb",
        "https://127.0.0.1:53/native/cb",
        "http://127.0.0.1:053/native/cb",
    ] {
        let hop = b
            .get(&authorize_url(&app, &native(uri), &challenge, &[]))
            .await;
        assert_eq!(hop.status, 400, "{uri}");
        assert!(hop.location.is_none(), "never redirect to {uri}");
    }
}
both_backends!(
    loopback_redirect_uris_accept_any_port,
    super::loopback_redirect_uris_accept_any_port
);

/// OAuth 2.1 / RFC 9700 §2.1.1: every app sends PKCE unless an admin let a
/// confidential one stop (`requirePkce: false`); a public one never can.
async fn pkce_is_required_by_default_and_only_confidential_apps_opt_out(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let web = app.web_app().await;
    let spa = app.spa().await;
    let b = Browser::new(&app.issuer);
    let no_pkce = [("code_challenge", ""), ("code_challenge_method", "")];
    let hop = b.get(&authorize_url(&app, &web, "", &no_pkce)).await;
    let q = query_of(hop.location.as_deref().expect("error to the app"));
    assert_eq!(param(&q, "error").as_deref(), Some("invalid_request"));
    let web_id = app_id_of(&app, &web).await;
    let (_, shown) = app
        .api("GET", &format!("/api/v1/applications/{web_id}"), None)
        .await;
    assert_eq!(shown["requirePkce"], true, "{shown}");
    // A public client cannot opt out, neither when made nor later.
    let spa_id = app_id_of(&app, &spa).await;
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{spa_id}"),
            Some(json!({"requirePkce": false})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("requirePkce"), "{body}");
    let (status, body) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(json!({
                "displayName": "SPA",
                "clientType": "public",
                "redirectUris": ["https://spa.example/cb"],
                "requirePkce": false,
            })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // A confidential one can; then a request without PKCE gets its code.
    crate::support::opt_out_of_pkce(&app, &web).await;
    let (code, _) = sign_in_for_code(&app, &b, &web, &no_pkce).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", web.redirect_uri.as_str()),
    ];
    assert_eq!(token_request(&app, &web, &form).await.status(), 200);
    // The portal shows it and turns it back on.
    let admin = app.portal_admin().await;
    let page = admin.get("/admin/authentication").await;
    assert!(page.body.contains("Requires PKCE"), "{}", page.body);
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let spa_off = admin
        .post_form(
            &format!("/admin/applications/{spa_id}/require-pkce"),
            &[("csrf", &csrf), ("require_pkce", "off")],
        )
        .await;
    assert_eq!(spa_off.status, 400, "{}", spa_off.body);
    let on = admin
        .post_form(
            &format!("/admin/applications/{web_id}/require-pkce"),
            &[("csrf", &csrf), ("require_pkce", "on")],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.body);
    let (_, shown) = app
        .api("GET", &format!("/api/v1/applications/{web_id}"), None)
        .await;
    assert_eq!(shown["requirePkce"], true, "{shown}");
}
both_backends!(
    pkce_is_required_by_default_and_only_confidential_apps_opt_out,
    super::pkce_is_required_by_default_and_only_confidential_apps_opt_out
);

/// A code presented by another client, or with another `redirect_uri`, is
/// refused and left for its rightful client; a wrong PKCE verifier burns it.
async fn only_the_rightful_client_can_burn_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let thief = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    // Another client, with everything else right.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    assert_oauth_error(
        token_request(&app, &thief, &form).await,
        400,
        "invalid_grant",
    )
    .await;
    // The rightful client with another redirect_uri.
    let other_uri = format!("{}/x", client.redirect_uri);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", other_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    assert_oauth_error(
        token_request(&app, &client, &form).await,
        400,
        "invalid_grant",
    )
    .await;
    // The code still works for its client.
    let t = redeem(&app, &client, &code, &verifier).await;
    assert_eq!(t.status(), 200);
    let at = json(t).await["access_token"].as_str().unwrap().to_string();
    // Another client replaying the used code revokes nothing.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    assert_oauth_error(
        token_request(&app, &thief, &form).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_eq!(userinfo(&app, &at).await.status(), 200);
    // A wrong verifier burns the code: the right one fails afterwards.
    let (code, verifier) = sign_in_for_code(&app, &Browser::new(&app.issuer), &client, &[]).await;
    let wrong = "b".repeat(43);
    assert_oauth_error(
        redeem(&app, &client, &code, &wrong).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        redeem(&app, &client, &code, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
}
both_backends!(
    only_the_rightful_client_can_burn_a_code,
    super::only_the_rightful_client_can_burn_a_code
);

/// RFC 7009 §2.1: a public client revokes its own tokens with its
/// `client_id` alone, and only its own.
async fn public_clients_revoke_their_own_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let spa = app.spa().await;
    let other = app.spa().await;
    let t = crate::support::tokens_for_alice(&app, &spa).await;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let revoke = |client_id: &str, token: &str| {
        http.post(app.url("/revoke"))
            .form(&[("token", token), ("client_id", client_id)])
            .send()
    };
    // Another public client cannot.
    let r = revoke(&other.client_id, rt).await.unwrap();
    assert_eq!(r.status(), 400);
    // Unknown clients are not authenticated.
    let r = revoke("no-such-client", rt).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = revoke(&spa.client_id, at).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(userinfo(&app, at).await.status(), 401);
    let r = revoke(&spa.client_id, rt).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_oauth_error(refresh_request(&app, &spa, rt).await, 400, "invalid_grant").await;
    // Introspection stays for confidential clients.
    let r = http
        .post(app.url("/introspect"))
        .form(&[("token", at), ("client_id", spa.client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
both_backends!(
    public_clients_revoke_their_own_tokens,
    super::public_clients_revoke_their_own_tokens
);
