//! The per-node caches of tenant settings, conditional access and trusted
//! IdPs (`storage::cache`) on two nodes sharing one database: a change made
//! on one node takes effect on the other once `CHANGE_BOUND` has passed (by
//! the shared clock, which the test advances; nothing is timed). The other
//! node has read (and cached) the old state first.

use crate::support::*;
use chrono::Duration;
use portico_directory::Actor;
use portico_tests::hostile::HostileIdp;
use portico_tests::{Backend, Browser, TestApp, TestClient, both_backends, pkce_pair, spawn_app};
use serde_json::{Value, json};

/// Lets every node's caches pass their bound.
fn past_the_bound(app: &TestApp) {
    app.clock
        .advance(portico_storage::cache::CHANGE_BOUND + Duration::milliseconds(1));
}

async fn refresh_at(base: &str, c: &TestClient, refresh: &str) -> (u16, Value) {
    token_at(
        base,
        c,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
}

/// A block policy added on one node refuses a refresh on the other.
async fn a_conditional_access_policy_added_on_one_node_blocks_on_the_other(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let peer = app.peer_node().await;
    let tokens = tokens_for_alice(&app, &client).await;
    // The other node reads the (empty) policies for this refresh.
    let (status, rotated) = refresh_at(
        &peer.issuer,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    assert!(cache_hits(&peer.issuer, "conditional_access").await >= 1.0);

    let (status, body) = app
        .api(
            "POST",
            "/api/v1/identity/conditionalAccess/policies",
            Some(json!({
                "displayName": "Block everything",
                "state": "enabled",
                "conditions": {
                    "users": {"includeUsers": ["All"]},
                    "applications": {"includeApplications": ["All"]},
                },
                "grantControls": {"operator": "OR", "builtInControls": ["block"]},
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    past_the_bound(&app);
    let (status, refused) = refresh_at(
        &peer.issuer,
        &client,
        rotated["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!((status, &refused["error"]), (400, &json!("invalid_grant")));
    assert!(
        refused["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("Block everything")),
        "{refused}"
    );
}
both_backends!(
    a_conditional_access_policy_added_on_one_node_blocks_on_the_other,
    super::a_conditional_access_policy_added_on_one_node_blocks_on_the_other
);

/// `requireMfaFor` set on one node: the other asks for a second factor.
async fn an_authentication_policy_changed_on_one_node_applies_on_the_other(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let peer = app.peer_node().await;
    // This node signs Alice in with her password alone (and caches the policy).
    let (_, page, _) = crate::support::password_step(&app, &client).await;
    assert!(!page.body.contains("totp-secret"), "{}", page.body);
    assert!(cache_hits(&app.url(""), "tenant_settings").await >= 1.0);

    let patch = serde_json::from_value(json!({"requireMfaFor": "everyone"})).unwrap();
    peer.server
        .app
        .provider
        .update_authentication_policy(&patch, ("User", "admin".into(), "Admin".into()))
        .await
        .unwrap();
    past_the_bound(&app);
    let (_, page, _) = crate::support::password_step(&app, &client).await;
    assert_eq!(page.status, 200, "{:?} {}", page.location, page.body);
    assert!(page.body.contains("id=\"totp-secret\""), "{}", page.body);
}
both_backends!(
    an_authentication_policy_changed_on_one_node_applies_on_the_other,
    super::an_authentication_policy_changed_on_one_node_applies_on_the_other
);

/// Where an app sign-in hinted to fabrikam.example leaves the interaction.
async fn hinted_sign_in(app: &TestApp, client: &TestClient) -> portico_tests::Hop {
    let b = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let url = authorize_url(
        app,
        client,
        &challenge,
        &[("domain_hint", "fabrikam.example")],
    );
    let start = b.get(&url).await;
    assert_eq!(start.status, 303, "{}", start.body);
    b.get(start.location.as_deref().unwrap()).await
}

/// An IdP disabled on one node is no longer discovered on the other.
async fn an_idp_disabled_on_one_node_stops_home_realm_discovery_on_the_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let idp = HostileIdp::start("contoso", "contoso-upstream-secret").await;
    let trusted =
        crate::federation::trust(&app, "Fabrikam", &idp.issuer, "contoso-upstream-secret").await;
    let id = trusted["id"].as_str().unwrap().parse().unwrap();
    let client = app.web_app().await;
    let peer = app.peer_node().await;

    let leave = hinted_sign_in(&app, &client).await;
    assert_eq!(leave.status, 303, "{}", leave.body);
    assert!(
        leave
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with(&idp.url("/authorize?"))),
        "{:?}",
        leave.location
    );
    assert!(cache_hits(&app.url(""), "identity_providers").await >= 1.0);

    let patch = serde_json::from_value(json!({"enabled": false})).unwrap();
    peer.server
        .app
        .federation
        .update(id, patch, &Actor::system("test"))
        .await
        .unwrap();
    past_the_bound(&app);
    let page = hinted_sign_in(&app, &client).await;
    assert_eq!(page.status, 200, "{:?} {}", page.location, page.body);
    assert!(page.body.contains("/email-code\""), "{}", page.body);
}
both_backends!(
    an_idp_disabled_on_one_node_stops_home_realm_discovery_on_the_other,
    super::an_idp_disabled_on_one_node_stops_home_realm_discovery_on_the_other
);
