//! Denial of service: every endpoint that reads parameters before the client
//! is authenticated refuses oversized input with a 400 (JSON
//! `invalid_request` on the token family, a page on /authorize and /logout)
//! instead of spending time proportional to its square. How long parsing
//! takes is measured by `cargo bench -p portico-oidc --bench params`, never
//! asserted here.

use crate::support::*;
use portico_tests::{Backend, spawn_app};

/// `p0=v&p1=v&…`: `n` distinct names.
fn distinct_names(n: usize) -> String {
    let mut s = String::with_capacity(n * 10);
    for i in 0..n {
        if i > 0 {
            s.push('&');
        }
        s.push_str(&format!("p{i}=v"));
    }
    s
}

fn form_post(url: String, body: String) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

#[tokio::test]
async fn two_hundred_thousand_distinct_parameter_names_get_a_400_everywhere() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.web_app().await;
    let body = distinct_names(200_000);
    for path in ["/token", "/introspect", "/revoke"] {
        let resp = form_post(
            app.url(path),
            format!("grant_type=client_credentials&{body}"),
        )
        .basic_auth(&client.client_id, client.secret.as_deref())
        .send()
        .await
        .unwrap();
        assert_oauth_error(resp, 400, "invalid_request").await;
    }
    for path in ["/authorize", "/logout", "/logout/confirm"] {
        let resp = form_post(app.url(path), body.clone()).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("too large"), "{path}: {page}");
    }
}

#[tokio::test]
async fn many_parameters_in_a_small_request_are_refused_before_parsing() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.web_app().await;
    // 40 names in well under 1 KiB: the size passes, the count does not.
    let resp = form_post(
        app.url("/token"),
        format!("grant_type=client_credentials&{}", distinct_names(40)),
    )
    .basic_auth(&client.client_id, client.secret.as_deref())
    .send()
    .await
    .unwrap();
    assert_oauth_error(resp, 400, "invalid_request").await;
    // A normal request right after is served.
    let resp = form_post(app.url("/token"), "grant_type=client_credentials".into())
        .basic_auth(&client.client_id, client.secret.as_deref())
        .send()
        .await
        .unwrap();
    assert_ne!(resp.status(), 500);
    // The query of /authorize and /logout has its count capped too.
    let (_, challenge) = portico_tests::pkce_pair();
    let url = format!(
        "{}&{}",
        authorize_url(&app, &client, &challenge, &[]),
        distinct_names(100)
    );
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("too many parameters"));
    let resp = reqwest::get(format!("{}?{}", app.url("/logout"), distinct_names(100)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

/// UI forms take at most 64 KiB (axum's default is 2 MB); a larger body gets
/// the error page with a stable code, not a bare 413.
#[tokio::test]
async fn ui_forms_over_64_kib_get_a_readable_413_page() {
    let app = spawn_app(Backend::Sqlite).await;
    let big = format!("code={}", "1".repeat(70 * 1024));
    let small = format!("code={}", "1".repeat(60 * 1024));
    for path in [
        "/redeem/code",
        "/redeem/verify",
        "/interaction/0192f5c4-6a8e-7c3b-9d2e-1f0a2b3c4d5e/login",
    ] {
        let resp = form_post(app.url(path), big.clone()).send().await.unwrap();
        assert_eq!(resp.status(), 413, "{path}");
        let html = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
        let body = resp.text().await.unwrap();
        assert!(html && body.contains("request_too_large"), "{path}: {body}");
        let resp = form_post(app.url(path), small.clone())
            .send()
            .await
            .unwrap();
        assert_ne!(resp.status(), 413, "{path}: under the limit");
        assert!(resp.status().as_u16() < 500, "{path}");
    }
}
