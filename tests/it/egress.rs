//! The SSRF guard on calls to upstream IdPs: with the default settings,
//! Portico calls public addresses only (an IP literal is refused when the
//! IdP is saved, a name when it resolves), and the connection test never
//! echoes what a non-JSON answer contained.

use portico_tests::hostile::{HostileIdp, Scenario};
use portico_tests::{Backend, TestApp, spawn, spawn_app};
use serde_json::{Value, json};

const IDPS: &str = "/api/v1/identityProviders";
const SECRET: &str = "fabrikam-client-secret-0123456789";
const SETTING: &str = "PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS";

fn idp(issuer: &str) -> Value {
    json!({
        "displayName": "Fabrikam",
        "issuer": issuer,
        "clientId": "contoso-portico",
        "clientSecret": SECRET,
        "domains": [],
    })
}

async fn guarded_app() -> TestApp {
    spawn(Backend::Sqlite, None, |s| {
        s.federation_allow_private_networks = false;
    })
    .await
}

#[tokio::test]
async fn by_default_an_idp_on_a_loopback_address_is_refused_when_saved() {
    let upstream = HostileIdp::start("contoso-portico", SECRET).await;
    let port = upstream.issuer.rsplit(':').next().unwrap().to_string();
    let app = guarded_app().await;
    for issuer in [
        upstream.issuer.clone(),
        format!("http://[::1]:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let (status, v) = app.api("POST", IDPS, Some(idp(&issuer))).await;
        assert_eq!(status, 400, "{issuer}: {v}");
        let detail = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("issuer:") && detail.contains(SETTING),
            "{issuer}: {v}"
        );
    }
    let (_, list) = app.api("GET", IDPS, None).await;
    assert_eq!(list["value"].as_array().map(Vec::len), Some(0), "{list}");
    assert_eq!(upstream.discovery_fetches(), 0, "nothing was fetched");
}

/// A name is judged by what it resolves to, at the moment of connecting:
/// this machine's host name resolves to a loopback or private address.
#[tokio::test]
async fn by_default_a_name_resolving_to_a_private_address_is_not_called() {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the host name")
        .trim()
        .to_string();
    let resolved: Vec<_> = tokio::net::lookup_host((host.as_str(), 443))
        .await
        .expect("the host name resolves")
        .collect();
    assert!(
        resolved
            .iter()
            .all(|a| !portico_federation::is_public(a.ip())),
        "this test needs a host name that resolves to non-public addresses: {host} → {resolved:?}"
    );
    let app = guarded_app().await;
    let (status, created) = app
        .api("POST", IDPS, Some(idp(&format!("https://{host}:9443"))))
        .await;
    assert_eq!(status, 201, "a name is accepted when saved: {created}");
    let id = created["id"].as_str().unwrap();
    let (status, report) = app.api("POST", &format!("{IDPS}/{id}/test"), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    let discovery = &report["steps"][0];
    assert_eq!(discovery["name"], "Discovery");
    let detail = discovery["detail"].as_str().unwrap();
    assert!(
        detail.contains("private, loopback or link-local") && detail.contains(SETTING),
        "{detail}"
    );
}

#[tokio::test]
async fn the_connection_test_never_echoes_a_non_json_answer() {
    let upstream = HostileIdp::start("contoso-portico", SECRET).await;
    upstream.set_scenario(Scenario::GarbageDiscovery);
    let app = spawn_app(Backend::Sqlite).await;
    let (status, created) = app.api("POST", IDPS, Some(idp(&upstream.issuer))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (_, report) = app.api("POST", &format!("{IDPS}/{id}/test"), None).await;
    assert_eq!(upstream.discovery_fetches(), 1);
    let detail = report["steps"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("did not answer a JSON object"), "{detail}");
    assert!(
        !report.to_string().contains("nope"),
        "the body was echoed: {report}"
    );
}
