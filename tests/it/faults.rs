//! Faults (issue 14): the database goes away under traffic and comes back.
//! On a PostgreSQL server of the test's own, stopped like a crash
//! (`pg_ctl -m immediate`) while clients keep asking for tokens: every
//! answer is a token or a 503 with `Retry-After` (never a 500), pages get a
//! readable 503 page, `/readyz` says not ready while `/healthz` stays up,
//! the node recovers by itself when the database is back, and every token
//! it issued is valid (introspection finds each one active).

use portico_storage::cache::CHANGE_BOUND;
use portico_tests::private_pg::PrivatePostgres;
use portico_tests::{Backend, TestApp, spawn};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One client-credentials request: (status, access token if issued, body).
async fn token(app: &TestApp, http: &reqwest::Client) -> (u16, Option<String>, Value, bool) {
    let resp = http
        .post(app.url("/token"))
        .basic_auth(&app.mgmt_client_id, Some(&app.mgmt_client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("the server answers");
    let status = resp.status().as_u16();
    let retry_after = resp.headers().contains_key("retry-after");
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let at = body["access_token"].as_str().map(str::to_string);
    (status, at, body, retry_after)
}

async fn status_of(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("the server answers");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_at_once_and_recovers_by_itself() {
    let pg = PrivatePostgres::start();
    let url = pg.url();
    let app = Arc::new(spawn(Backend::Postgres, None, |s| s.database_url = Some(url)).await);
    let http = reqwest::Client::new();
    assert_eq!(token(&app, &http).await.0, 200);

    // Clients keep asking while the database crashes and comes back.
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (app, stop, http) = (app.clone(), stop.clone(), http.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                seen.push(token(&app, &http).await);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    pg.stop();

    // Down: a token request, a page and readiness say so; liveness does not.
    // A client_credentials token writes nothing, so the node answers it from
    // its caches until their bound has passed (by the test's clock).
    let mut down = None;
    for _ in 0..100 {
        app.clock.advance(CHANGE_BOUND);
        let t = token(&app, &http).await;
        if t.0 == 503 {
            down = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, _, body, retry_after) = down.expect("a 503 once the database is down");
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(retry_after, "a 503 says when to come back");
    let (status, page) = status_of(&app.url("/admin/signin")).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("Temporarily unavailable"), "{page}");
    assert_eq!(status_of(&app.url("/readyz")).await.0, 503);
    assert_eq!(status_of(&app.url("/healthz")).await.0, 200);

    // Back: the same node serves again without a restart.
    pg.restart_up();
    let mut recovered = false;
    for _ in 0..150 {
        if token(&app, &http).await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the node recovers by itself");
    assert_eq!(status_of(&app.url("/readyz")).await.0, 200);
    stop.store(true, Ordering::Relaxed);

    let mut issued = Vec::new();
    for c in clients {
        for (status, at, body, retry_after) in c.await.unwrap() {
            assert!(
                status == 200 || (status == 503 && retry_after),
                "only tokens or 503 + Retry-After, got {status} {body}"
            );
            issued.extend(at);
        }
    }
    assert!(!issued.is_empty());
    // Every token a client received is valid.
    for at in issued {
        let v: Value = http
            .post(app.url("/introspect"))
            .basic_auth(&app.mgmt_client_id, Some(&app.mgmt_client_secret))
            .form(&[("token", at.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["active"], true, "{v}");
    }
}
