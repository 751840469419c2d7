//! The portal's identity-provider pages, driven like a browser without
//! JavaScript: add (with the redirect URI to register shown), a refused form
//! shown again with its message, the connection test's trace, edit, disable,
//! delete, and CSRF on every form.

use crate::portal::signed_in;
use portico_tests::{Backend, TestApp, both_backends, find_hidden, spawn_app};
use serde_json::{Value, json};

const SECRET: &str = "portal-idp-secret-0123456789";
const LIST: &str = "/admin/identity-providers";

fn add_form<'a>(csrf: &'a str, issuer: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("display_name", "Fabrikam Login"),
        ("issuer", issuer),
        ("client_id", "contoso-portico"),
        ("client_secret", SECRET),
        ("domains", "fabrikam.example, Corp.Fabrikam.example"),
        ("scopes", "openid profile email"),
        ("claim_email", ""),
        ("claim_email_verified", ""),
        ("claim_display_name", ""),
        ("enabled", "on"),
    ]
}

async fn api_idp(app: &TestApp, id: &str) -> (u16, Value) {
    app.api("GET", &format!("/api/v1/identityProviders/{id}"), None)
        .await
}

async fn admin_manages_identity_providers_in_the_portal(backend: Backend) {
    let app = spawn_app(backend).await;
    let (b, csrf) = signed_in(&app).await;
    let redirect_uri = format!("{}/federation/callback", app.issuer);

    let list = b.get(LIST).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Identity providers</a>"), "nav link");
    assert!(list.body.contains(&redirect_uri), "{}", list.body);
    assert!(list.body.contains("None yet"));

    // A refused form comes back with the message and what was typed, but
    // never the secret.
    let bad = b
        .post_form(LIST, &add_form(&csrf, "http://login.fabrikam.example"))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("Issuer: must be an https URL"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"Fabrikam Login\""));
    assert!(bad.body.contains("value=\"http:"), "the issuer as typed");
    assert!(!bad.body.contains(SECRET), "the secret is never shown");
    let bad_domain = {
        let mut f = add_form(&csrf, "http://127.0.0.1:9");
        f[5] = ("domains", "fabrikam.example not_a_domain");
        b.post_form(LIST, &f).await
    };
    assert_eq!(bad_domain.status, 400);
    assert!(bad_domain.body.contains("Domains:"), "{}", bad_domain.body);

    // Without the CSRF token nothing is written.
    let mut no_csrf = add_form(&csrf, "http://127.0.0.1:9");
    no_csrf.remove(0);
    assert_eq!(b.post_form(LIST, &no_csrf).await.status, 403);
    let forged = add_form("forged", "http://127.0.0.1:9");
    assert_eq!(b.post_form(LIST, &forged).await.status, 403);
    let (_, all) = app.api("GET", "/api/v1/identityProviders", None).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 0);

    // Added; adding does not contact the IdP (nothing listens on port 9).
    let added = b
        .post_form(LIST, &add_form(&csrf, "http://127.0.0.1:9"))
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let location = added.location.unwrap();
    assert!(location.ends_with("?notice=added"), "{location}");
    let page_path = location.split('?').next().unwrap().to_string();
    let id = page_path.rsplit('/').next().unwrap().to_string();
    let page = b.get(&location).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("was added") && page.body.contains(&redirect_uri));
    assert!(!page.body.contains(SECRET));
    let (status, idp) = api_idp(&app, &id).await;
    assert_eq!(status, 200);
    assert_eq!(
        idp["domains"],
        json!(["corp.fabrikam.example", "fabrikam.example"])
    );
    assert_eq!(idp["enabled"], true);

    let list = b.get(LIST).await;
    assert!(list.body.contains("Fabrikam Login") && list.body.contains("http://127.0.0.1:9"));
    assert!(
        list.body
            .contains("corp.fabrikam.example, fabrikam.example")
    );
    assert!(list.body.contains(&format!("{LIST}/{id}")));

    // The test button renders the trace: the discovery step failed, and why.
    let test = format!("{page_path}/test");
    assert_eq!(b.post_form(&test, &[]).await.status, 403);
    let traced = b.post_form(&test, &[("csrf", &csrf)]).await;
    assert_eq!(traced.status, 200);
    assert!(
        traced.body.contains("The connection test failed"),
        "{}",
        traced.body
    );
    assert!(traced.body.contains("Discovery") && traced.body.contains("Failed"));
    assert!(
        traced
            .body
            .contains("cannot connect to http://127.0.0.1:9/.well-known/openid-configuration")
    );

    // Edit: a blank secret keeps the stored one; unticking Enabled disables.
    let mut edit: Vec<(&str, &str)> = add_form(&csrf, "http://127.0.0.1:9")
        .into_iter()
        .filter(|(k, _)| *k != "enabled")
        .collect();
    edit[1] = ("display_name", "Fabrikam Corp");
    edit[4] = ("client_secret", "");
    edit[5] = ("domains", "fabrikam.example");
    let edited = b.post_form(&page_path, &edit).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    assert_eq!(
        edited.location.as_deref(),
        Some(format!("{page_path}?notice=updated").as_str())
    );
    let (_, idp) = api_idp(&app, &id).await;
    assert_eq!(idp["enabled"], false);
    assert_eq!(idp["displayName"], "Fabrikam Corp");
    assert_eq!(idp["domains"], json!(["fabrikam.example"]));
    let stored = app
        .server
        .app
        .federation
        .get(id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.client_secret, SECRET, "a blank secret keeps it");
    let page = b.get(&page_path).await;
    assert!(
        page.body.contains("nobody can sign in with it"),
        "{}",
        page.body
    );

    // A refused edit shows the page again with what was typed.
    edit[5] = ("domains", "fabrikam.example bad..example");
    let refused = b.post_form(&page_path, &edit).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Domains:") && refused.body.contains("bad..example"));
    assert_eq!(b.post_form(&page_path, &edit[1..]).await.status, 403);

    // The Enable button changes nothing else.
    let enabled = b
        .post_form(&page_path, &[("csrf", &csrf), ("set_enabled", "true")])
        .await;
    assert_eq!(
        enabled.location.as_deref(),
        Some(format!("{page_path}?notice=enabled").as_str())
    );
    let (_, idp) = api_idp(&app, &id).await;
    assert_eq!(idp["enabled"], true);
    assert_eq!(idp["displayName"], "Fabrikam Corp");

    // Delete needs the confirmation box (and the CSRF token).
    let delete = format!("{page_path}/delete");
    assert_eq!(b.post_form(&delete, &[("confirm", "on")]).await.status, 403);
    let unconfirmed = b.post_form(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(unconfirmed.status, 400);
    assert_eq!(api_idp(&app, &id).await.0, 200, "still there");
    let page = b.get(&page_path).await;
    let token = find_hidden(&page.body, "csrf").unwrap();
    let deleted = b
        .post_form(&delete, &[("csrf", &token), ("confirm", "on")])
        .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some(format!("{LIST}?notice=deleted").as_str())
    );
    assert_eq!(b.get(&page_path).await.status, 404);
    assert_eq!(api_idp(&app, &id).await.0, 404);
    let list = b.get(&deleted.location.unwrap()).await;
    assert!(!list.body.contains("Fabrikam Corp"));
    assert!(list.body.contains("was deleted"));
}
both_backends!(
    admin_manages_identity_providers_in_the_portal,
    super::admin_manages_identity_providers_in_the_portal
);

#[tokio::test]
async fn a_domain_another_idp_serves_is_a_message_on_the_form() {
    let app = spawn_app(Backend::Sqlite).await;
    let (b, csrf) = signed_in(&app).await;
    let first = b
        .post_form(LIST, &add_form(&csrf, "http://127.0.0.1:9"))
        .await;
    assert_eq!(first.status, 303);
    let mut second = add_form(&csrf, "http://localhost:9");
    second[5] = ("domains", "tailspin.example fabrikam.example");
    let refused = b.post_form(LIST, &second).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("already served"), "{}", refused.body);
    assert!(
        refused
            .body
            .contains("value=\"tailspin.example fabrikam.example\"")
    );
    let (_, all) = app.api("GET", "/api/v1/identityProviders", None).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 1);
}
