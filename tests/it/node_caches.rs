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

/// A script that changes the settings twice in a row through a load
/// balancer: the second PATCH lands on a node whose copy predates the first
/// (well within the bound), and must merge into what is stored, not write
/// that copy back over the first change.
async fn settings_patched_on_two_nodes_in_a_row_keep_both_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let peer = app.peer_node().await;
    let (a, b) = (app.url(""), peer.issuer.clone());
    const AUTHN: &str = "/api/v1/policies/authenticationPolicy";
    const AUTHZ: &str = "/api/v1/policies/authorizationPolicy";
    const DOMAINS: &str = "/api/v1/policies/invitationDomainsPolicy";
    // The peer reads (and caches) the defaults.
    for path in [AUTHN, AUTHZ, DOMAINS] {
        assert_eq!(app.api_on(&b, "GET", path, None).await.0, 200);
    }

    let first = json!({"requireMfaFor": "everyone"});
    let (s, v) = app.api_on(&a, "PATCH", AUTHN, Some(first)).await;
    assert_eq!(s, 200, "{v}");
    let second = json!({"rememberMfaMinutes": 60});
    let (s, v) = app.api_on(&b, "PATCH", AUTHN, Some(second)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["requireMfaFor"], &v["rememberMfaMinutes"]),
        (&json!("everyone"), &json!(60)),
        "{v}"
    );
    let (_, stored) = app.api_on(&a, "GET", AUTHN, None).await;
    assert_eq!(stored["requireMfaFor"], "everyone", "{stored}");

    // The collaboration settings: one document behind two endpoints. The
    // peer's own change above emptied its copy: it reads them again.
    assert_eq!(app.api_on(&b, "GET", DOMAINS, None).await.0, 200);
    let first = json!({"allowInvitesFrom": "adminsAndGuestInviters"});
    let (s, v) = app.api_on(&a, "PATCH", AUTHZ, Some(first)).await;
    assert_eq!(s, 200, "{v}");
    let second = json!({"blockedDomains": ["fabrikam.example"]});
    let (s, v) = app.api_on(&b, "PATCH", DOMAINS, Some(second)).await;
    assert_eq!(s, 200, "{v}");
    let (_, stored) = app.api_on(&a, "GET", AUTHZ, None).await;
    assert_eq!(
        stored["allowInvitesFrom"], "adminsAndGuestInviters",
        "{stored}"
    );
}
both_backends!(
    settings_patched_on_two_nodes_in_a_row_keep_both_changes,
    super::settings_patched_on_two_nodes_in_a_row_keep_both_changes
);

fn block_policy(name: &str, location: &str) -> Value {
    json!({
        "displayName": name,
        "state": "enabled",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
            "locations": {"includeLocations": [location]},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    })
}

/// Conditional access edits on two nodes in a row, each node's copy read
/// before the other's change (all within the bound): a policy may name a
/// location just added elsewhere, a PATCH keeps a rename made elsewhere, and
/// a location that a policy added elsewhere names cannot be deleted.
async fn conditional_access_edits_on_two_nodes_in_a_row_see_each_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let peer = app.peer_node().await;
    let (a, b) = (app.url(""), peer.issuer.clone());
    const POLICIES: &str = "/api/v1/identity/conditionalAccess/policies";
    const LOCATIONS: &str = "/api/v1/identity/conditionalAccess/namedLocations";
    let location = |name: &str, range: &str| {
        json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "displayName": name,
            "isTrusted": false,
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": range}],
        })
    };
    let read_both = |node: String| {
        let app = &app;
        async move {
            for path in [POLICIES, LOCATIONS] {
                assert_eq!(app.api_on(&node, "GET", path, None).await.0, 200);
            }
        }
    };

    read_both(b.clone()).await;
    let (s, lab) = app
        .api_on(&a, "POST", LOCATIONS, Some(location("Lab", "192.0.2.0/24")))
        .await;
    assert_eq!(s, 201, "{lab}");
    let lab = lab["id"].as_str().unwrap().to_string();
    let (s, policy) = app
        .api_on(&b, "POST", POLICIES, Some(block_policy("Block lab", &lab)))
        .await;
    assert_eq!(
        s, 201,
        "the location added on the other node is found: {policy}"
    );
    let path = format!("{POLICIES}/{}", policy["id"].as_str().unwrap());

    read_both(b.clone()).await;
    let (s, v) = app
        .api_on(&a, "PATCH", &path, Some(json!({"displayName": "Renamed"})))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .api_on(&b, "PATCH", &path, Some(json!({"state": "disabled"})))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["displayName"], &v["state"]),
        (&json!("Renamed"), &json!("disabled")),
        "{v}"
    );

    let (s, annex) = app
        .api_on(
            &b,
            "POST",
            LOCATIONS,
            Some(location("Annex", "198.51.100.0/24")),
        )
        .await;
    assert_eq!(s, 201, "{annex}");
    let annex = annex["id"].as_str().unwrap().to_string();
    read_both(b.clone()).await;
    let (s, v) = app
        .api_on(
            &a,
            "POST",
            POLICIES,
            Some(block_policy("Block annex", &annex)),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .api_on(&b, "DELETE", &format!("{LOCATIONS}/{annex}"), None)
        .await;
    assert_eq!(s, 409, "a policy added on the other node names it: {v}");
    let (s, _) = app
        .api_on(&a, "GET", &format!("{LOCATIONS}/{annex}"), None)
        .await;
    assert_eq!(s, 200, "still there");
}
both_backends!(
    conditional_access_edits_on_two_nodes_in_a_row_see_each_other,
    super::conditional_access_edits_on_two_nodes_in_a_row_see_each_other
);
