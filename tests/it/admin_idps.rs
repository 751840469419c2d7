//! `/api/v1/identityProviders`: trusted upstream IdPs managed through the
//! admin API. The client secret is write-only, refusals name the field and
//! write nothing, changes apply at once, and the connection test reports an
//! unreachable IdP as a failed step, not as an API error.

use portico_tests::{Backend, TestApp, both_backends, spawn_app};
use serde_json::{Value, json};

const SECRET: &str = "fabrikam-client-secret-0123456789";
const IDPS: &str = "/api/v1/identityProviders";

fn fabrikam() -> Value {
    json!({
        "displayName": "Fabrikam",
        "issuer": "https://login.fabrikam.example",
        "clientId": "contoso-portico",
        "clientSecret": SECRET,
        "domains": ["Fabrikam.example"],
    })
}

/// `fabrikam()` with `changes` applied (a null removes the field).
fn fabrikam_with(changes: Value) -> Value {
    let mut v = fabrikam();
    for (k, x) in changes.as_object().unwrap() {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x.clone();
        }
    }
    v
}

fn assert_no_secret(v: &Value) {
    let text = v.to_string();
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
    assert!(!text.contains("\"clientSecret\""), "{text}");
}

/// Equal but for the instants, which PostgreSQL stores to the microsecond.
fn assert_same(a: &Value, b: &Value) {
    let strip = |v: &Value| {
        let mut v = v.clone();
        for k in ["createdDateTime", "lastModifiedDateTime"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(strip(a), strip(b));
}

async fn create(app: &TestApp, body: Value) -> String {
    let (status, v) = app.api("POST", IDPS, Some(body)).await;
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn list_len(app: &TestApp) -> usize {
    let (status, v) = app.api("GET", IDPS, None).await;
    assert_eq!(status, 200, "{v}");
    v["value"].as_array().unwrap().len()
}

async fn identity_providers_are_created_listed_changed_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let r = reqwest::Client::new()
        .post(app.url(IDPS))
        .bearer_auth(&token)
        .json(&fabrikam())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(location, app.url(&format!("{IDPS}/{id}")));
    assert_no_secret(&created);
    assert_eq!(created["clientSecretSet"], true);
    assert_eq!(created["displayName"], "Fabrikam");
    assert_eq!(created["type"], "OpenIdConnect");
    assert_eq!(created["issuer"], "https://login.fabrikam.example");
    assert_eq!(created["clientId"], "contoso-portico");
    assert_eq!(created["scopes"], json!(["openid", "profile", "email"]));
    assert_eq!(created["domains"], json!(["fabrikam.example"]));
    assert_eq!(
        created["claimsMapping"],
        json!({"email": "email", "emailVerified": "email_verified", "displayName": "name"})
    );
    assert_eq!(created["enabled"], true);
    assert_eq!(
        created["redirectUri"],
        format!("{}/federation/callback", app.issuer)
    );
    assert!(created["createdDateTime"].is_string());
    assert!(created["lastModifiedDateTime"].is_string());

    let (status, list) = app.api("GET", IDPS, None).await;
    assert_eq!(status, 200);
    assert_no_secret(&list);
    let value = list["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["id"], id.as_str());

    let one = format!("{IDPS}/{id}");
    let (status, got) = app.api("GET", &one, None).await;
    assert_eq!(status, 200);
    assert_no_secret(&got);
    assert_same(&got, &created);

    // A change applies at once: the next read (and sign-in) sees it.
    let (status, patched) = app
        .api(
            "PATCH",
            &one,
            Some(
                json!({"enabled": false, "domains": ["fabrikam.example", "Corp.Fabrikam.example"]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let (_, got) = app.api("GET", &one, None).await;
    assert_eq!(got["enabled"], false);
    assert_eq!(
        got["domains"],
        json!(["corp.fabrikam.example", "fabrikam.example"]),
        "sorted"
    );
    assert_eq!(got["displayName"], "Fabrikam", "what the patch omits stays");
    assert_same(&got, &patched);

    // A new secret is accepted and not echoed.
    let rotated = "rotated-secret-9876543210";
    let (status, v) = app
        .api("PATCH", &one, Some(json!({"clientSecret": rotated})))
        .await;
    assert_eq!(status, 200);
    assert!(!v.to_string().contains(rotated));
    let stored = app
        .server
        .app
        .federation
        .get(id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.client_secret, rotated);

    let (status, _) = app.api("DELETE", &one, None).await;
    assert_eq!(status, 204);
    for (method, path) in [
        ("GET", one.clone()),
        ("PATCH", one.clone()),
        ("DELETE", one.clone()),
        ("POST", format!("{one}/test")),
    ] {
        let body = (method == "PATCH").then(|| json!({"enabled": true}));
        let (status, v) = app.api(method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {v}");
        assert_eq!(v["error"]["code"], "notFound");
    }
    assert_eq!(list_len(&app).await, 0);
}
both_backends!(
    identity_providers_are_created_listed_changed_and_deleted,
    super::identity_providers_are_created_listed_changed_and_deleted
);

async fn refused_input_names_the_field_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = create(&app, fabrikam()).await;
    for (body, field) in [
        (
            fabrikam_with(json!({"issuer": "http://login.fabrikam.example"})),
            "issuer",
        ),
        (fabrikam_with(json!({"issuer": "not a url"})), "issuer"),
        (fabrikam_with(json!({"clientId": null})), "clientId"),
        (fabrikam_with(json!({"clientSecret": null})), "clientSecret"),
        (
            fabrikam_with(json!({"domains": ["not a domain"]})),
            "domains",
        ),
        (fabrikam_with(json!({"scopes": ["email"]})), "scopes"),
        (fabrikam_with(json!({"type": "Saml"})), "type"),
        (
            fabrikam_with(json!({"domain": ["tailspin.example"]})),
            "domain",
        ),
        (
            fabrikam_with(json!({"claimsMapping": {"mail": "x"}})),
            "mail",
        ),
    ] {
        let (status, v) = app.api("POST", IDPS, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(v["error"]["code"], "invalidRequest");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{field} in {message:?}");
        assert!(!message.contains(SECRET));
    }
    let r = reqwest::Client::new()
        .post(app.url(IDPS))
        .bearer_auth(app.admin_token().await)
        .header("content-type", "application/json")
        .body("{\"displayName\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].is_string());

    // A domain another IdP serves is a conflict, whoever asks for it.
    let taken = fabrikam_with(json!({
        "displayName": "Fabrikam again",
        "issuer": "https://other.fabrikam.example",
        "domains": ["tailspin.example", "FABRIKAM.example"],
    }));
    let (status, v) = app.api("POST", IDPS, Some(taken)).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"]["code"], "conflict");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fabrikam.example")
    );
    assert_eq!(list_len(&app).await, 1, "nothing was written");

    let other = create(
        &app,
        fabrikam_with(
            json!({"issuer": "https://login.tailspin.example", "domains": ["tailspin.example"]}),
        ),
    )
    .await;
    let other_path = format!("{IDPS}/{other}");
    let (status, _) = app
        .api(
            "PATCH",
            &other_path,
            Some(json!({"domains": ["fabrikam.example"]})),
        )
        .await;
    assert_eq!(status, 409);
    let (_, v) = app.api("GET", &other_path, None).await;
    assert_eq!(v["domains"], json!(["tailspin.example"]), "unchanged");

    let one = format!("{IDPS}/{id}");
    for (body, field) in [
        (json!({"issuer": "ftp://login.fabrikam.example"}), "issuer"),
        (json!({"domains": ["-bad.example"]}), "domains"),
        (json!({"clientId": "  "}), "clientId"),
        (json!({"id": "x"}), "id"),
        (
            json!({"redirectUri": "https://evil.example/cb"}),
            "redirectUri",
        ),
    ] {
        let (status, v) = app.api("PATCH", &one, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{v}"
        );
    }
    let (_, v) = app.api("GET", &one, None).await;
    assert_eq!(v["issuer"], "https://login.fabrikam.example");
    assert_eq!(v["domains"], json!(["fabrikam.example"]));

    for path in [
        format!("{IDPS}/not-a-uuid"),
        format!("{IDPS}/{}", uuid::Uuid::new_v4()),
    ] {
        let (status, _) = app.api("GET", &path, None).await;
        assert_eq!(status, 404, "{path}");
    }
}
both_backends!(
    refused_input_names_the_field_and_writes_nothing,
    super::refused_input_names_the_field_and_writes_nothing
);

/// A management token narrowed to one permission.
async fn narrow_token(app: &TestApp, scope: &str) -> String {
    let v: Value = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&app.mgmt_client_id, Some(&app.mgmt_client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn identity_providers_need_the_identity_provider_permission() {
    let app = spawn_app(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let r = http.get(app.url(IDPS)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let users_only = narrow_token(&app, "User.ReadWrite.All").await;
    let r = http
        .get(app.url(IDPS))
        .bearer_auth(&users_only)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("IdentityProvider.ReadWrite.All")
    );
    let r = http
        .post(app.url(IDPS))
        .bearer_auth(&users_only)
        .json(&fabrikam())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(list_len(&app).await, 0, "nothing was written");

    let idps_only = narrow_token(&app, "IdentityProvider.ReadWrite.All").await;
    let r = http
        .post(app.url(IDPS))
        .bearer_auth(&idps_only)
        .json(&fabrikam())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn creating_does_not_contact_the_idp_and_the_test_reports_it_unreachable() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = create(
        &app,
        fabrikam_with(json!({"issuer": "http://127.0.0.1:9", "domains": []})),
    )
    .await;
    let (status, report) = app.api("POST", &format!("{IDPS}/{id}/test"), None).await;
    assert_eq!(
        status, 200,
        "the call worked; the report says the IdP did not"
    );
    assert_eq!(report["ok"], false, "{report}");
    let steps = report["steps"].as_array().unwrap();
    let discovery = &steps[0];
    assert_eq!(discovery["name"], "Discovery");
    assert_eq!(discovery["ok"], false);
    let detail = discovery["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot connect")
            && detail.contains("http://127.0.0.1:9/.well-known/openid-configuration"),
        "{detail}"
    );
    assert!(!report.to_string().contains(SECRET));
}
