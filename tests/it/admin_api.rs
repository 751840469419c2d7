//! The admin API: bearer tokens from Portico, Graph-named permissions, JSON errors.

use crate::support::*;
use portico_tests::{Backend, both_backends, spawn_app};
use serde_json::{Value, json};

async fn applications_and_users_can_be_managed_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let http = reqwest::Client::new();
    let api = |p: &str| app.url(&format!("/api/v1{p}"));

    let body = json!({
        "displayName": "Trials",
        "redirectUris": ["https://trials.contoso.example/cb"],
        "postLogoutRedirectUris": ["https://trials.contoso.example/bye"],
        "clientType": "confidential",
        "tokenEndpointAuthMethod": "client_secret_post",
        "grantTypes": ["authorization_code", "refresh_token"]
    });
    let r = http
        .post(api("/applications"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        created["clientSecret"]
            .as_str()
            .is_some_and(|s| s.len() >= 43)
    );
    assert!(created["clientId"].is_string());

    let one: Value = http
        .get(api(&format!("/applications/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["displayName"], "Trials");
    assert!(
        one.get("clientSecret").is_none(),
        "the secret is shown once"
    );
    let list: Value = http
        .get(api("/applications"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );

    let r = http
        .patch(api(&format!("/applications/{id}")))
        .bearer_auth(&token)
        .json(&json!({"displayName": "Trials 2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["displayName"], "Trials 2");

    // Bad input: a clear 4xx JSON problem, nothing written.
    for bad in [
        json!({"displayName": "x", "clientType": "confidential", "redirectUris": ["http://evil.example/cb"]}),
        json!({"displayName": "x", "clientType": "public", "tokenEndpointAuthMethod": "client_secret_basic", "redirectUris": ["https://a.example/cb"]}),
        json!({"displayName": "x", "clientType": "public", "redirectUris": ["https://a.example/cb"], "grantTypes": ["client_credentials"]}),
        json!({"displayName": "x", "clientType": "confidential"}),
        json!({"displayName": "x", "clientType": "sometimes"}),
    ] {
        let r = http
            .post(api("/applications"))
            .bearer_auth(&token)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"].is_string(), "{v}");
    }
    let r = http
        .post(api("/applications"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let r = http
        .delete(api(&format!("/applications/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http
        .get(api(&format!("/applications/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Users.
    let u = json!({"displayName": "Bob", "mail": "bob@contoso.example", "password": "long enough pw", "userType": "Member"});
    let r = http
        .post(api("/users"))
        .bearer_auth(&token)
        .json(&u)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let bob: Value = r.json().await.unwrap();
    assert_eq!(bob["userType"], "Member");
    assert!(bob.get("password").is_none() && bob.get("passwordHash").is_none());
    let r = http
        .post(api("/users"))
        .bearer_auth(&token)
        .json(&u)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "duplicate mail");
    let bob_id = bob["id"].as_str().unwrap();
    let r = http
        .patch(api(&format!("/users/{bob_id}")))
        .bearer_auth(&token)
        .json(&json!({"accountEnabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["accountEnabled"], false);
    let r = http
        .delete(api(&format!("/users/{bob_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}
/// `client_credentials` at /token with HTTP Basic; the status.
async fn client_credentials_status(app: &portico_tests::TestApp, id: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An admin resets a confidential app's secret: the new one is shown once,
/// the old one stops working at once, and the reset is audited without the
/// secret. A public app has no secret to reset.
async fn an_application_secret_reset_replaces_the_secret_and_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, created) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(json!({
                "displayName": "Nightly export",
                "redirectUris": [],
                "clientType": "confidential",
                "grantTypes": ["client_credentials"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (id, client_id) = (
        created["id"].as_str().unwrap().to_string(),
        created["clientId"].as_str().unwrap().to_string(),
    );
    let old = created["clientSecret"].as_str().unwrap().to_string();
    assert_eq!(client_credentials_status(&app, &client_id, &old).await, 200);

    let (status, reset) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{id}/resetSecret"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{reset}");
    let new = reset["clientSecret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(client_credentials_status(&app, &client_id, &old).await, 401);
    assert_eq!(client_credentials_status(&app, &client_id, &new).await, 200);

    let (status, audits) = app
        .api(
            "GET",
            "/api/v1/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Reset%20application%20secret'",
            None,
        )
        .await;
    assert_eq!(status, 200, "{audits}");
    let entries = audits["value"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audits:#}");
    let text = entries[0].to_string();
    assert!(text.contains(&client_id), "{text}");
    assert!(
        !text.contains(&new) && !text.contains(&old),
        "no secret in the audit"
    );

    let (status, public) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(json!({
                "displayName": "SPA",
                "redirectUris": ["https://spa.contoso.example/cb"],
                "clientType": "public",
            })),
        )
        .await;
    assert_eq!(status, 201, "{public}");
    let (status, refused) = app
        .api(
            "POST",
            &format!(
                "/api/v1/applications/{}/resetSecret",
                public["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{}/resetSecret", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

both_backends!(
    an_application_secret_reset_replaces_the_secret_and_is_audited,
    super::an_application_secret_reset_replaces_the_secret_and_is_audited
);

both_backends!(
    applications_and_users_can_be_managed_through_the_api,
    super::applications_and_users_can_be_managed_through_the_api
);

#[tokio::test]
async fn the_api_answers_401_without_a_token_and_403_without_the_permission() {
    let app = spawn_app(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let r = http
        .get(app.url("/api/v1/applications"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = http
        .get(app.url("/api/v1/applications"))
        .bearer_auth("forged.token.value")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A token narrowed to one permission.
    let narrow: Value = http
        .post(app.url("/token"))
        .basic_auth(&app.mgmt_client_id, Some(&app.mgmt_client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "User.ReadWrite.All"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = narrow["access_token"].as_str().unwrap();
    assert_eq!(
        http.get(app.url("/api/v1/users"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = http
        .get(app.url("/api/v1/applications"))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A user's access token from the code flow carries no admin permission.
    app.alice().await;
    let client = app.web_app().await;
    let user_tokens = tokens_for_alice(&app, &client).await;
    let r = http
        .get(app.url("/api/v1/users"))
        .bearer_auth(user_tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Unknown permissions cannot be asked for.
    let r = http
        .post(app.url("/token"))
        .basic_auth(&app.mgmt_client_id, Some(&app.mgmt_client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "Everything.All"),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_scope").await;
}

#[tokio::test]
async fn disabling_or_deleting_a_user_kills_their_tokens_and_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    let t = tokens_for_alice(&app, &client).await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, at).await.status(), 200);
    let token = app.admin_token().await;
    let http = reqwest::Client::new();
    let r = http
        .patch(app.url(&format!("/api/v1/users/{alice}")))
        .bearer_auth(&token)
        .json(&json!({"accountEnabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(userinfo(&app, at).await.status(), 401);
    let rt = t["refresh_token"].as_str().unwrap();
    assert_oauth_error(
        refresh_request(&app, &client, rt).await,
        400,
        "invalid_grant",
    )
    .await;
}
