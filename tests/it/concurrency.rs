//! Races that must have exactly one winner, on both databases.

use crate::support::*;
use portico_tests::{Backend, Browser, both_backends, spawn_app};

async fn twenty_concurrent_redemptions_of_one_code_yield_exactly_one_success(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    let attempts = (0..20).map(|_| redeem(&app, &client, &code, &verifier));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        19,
        "the rest are invalid_grant, never 500: {statuses:?}"
    );
}
both_backends!(
    twenty_concurrent_redemptions_of_one_code_yield_exactly_one_success,
    super::twenty_concurrent_redemptions_of_one_code_yield_exactly_one_success
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
