//! Operations: `/healthz`, `/readyz` and Prometheus `/metrics` (loopback
//! only without a token; with one, the bearer token is required), counting
//! requests by route template and sign-ins by result and home IdP.

use crate::support::*;
use portico_tests::*;

/// The value of the first sample of `metric` whose labels contain every one
/// of `labels` (`name="value"`), or 0 when there is none yet.
fn sample(text: &str, metric: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", app.issuer));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("metrics");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", app.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = client
        .get(format!("{}/readyz", app.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

/// A sign-in and the requests it made show up in the counters, labelled by
/// route template (never by raw path or query).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_sign_ins_by_result() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (status, before) = scrape(&app, None).await;
    assert_eq!(status, 200, "{before}");
    let success = ["result=\"success\"", "idp=\"local\""];
    let signed_in_before = sample(&before, "portico_sign_ins_total", &success);
    let authorize = ["route=\"/authorize\"", "method=\"GET\"", "status=\"3xx\""];
    let authorize_before = sample(&before, "portico_http_requests_total", &authorize);

    let browser = Browser::new(&app.issuer);
    sign_in_for_code(&app, &browser, &client, &[]).await;

    let (_, after) = scrape(&app, None).await;
    assert!(
        sample(&after, "portico_sign_ins_total", &success) >= signed_in_before + 1.0,
        "{after}"
    );
    assert!(
        sample(&after, "portico_http_requests_total", &authorize) >= authorize_before + 1.0,
        "{after}"
    );
    assert!(
        after.contains("portico_http_request_duration_seconds_bucket"),
        "{after}"
    );
    assert!(
        after.contains("portico_mail_queue_depth{status=\"pending\"}"),
        "{after}"
    );
    assert!(
        !after.contains("code_challenge"),
        "labels never carry query strings"
    );
}

#[tokio::test]
async fn a_configured_metrics_token_is_required() {
    let app = spawn(Backend::Sqlite, None, |s| {
        s.metrics_token = Some("scrape-secret-1234".into())
    })
    .await;
    let (status, _) = scrape(&app, None).await;
    assert_eq!(status, 401);
    let (status, _) = scrape(&app, Some("wrong")).await;
    assert_eq!(status, 401);
    let (status, body) = scrape(&app, Some("scrape-secret-1234")).await;
    assert_eq!(status, 200);
    assert!(body.contains("portico_http_requests_total"), "{body}");
}

/// `PORTICO_DATABASE_MAX_CONNECTIONS` reaches the node's pool; 0 keeps the
/// default (two per core on SQLite, 16 on PostgreSQL).
async fn the_database_pool_size_is_a_setting(backend: Backend) {
    let app = spawn_app(backend).await;
    let default = match backend {
        Backend::Sqlite => portico_storage::sqlite_default_max_connections(),
        Backend::Postgres => portico_storage::POSTGRES_DEFAULT_MAX_CONNECTIONS,
    };
    assert_eq!(app.server.app.storage.pool_connections().1, default);
    let mut settings = app.server.app.settings.clone();
    settings.database_max_connections = 3;
    let node = portico::App::build(
        settings,
        std::sync::Arc::new(portico_core::ManualClock::starting_now()),
    )
    .await
    .unwrap();
    assert_eq!(node.storage.pool_connections().1, 3);
}

portico_tests::both_backends!(
    database_pool_size,
    super::the_database_pool_size_is_a_setting
);
