//! Races that must have exactly one winner, on both databases.

use crate::support::*;
use portico_tests::{Backend, Browser, both_backends, spawn_app};

async fn twenty_concurrent_redemptions_of_one_code_yield_at_most_one_success_and_revoke_it(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    let attempts = (0..20).map(|_| redeem(&app, &client, &code, &verifier));
    let mut statuses = Vec::new();
    let mut issued = Vec::new();
    for r in futures::future::join_all(attempts).await {
        statuses.push(r.status().as_u16());
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        issued.extend(body["access_token"].as_str().map(str::to_string));
    }
    // One UPDATE consumes the code: at most one request gets tokens. The
    // others are replays, which revoke the grant (RFC 6749 §4.1.2); when a
    // replay's revocation lands before the winner has read its grant, the
    // winner is refused too, so the count is one or (rarely) zero.
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "the rest are invalid_grant, never 500: {statuses:?}"
    );
    assert!(statuses.iter().filter(|s| **s == 400).count() >= 19);
    // And the replays leave nothing usable behind.
    for at in issued {
        assert_eq!(
            userinfo(&app, &at).await.status(),
            401,
            "replayed code's token is revoked"
        );
    }
}
both_backends!(
    twenty_concurrent_redemptions_of_one_code_yield_at_most_one_success_and_revoke_it,
    super::twenty_concurrent_redemptions_of_one_code_yield_at_most_one_success_and_revoke_it
);

async fn concurrent_token_requests_never_hit_database_is_locked(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app
        .register(
            portico_oidc::model::ClientType::Confidential,
            portico_oidc::model::AuthMethod::ClientSecretBasic,
            &["client_credentials"],
        )
        .await;
    let reqs =
        (0..40).map(|_| token_request(&app, &client, &[("grant_type", "client_credentials")]));
    let statuses: Vec<u16> = futures::future::join_all(reqs)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}
both_backends!(
    concurrent_token_requests_never_hit_database_is_locked,
    super::concurrent_token_requests_never_hit_database_is_locked
);

/// PATCH `/api/v1/users/{id}` with the admin token (and `If-Match`).
async fn patch_user(
    app: &portico_tests::TestApp,
    token: &str,
    id: &str,
    body: serde_json::Value,
    if_match: Option<&str>,
) -> u16 {
    let mut req = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(token)
        .json(&body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn two_admins_disabling_each_other_at_once_leave_one_enabled(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let first = app.admin_user_id.clone();
    let second = app
        .create_user("second-admin@contoso.example", "second admin pw 1")
        .await;
    let roles = serde_json::json!({"roles": ["Global Administrator"]});
    assert_eq!(patch_user(&app, &token, &second, roles, None).await, 200);
    let off = serde_json::json!({"accountEnabled": false});
    for round in 0..5 {
        let (a, b) = futures::join!(
            patch_user(&app, &token, &first, off.clone(), None),
            patch_user(&app, &token, &second, off.clone(), None)
        );
        let mut got = [a, b];
        got.sort_unstable();
        assert_eq!(got, [200, 409], "round {round}: exactly one may go");
        let disabled = if a == 200 { &first } else { &second };
        let on = serde_json::json!({"accountEnabled": true});
        assert_eq!(patch_user(&app, &token, disabled, on, None).await, 200);
    }
}
both_backends!(
    two_admins_disabling_each_other_at_once_leave_one_enabled,
    super::two_admins_disabling_each_other_at_once_leave_one_enabled
);

async fn two_edits_with_the_same_if_match_have_one_winner(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let id = app.alice().await;
    for round in 0..5 {
        let etag = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .headers()["etag"]
            .to_str()
            .unwrap()
            .to_string();
        let rename = |n: &str| serde_json::json!({"displayName": format!("{n} {round}")});
        let (a, b) = futures::join!(
            patch_user(&app, &token, &id, rename("Ann"), Some(&etag)),
            patch_user(&app, &token, &id, rename("Bea"), Some(&etag))
        );
        let mut got = [a, b];
        got.sort_unstable();
        assert_eq!(got, [200, 412], "round {round}: the stale write is refused");
    }
}
both_backends!(
    two_edits_with_the_same_if_match_have_one_winner,
    super::two_edits_with_the_same_if_match_have_one_winner
);
