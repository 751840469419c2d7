//! An https issuer: every response carries `Strict-Transport-Security`
//! (RFC 6797) and Portico's cookies carry the `__Host-` (or, when scoped
//! to a path, `__Secure-`) prefix; an http issuer's do neither. The server is built
//! in-process with an https issuer and served over plain http on port 0
//! (TLS ends at a proxy in front of Portico).

use portico::{App, Settings};
use portico_core::ManualClock;
use portico_tests::{Backend, spawn_app};
use std::net::SocketAddr;
use std::sync::Arc;

const HSTS: &str = "max-age=31536000; includeSubDomains";

async fn serve_https_issuer() -> (String, tokio::task::JoinHandle<()>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("portico-hsts-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = Settings {
        issuer: "https://id.contoso.example".into(),
        data_dir: dir.clone(),
        ..Settings::default()
    };
    let app = App::build(settings, Arc::new(ManualClock::starting_now()))
        .await
        .expect("app builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = app.service();
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(service),
        )
        .await;
    });
    (base, task, dir)
}

#[tokio::test]
async fn an_https_issuer_sends_hsts_on_every_response_and_an_http_one_never() {
    let (base, task, dir) = serve_https_issuer().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/.well-known/openid-configuration",
        "/authorize?client_id=nobody",
        "/no-such-page",
        "/healthz",
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(
            r.headers()
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok()),
            Some(HSTS),
            "{path} ({})",
            r.status()
        );
    }
    task.abort();
    let _ = std::fs::remove_dir_all(dir);

    let plain = spawn_app(Backend::Sqlite).await;
    for path in ["/.well-known/openid-configuration", "/no-such-page"] {
        let r = http.get(plain.url(path)).send().await.unwrap();
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// `name=value` of the first cookie.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn on_an_https_issuer_cookies_carry_the_host_prefix_and_unprefixed_ones_are_ignored() {
    let (base, task, dir) = serve_https_issuer().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The portal's sign-in: a pre-session cookie, then /authorize.
    let start = http
        .get(format!("{base}/admin/signin"))
        .send()
        .await
        .unwrap();
    let signin = set_cookies(&start);
    assert!(!signin.is_empty(), "{}", start.status());
    for c in &signin {
        assert!(
            (c.starts_with("__Host-portico_") || c.starts_with("__Secure-portico_"))
                && c.contains("Secure"),
            "{c}"
        );
    }
    let to = start.headers()["location"].to_str().unwrap().to_string();
    let authorize = http
        .get(format!("{base}{to}"))
        .header("cookie", pair(&signin[0]))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&authorize);
    let interaction = cookies
        .iter()
        .find(|c| c.contains("portico_interaction="))
        .unwrap_or_else(|| panic!("{}: {cookies:?}", authorize.status()));
    assert!(
        interaction.starts_with("__Secure-portico_interaction=") && interaction.contains("Secure"),
        "a path-scoped cookie gets __Secure-: {interaction}"
    );
    let page = authorize.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let page = page.trim_start_matches("https://id.contoso.example");
    let prefixed = pair(interaction);
    let ok = http
        .get(format!("{base}{page}"))
        .header("cookie", &prefixed)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "the prefixed cookie is read");
    let planted = prefixed.trim_start_matches("__Secure-");
    let refused = http
        .get(format!("{base}{page}"))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_ne!(refused.status(), 200, "an unprefixed cookie is not trusted");
    task.abort();
    let _ = std::fs::remove_dir_all(dir);

    let plain = spawn_app(Backend::Sqlite).await;
    let start = http.get(plain.url("/admin/signin")).send().await.unwrap();
    for c in set_cookies(&start) {
        assert!(c.starts_with("portico_"), "{c}");
    }
}
