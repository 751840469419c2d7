//! The authorization endpoint's refusals: pages before the redirect URI is
//! verified, RFC 6749 §4.1.2.1 redirects after, never a 500.

use crate::support::*;
use portico_tests::{Backend, Browser, both_backends, pkce_pair, spawn_app};

async fn unregistered_redirect_uri_shows_an_error_page_and_never_redirects(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let base = client.redirect_uri.clone();
    let variants = [
        format!("{base}/"),
        base.to_uppercase(),
        format!("{base}?x=1"),
        format!("{base}#frag"),
        base.replace("127.0.0.1", "localhost"),
        base.replace("/callback", "/callbac"),
        "https://evil.example/callback".to_string(),
        String::new(),
    ];
    for uri in variants {
        let hop = b
            .get(&authorize_url(
                &app,
                &client,
                &challenge,
                &[("redirect_uri", &uri)],
            ))
            .await;
        assert_eq!(hop.status, 400, "{uri}");
        assert!(hop.location.is_none(), "never redirect to {uri}");
        assert!(
            hop.body.contains("invalid_redirect_uri"),
            "{uri}: {}",
            hop.body
        );
    }
    // An unknown or missing client: a page too.
    for id in ["no-such-client", ""] {
        let hop = b
            .get(&authorize_url(
                &app,
                &client,
                &challenge,
                &[("client_id", id)],
            ))
            .await;
        assert_eq!(hop.status, 400);
        assert!(hop.location.is_none());
        assert!(hop.body.contains("invalid_client"));
    }
}
both_backends!(
    unregistered_redirect_uri_shows_an_error_page_and_never_redirects,
    super::unregistered_redirect_uri_shows_an_error_page_and_never_redirects
);

#[tokio::test]
async fn errors_after_the_redirect_check_are_redirected_with_state_and_iss() {
    let app = spawn_app(Backend::Sqlite).await;
    let web = app.web_app().await;
    let spa = app.spa().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    type Case<'a> = (
        &'a portico_tests::TestClient,
        Vec<(&'a str, &'a str)>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (&web, vec![("response_type", "")], "invalid_request"),
        (
            &web,
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            &web,
            vec![("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (&web, vec![("scope", "profile email")], "invalid_scope"),
        (
            &spa,
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
        // PKCE is required of confidential clients too (RFC 9700 §2.1.1).
        (
            &web,
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
        (
            &web,
            vec![("code_challenge_method", "plain")],
            "invalid_request",
        ),
        (
            &web,
            vec![("code_challenge", "too-short")],
            "invalid_request",
        ),
        (&web, vec![("prompt", "none login")], "invalid_request"),
        (&web, vec![("prompt", "sometimes")], "invalid_request"),
        (&web, vec![("max_age", "-5")], "invalid_request"),
        (&web, vec![("claims", "{not json")], "invalid_request"),
        (
            &web,
            vec![("request", "eyJhbGciOiJub25lIn0.e30.")],
            "request_not_supported",
        ),
        (
            &web,
            vec![("request_uri", "https://x.example/r")],
            "request_uri_not_supported",
        ),
        (
            &web,
            vec![("id_token_hint", "not.a.jwt")],
            "invalid_request",
        ),
        (&web, vec![("response_mode", "fragment")], "invalid_request"),
    ];
    for (client, extra, expected) in cases {
        let hop = b
            .get(&authorize_url(&app, client, &challenge, &extra))
            .await;
        let loc = hop
            .location
            .unwrap_or_else(|| panic!("{extra:?} must redirect, got {} {}", hop.status, hop.body));
        assert!(loc.starts_with(&client.redirect_uri), "{loc}");
        let q = query_of(&loc);
        assert_eq!(param(&q, "error").as_deref(), Some(expected), "{extra:?}");
        assert_eq!(param(&q, "state").as_deref(), Some("st-123"));
        assert_eq!(param(&q, "iss").as_deref(), Some(app.issuer.as_str()));
        assert!(param(&q, "code").is_none());
    }
    // A repeated parameter (RFC 6749 §3.1).
    let url = format!("{}&state=again", authorize_url(&app, &web, &challenge, &[]));
    let hop = b.get(&url).await;
    assert_eq!(
        param(&query_of(&hop.location.unwrap()), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn malformed_requests_never_cause_a_server_error() {
    let app = spawn_app(Backend::Sqlite).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let junk = [
        "%",
        "%zz",
        "client_id=%FF%FE",
        "a=1&&&=&",
        "claims=%7B",
        "client_id",
        "redirect_uri=%00",
    ];
    for q in junk {
        let r = http
            .get(format!("{}?{q}", app.url("/authorize")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{q}: {}", r.status());
        for path in ["/token", "/introspect", "/revoke", "/userinfo"] {
            let r = http
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(q)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_client_error(), "{path} {q}: {}", r.status());
            let v: serde_json::Value = r.json().await.expect("a JSON error body");
            assert!(v["error"].is_string());
        }
    }
    let r = http
        .post(app.url("/token"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
