//! Self-contained access tokens (issue 11, `oidc::access`) on two nodes that
//! share one database: issuing a `client_credentials` token writes no row; a
//! token issued on one node is accepted on the other; and revoking the token,
//! revoking its grant, disabling its user or deleting its client on one node
//! stops it on the other once `CHANGE_BOUND` has passed (by the shared clock,
//! which the test advances: no timing is asserted).

use crate::support::*;
use chrono::Duration;
use portico_directory::Actor;
use portico_oidc::clients::NewClient;
use portico_oidc::model::{AuthMethod, ClientType};
use portico_storage::cache::CHANGE_BOUND;
use portico_tests::{Backend, TestApp, TestClient, both_backends, spawn_app};
use serde_json::{Value, json};

/// Lets every node's caches pass their bound.
fn past_the_bound(app: &TestApp) {
    app.clock.advance(CHANGE_BOUND + Duration::milliseconds(1));
}

/// `active` as `c` introspects `token` at `base`.
async fn active_at(base: &str, c: &TestClient, token: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{base}/introspect"))
        .basic_auth(&c.client_id, c.secret.as_ref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["active"].clone()
}

async fn revoke_at(base: &str, c: &TestClient, token: &str, hint: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/revoke"))
        .basic_auth(&c.client_id, c.secret.as_ref())
        .form(&[("token", token), ("token_type_hint", hint)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn status_at(base: &str, path: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A confidential app that may call `GET /api/v1/users` through client credentials.
async fn automation_app(app: &TestApp) -> TestClient {
    let (c, secret) = app
        .server
        .app
        .provider
        .register_client(
            NewClient {
                display_name: "Contoso Sync".into(),
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                client_type: ClientType::Confidential,
                token_endpoint_auth_method: Some(AuthMethod::ClientSecretBasic),
                grant_types: Some(vec!["client_credentials".into()]),
                backchannel_logout_uri: None,
                require_mfa: false,
                require_pkce: None,
                app_role_assignment_required: false,
                group_membership_claims: None,
                initiate_login_uri: None,
                logo_uri: None,
                id_token_signed_response_alg: None,
                delegated_permissions: None,
            },
            vec!["User.ReadWrite.All".into()],
            &Actor::system("test"),
        )
        .await
        .expect("client");
    TestClient {
        client_id: c.client_id,
        secret,
        redirect_uri: String::new(),
        post_logout_redirect_uri: String::new(),
    }
}

async fn client_credentials_tokens_are_not_stored_and_are_revoked_on_every_node(backend: Backend) {
    let app = spawn_app(backend).await;
    let peer = app.peer_node().await;
    let (a, b) = (app.url(""), peer.issuer.clone());
    let sync = automation_app(&app).await;
    let cc = [("grant_type", "client_credentials")];
    let storage = &app.server.app.storage;

    // Issuing writes nothing: every table holds as many rows after 40 tokens.
    assert_eq!(token_at(&a, &sync, &cc).await.0, 200);
    let before = storage.table_row_counts().await.unwrap();
    let mut tokens = vec![];
    for _ in 0..40 {
        let (status, body) = token_at(&a, &sync, &cc).await;
        assert_eq!(status, 200, "{body}");
        tokens.push(body["access_token"].as_str().unwrap().to_string());
    }
    assert_eq!(storage.table_row_counts().await.unwrap(), before);

    // Issued on a, accepted on b: the admin API and introspection.
    let (t1, t2) = (&tokens[0], &tokens[1]);
    assert_eq!(status_at(&b, "/api/v1/users", t1).await, 200);
    assert_eq!(active_at(&b, &sync, t1).await, json!(true));

    // One token revoked on a (RFC 7009): refused on b; its sibling lives.
    revoke_at(&a, &sync, t1, "access_token").await;
    assert_eq!(active_at(&a, &sync, t1).await, json!(false), "at once here");
    past_the_bound(&app);
    assert_eq!(active_at(&b, &sync, t1).await, json!(false));
    assert_eq!(status_at(&b, "/api/v1/users", t1).await, 401);
    assert_eq!(status_at(&b, "/api/v1/users", t2).await, 200);
    assert_eq!(active_at(&b, &sync, t2).await, json!(true));

    // The client deleted on a: every token it got is refused on b.
    let id = app_id_of(&app, &sync).await;
    let (status, body) = app
        .api("DELETE", &format!("/api/v1/applications/{id}"), None)
        .await;
    assert!(status < 300, "{status} {body}");
    assert_eq!(
        status_at(&a, "/api/v1/users", t2).await,
        401,
        "at once here"
    );
    past_the_bound(&app);
    for t in &tokens[1..] {
        assert_eq!(status_at(&b, "/api/v1/users", t).await, 401);
    }
}
both_backends!(
    client_credentials_tokens_are_not_stored_and_are_revoked_on_every_node,
    super::client_credentials_tokens_are_not_stored_and_are_revoked_on_every_node
);

async fn a_users_token_is_revoked_on_every_node_by_its_token_grant_user_or_client(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    let peer = app.peer_node().await;
    let (a, b) = (app.url(""), peer.issuer.clone());
    let fresh = || async { tokens_for_alice(&app, &client).await };

    // Issued on a, accepted on b.
    let tokens = fresh().await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(status_at(&b, "/userinfo", access).await, 200);
    let on_b = reqwest::Client::new()
        .post(format!("{b}/introspect"))
        .basic_auth(&client.client_id, client.secret.as_ref())
        .form(&[("token", access)])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        (&on_b["active"], &on_b["sub"], &on_b["client_id"]),
        (&json!(true), &json!(alice), &json!(client.client_id))
    );

    // The access token alone revoked on a: refused on b, its grant lives on.
    revoke_at(&a, &client, access, "access_token").await;
    past_the_bound(&app);
    assert_eq!(status_at(&b, "/userinfo", access).await, 401);
    assert_eq!(active_at(&b, &client, access).await, json!(false));
    let (status, rotated) = token_at(
        &b,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let access = rotated["access_token"].as_str().unwrap();
    assert_eq!(status_at(&b, "/userinfo", access).await, 200);

    // The grant revoked on a (through its refresh token): its access tokens
    // are refused there at once, and on b, which keeps the grant's check
    // (the access_checks cache), once the bound has passed.
    assert_eq!(status_at(&a, "/userinfo", access).await, 200);
    assert_eq!(status_at(&b, "/userinfo", access).await, 200);
    assert!(cache_hits(&b, "access_checks").await >= 1.0);
    revoke_at(
        &a,
        &client,
        rotated["refresh_token"].as_str().unwrap(),
        "refresh_token",
    )
    .await;
    assert_eq!(
        status_at(&a, "/userinfo", access).await,
        401,
        "at once here"
    );
    past_the_bound(&app);
    assert_eq!(status_at(&b, "/userinfo", access).await, 401);
    assert_eq!(active_at(&b, &client, access).await, json!(false));

    // The user disabled on a: refused there at once, and on b.
    let tokens = fresh().await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(status_at(&a, "/userinfo", access).await, 200);
    assert_eq!(status_at(&b, "/userinfo", access).await, 200);
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{alice}"),
            Some(json!({"accountEnabled": false})),
        )
        .await;
    assert!(status < 300, "{status} {body}");
    assert_eq!(
        status_at(&a, "/userinfo", access).await,
        401,
        "at once here"
    );
    past_the_bound(&app);
    assert_eq!(status_at(&b, "/userinfo", access).await, 401);
    assert_eq!(active_at(&b, &client, access).await, json!(false));

    // Enabled again, a new sign-in; then the app deleted on a: refused on b.
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{alice}"),
            Some(json!({"accountEnabled": true})),
        )
        .await;
    assert!(status < 300, "{status} {body}");
    let tokens = fresh().await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(status_at(&b, "/userinfo", access).await, 200);
    let id = app_id_of(&app, &client).await;
    let (status, body) = app
        .api("DELETE", &format!("/api/v1/applications/{id}"), None)
        .await;
    assert!(status < 300, "{status} {body}");
    past_the_bound(&app);
    assert_eq!(status_at(&b, "/userinfo", access).await, 401);
}
both_backends!(
    a_users_token_is_revoked_on_every_node_by_its_token_grant_user_or_client,
    super::a_users_token_is_revoked_on_every_node_by_its_token_grant_user_or_client
);
