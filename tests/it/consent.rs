//! Consent, beyond Entra: the app consent page names the organization and
//! links its privacy statement; consent is kept per user, app and scope, and
//! asked again when the app asks for more scopes or the organization
//! publishes a new privacy statement version (`PORTICO_PRIVACY_VERSION`).

use crate::support::*;
use portico_tests::{Backend, Browser, Hop, TestApp, TestClient, both_backends, pkce_pair, spawn};

const PRIVACY: &str = "https://contoso.example/privacy";

/// Signs alice in at `issuer` (a node of `app`) asking `scope`: the page
/// after the password, which is the consent page when consent is needed.
async fn after_password(
    app: &TestApp,
    issuer: &str,
    client: &TestClient,
    scope: &str,
) -> (Browser, Hop) {
    let b = Browser::new(issuer);
    let (_, challenge) = pkce_pair();
    let url = authorize_url(app, client, &challenge, &[("scope", scope)]).replacen(
        &app.issuer,
        issuer,
        1,
    );
    let start = b.get(&url).await;
    let page = b.follow(b.sign_in(start, ALICE, ALICE_PW).await).await;
    (b, page)
}

fn asks_consent(page: &Hop) -> bool {
    page.body.contains("name=\"decision\"")
}

async fn consent_follows_scopes_and_the_privacy_statement_version(backend: Backend) {
    let app = spawn(backend, None, |s| {
        s.privacy_url = Some(PRIVACY.into());
        s.privacy_version = Some("2026-01".into());
    })
    .await;
    app.alice().await;
    let client = app.web_app().await;

    let (b, page) = after_password(&app, &app.issuer, &client, "openid").await;
    assert!(asks_consent(&page), "{}", page.body);
    assert!(
        page.body.contains("an application of Contoso"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(PRIVACY),
        "the privacy statement is linked"
    );
    let done = b.follow(b.consent(page, "accept").await).await;
    assert!(done.location.is_some_and(|l| l.contains("code=")));

    let (_, page) = after_password(&app, &app.issuer, &client, "openid").await;
    assert!(!asks_consent(&page), "consented once for these scopes");
    let (b, page) = after_password(&app, &app.issuer, &client, "openid email").await;
    assert!(asks_consent(&page), "a new scope asks again");
    b.follow(b.consent(page, "accept").await).await;
    let (_, page) = after_password(&app, &app.issuer, &client, "openid email").await;
    assert!(!asks_consent(&page));

    // The organization publishes a new privacy statement version.
    let node = app
        .second_node_with(|s| s.privacy_version = Some("2026-12".into()))
        .await;
    let (b, page) = after_password(&app, &node.issuer, &client, "openid email").await;
    assert!(
        asks_consent(&page),
        "a new privacy version asks again: {}",
        page.body
    );
    b.follow(b.consent(page, "accept").await).await;
    let (_, page) = after_password(&app, &node.issuer, &client, "openid email").await;
    assert!(!asks_consent(&page), "consented under the new version");
}
both_backends!(
    consent_follows_scopes_and_the_privacy_statement_version,
    super::consent_follows_scopes_and_the_privacy_statement_version
);
