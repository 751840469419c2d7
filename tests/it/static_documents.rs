//! Discovery and the JWKS through the fast path (`server/static_docs.rs`):
//! bytes built once per key change yet never stale past a rotation, the same
//! security headers as every other answer, and still counted in `/metrics`.

use crate::support::*;
use portico_tests::*;

async fn the_served_jwks_names_a_rotated_key_at_once_and_on_the_other_node_before_it_signs(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let peer = app.peer_node().await;
    // Both nodes have built (and cached) their JWKS bytes.
    let old = jwks_kids(&app.url("")).await;
    assert_eq!(jwks_kids(&peer.issuer).await, old);

    let (status, rotated) = app.api("POST", "/api/v1/signingKeys/rotate", None).await;
    assert!(status < 300, "{status} {rotated}");
    let new = rotated["kid"].as_str().expect("kid").to_string();
    let here = jwks_kids(&app.url("")).await;
    assert!(
        here.contains(&new),
        "the rotating node rebuilt its bytes: {here:?}"
    );
    assert!(old.iter().all(|k| here.contains(k)), "{here:?}");

    // The other node's bytes follow within its reload bound, long before
    // the new key signs (the publication delay).
    app.clock.advance(chrono::Duration::seconds(11));
    let there = jwks_kids(&peer.issuer).await;
    assert!(
        there.contains(&new),
        "the other node lacks {new}: {there:?}"
    );
    // Once the old key's tokens have all expired, it leaves both documents.
    let delay = app.server.app.settings.key_publication_delay_secs;
    app.clock
        .advance(chrono::Duration::seconds(delay + 1) + chrono::Duration::minutes(61));
    for base in [app.url(""), peer.issuer.clone()] {
        assert_eq!(jwks_kids(&base).await, vec![new.clone()], "{base}");
    }
}
both_backends!(
    the_served_jwks_names_a_rotated_key_at_once_and_on_the_other_node_before_it_signs,
    super::the_served_jwks_names_a_rotated_key_at_once_and_on_the_other_node_before_it_signs
);

const SECURITY_HEADERS: [&str; 4] = [
    "x-frame-options",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
];

fn counted(metrics: &str, route: &str) -> f64 {
    let labels = [
        "method=\"GET\"".to_string(),
        format!("route=\"{route}\""),
        "status=\"2xx\"".to_string(),
    ];
    metrics
        .lines()
        .filter(|l| l.starts_with("portico_http_requests_total{"))
        .find(|l| labels.iter().all(|want| l.contains(want.as_str())))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_documents_carry_the_usual_headers_and_are_counted() {
    let app = spawn_app(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let usual = http.get(app.url("/healthz")).send().await.unwrap();
    assert!(usual.headers().contains_key("x-request-id"));
    let before = scrape(&app).await;
    for (path, cache) in [
        ("/.well-known/openid-configuration", "public, max-age=300"),
        ("/jwks", "public, max-age=60"),
    ] {
        let r = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        for h in SECURITY_HEADERS {
            assert_eq!(r.headers().get(h), usual.headers().get(h), "{path} {h}");
        }
        assert_eq!(r.headers()["content-type"], "application/json", "{path}");
        assert_eq!(r.headers()["cache-control"], cache, "{path}");
        // Answered before the router, whose layers would have set a request id.
        assert!(
            !r.headers().contains_key("x-request-id"),
            "{path} took the fast path"
        );
        let doc: serde_json::Value = r.json().await.unwrap();
        assert!(doc.is_object(), "{path}");
        // Other methods still go through the router.
        let head = http.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        let post = http.post(app.url(path)).send().await.unwrap();
        assert_eq!(post.status(), 405, "POST {path}");
    }
    let d = get_json(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(d["issuer"], app.issuer);
    assert_eq!(d["jwks_uri"], app.url("/jwks"));
    let after = scrape(&app).await;
    for route in ["/.well-known/openid-configuration", "/jwks"] {
        assert!(
            counted(&after, route) >= counted(&before, route) + 1.0,
            "{route} is counted: {after}"
        );
    }
}
