//! The in-memory client cache (`storage::cache`) across nodes: a client
//! changed or deleted on one node is never served by another past
//! `CHANGE_BOUND` (1 s by the shared clock, which the test advances), the
//! node that made the change stops at once, and hits show in `/metrics`.

use crate::support::*;
use portico_oidc::model::{AuthMethod, ClientType};
use portico_storage::cache::CHANGE_BOUND;
use portico_tests::*;
use serde_json::json;

async fn client_credentials(base: &str, c: &TestClient) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(&c.client_id, c.secret.as_deref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn a_client_changed_or_deleted_on_one_node_is_refused_on_the_other_within_the_bound(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let peer = app.peer_node().await;
    let here = app.url("");
    let there = peer.issuer.clone();
    let c = app
        .register(
            ClientType::Confidential,
            AuthMethod::ClientSecretBasic,
            &["client_credentials"],
        )
        .await;
    // The other node loads the client, then answers from its cache.
    assert_eq!(client_credentials(&there, &c).await.0, 200);
    assert_eq!(client_credentials(&there, &c).await.0, 200);
    assert!(cache_hits(&there, "clients").await >= 1.0);

    // A change on this node: it holds here at once, and there once the
    // bound has passed.
    let id = app_id_of(&app, &c).await;
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            Some(json!({"grantTypes": []})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let refused = client_credentials(&here, &c).await;
    assert_eq!(
        (refused.0, refused.1["error"].clone()),
        (400, json!("unauthorized_client"))
    );
    app.clock
        .advance(CHANGE_BOUND + chrono::Duration::milliseconds(1));
    let refused = client_credentials(&there, &c).await;
    assert_eq!(
        (refused.0, refused.1["error"].clone()),
        (400, json!("unauthorized_client"))
    );

    // Allowed again, cached again there, then deleted here.
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            Some(json!({"grantTypes": ["client_credentials"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.clock
        .advance(CHANGE_BOUND + chrono::Duration::milliseconds(1));
    assert_eq!(client_credentials(&there, &c).await.0, 200);
    let (status, body) = app
        .api("DELETE", &format!("/api/v1/applications/{id}"), None)
        .await;
    assert!(status < 300, "{status} {body}");
    assert_eq!(client_credentials(&here, &c).await.0, 401);
    app.clock
        .advance(CHANGE_BOUND + chrono::Duration::milliseconds(1));
    let refused = client_credentials(&there, &c).await;
    assert_eq!(
        (refused.0, refused.1["error"].clone()),
        (401, json!("invalid_client"))
    );
}
both_backends!(
    a_client_changed_or_deleted_on_one_node_is_refused_on_the_other_within_the_bound,
    super::a_client_changed_or_deleted_on_one_node_is_refused_on_the_other_within_the_bound
);
