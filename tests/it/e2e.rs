//! A person in headless Chromium (Debian `chromium`, driven by playwright-core):
//! the real sign-in and consent pages, with our CSP, back to the app by query
//! and by the form_post auto-submit (which needs the page's script to run).

use crate::support::*;
use portico_tests::{Backend, pkce_pair, spawn_app};
use serde_json::Value;

async fn sign_in_in_chromium(response_mode: &str) -> (Value, portico_tests::TestClient) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci --prefix tests/e2e` (Node.js 20+)"
    );
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is not installed: run `apt-get install -y chromium` (or set CHROMIUM_PATH)"
    );
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let url = authorize_url(
        &app,
        &client,
        &challenge,
        &[("response_mode", response_mode)],
    );
    let out = tokio::process::Command::new("node")
        .arg(dir.join("signin.mjs"))
        .env("AUTHORIZE_URL", url)
        .env("REDIRECT_URI", &client.redirect_uri)
        .env("USER_EMAIL", ALICE)
        .env("USER_PASSWORD", ALICE_PW)
        .env("CHROMIUM_PATH", &chromium)
        .output()
        .await
        .expect("node must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "chromium journey failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(
        v["cspViolations"],
        serde_json::json!([]),
        "our own pages must not trip our CSP"
    );
    (v, client)
}

#[tokio::test]
async fn a_person_signs_in_and_consents_in_chromium_and_the_app_gets_a_code() {
    let (v, client) = sign_in_in_chromium("query").await;
    assert_eq!(v["method"], "GET");
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&client.redirect_uri));
    let q = query_of(url);
    assert!(param(&q, "code").is_some());
    assert_eq!(param(&q, "state").as_deref(), Some("st-123"));
}

#[tokio::test]
async fn form_post_auto_submits_in_chromium() {
    let (v, _) = sign_in_in_chromium("form_post").await;
    assert_eq!(v["method"], "POST", "the form posted itself");
    let body: Vec<(String, String)> =
        serde_urlencoded::from_str(v["postData"].as_str().unwrap()).unwrap();
    assert!(param(&body, "code").is_some());
    assert_eq!(param(&body, "state").as_deref(), Some("st-123"));
}
