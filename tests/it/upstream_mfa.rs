//! A home IdP's MFA counts here when the admin trusts it (`mfaTrust` on the
//! IdP, PRODUCT §2.4): with the tenant requiring MFA for guests, a guest whose
//! home IdP (npm `oidc-provider`) asserts a trusted `amr`, recently enough,
//! needs no local second factor; an untrusted, unmatched or stale assertion
//! leads to the local enrolment. Also the API's validation of `mfaTrust`.

use crate::federation::{GUEST, app_sign_in, follow_all, guest, invite_by_mail, trust};
use crate::redeem_steps::{APP_URL, step};
use crate::support::{authorize_url, param, query_of};
use portico_tests::upstream::{
    NodeOidcProvider, UpstreamAccount, UpstreamClient, sign_in_at_upstream,
};
use portico_tests::{
    Backend, Browser, Hop, TestApp, both_backends, pkce_pair, spawn_app_with_mail,
};
use serde_json::{Value, json};

const MFA: &str = "https://refeds.org/profile/mfa";
const ENROL: &str = "Set up an authenticator app";
const IDPS: &str = "/api/v1/identityProviders";

async fn require_mfa_for_guests(app: &TestApp) {
    let (status, body) = app
        .api(
            "PATCH",
            "/api/v1/policies/authenticationPolicy",
            Some(json!({"requireMfaFor": "guests"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn set_trust(app: &TestApp, idp_id: &str, trust: Value) -> Value {
    let (status, idp) = app
        .api(
            "PATCH",
            &format!("{IDPS}/{idp_id}"),
            Some(json!({ "mfaTrust": trust })),
        )
        .await;
    assert_eq!(status, 200, "{idp}");
    let (status, read) = app.api("GET", &format!("{IDPS}/{idp_id}"), None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["mfaTrust"], trust, "round trip: {read}");
    idp
}

/// An app sign-in in a fresh browser: the guest types her address, signs in
/// at the home IdP, and comes back; the page she ends on at Portico.
async fn sign_in_through_upstream(app: &TestApp, upstream: &NodeOidcProvider) -> Hop {
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let page = b
        .follow(b.get(&authorize_url(app, &client, &challenge, &[])).await)
        .await;
    let action = format!(
        "{}/email-code",
        portico_tests::form_action(&page.body).trim_end_matches("/login")
    );
    let csrf = portico_tests::find_hidden(&page.body, "csrf").expect("csrf");
    let leave = b
        .post_form(&action, &[("csrf", &csrf), ("email", GUEST)])
        .await;
    let to = leave.location.clone().expect("to the home IdP");
    assert!(to.starts_with(&upstream.issuer), "{to}");
    let cb = sign_in_at_upstream(&b, &to, "alice-at-fabrikam").await;
    let (page, _) = follow_all(&b, b.get(&cb).await, cb.clone()).await;
    page
}

fn assert_enrolment(page: &Hop, why: &str) {
    assert_eq!(page.status, 200, "{why}: {:?} {}", page.location, page.body);
    assert!(page.body.contains(ENROL), "{why}: {}", page.body);
}

async fn trusted_upstream_mfa(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let upstream = NodeOidcProvider::start(
        &[UpstreamClient {
            client_id: "contoso".into(),
            client_secret: "contoso-upstream-secret".into(),
            redirect_uris: vec![app.url("/federation/callback")],
        }],
        &[UpstreamAccount {
            sub: "alice-at-fabrikam".into(),
            email: GUEST.into(),
            email_verified: true,
            name: "Alice Fabrikam".into(),
            amr: Some(vec!["pwd".into(), "mfa".into()]),
            acr: None,
        }],
    );
    let idp = trust(
        &app,
        "Fabrikam",
        &upstream.issuer,
        "contoso-upstream-secret",
    )
    .await;
    let idp_id = idp["id"].as_str().expect("id").to_string();
    assert_eq!(idp["mfaTrust"], Value::Null, "{idp}");
    let trusted = json!({"amrValues": ["mfa"], "acrValues": [], "maxAgeMinutes": 10});
    set_trust(&app, &idp_id, trusted.clone()).await;
    require_mfa_for_guests(&app).await;

    // Redemption through the home IdP: its MFA counts, no local step.
    let link = invite_by_mail(&app, GUEST).await;
    let b = Browser::new(&app.issuer);
    let landing = b.get(&link).await;
    let leave = step(&b, "/redeem/federation", &landing, &[]).await;
    let authorize = leave.location.clone().expect("to the home IdP");
    let q = query_of(&authorize);
    for p in ["acr_values", "max_age", "prompt"] {
        assert_eq!(param(&q, p), None, "a redemption forwards no {p}");
    }
    let callback = sign_in_at_upstream(&b, &authorize, "alice-at-fabrikam").await;
    let (consent, _) = follow_all(&b, b.get(&callback).await, callback.clone()).await;
    assert!(
        consent.body.contains("Review permissions"),
        "{}",
        consent.body
    );
    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.location.as_deref(), Some(APP_URL), "{}", done.body);

    // The app: signed in with the session, the token says MFA.
    let client = app.web_app().await;
    let claims = app_sign_in(&app, &b, &client, &[], |h| async move { h }).await;
    assert_eq!(claims["sub"], guest(&app, GUEST).await["id"]);
    assert_eq!(claims["acr"], MFA, "{claims}");
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .expect("amr")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(amr.contains(&"fed") && amr.contains(&"mfa"), "{claims}");

    // Trusting other values: the same assertion leads to the local enrolment.
    set_trust(
        &app,
        &idp_id,
        json!({"amrValues": ["hwk"], "acrValues": [], "maxAgeMinutes": 10}),
    )
    .await;
    let page = sign_in_through_upstream(&app, &upstream).await;
    assert_enrolment(&page, "unmatched trust");

    // No trust at all: the same.
    set_trust(&app, &idp_id, Value::Null).await;
    let page = sign_in_through_upstream(&app, &upstream).await;
    assert_enrolment(&page, "no trust");

    // Trusted again, but the home IdP's sign-in is older than maxAgeMinutes:
    // the session's next sign-in to the app asks for the local step.
    set_trust(&app, &idp_id, trusted).await;
    app.clock.advance(chrono::Duration::minutes(11));
    let (_, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let (page, _) = follow_all(&b, start, app.issuer.clone()).await;
    assert_enrolment(&page, "stale upstream MFA");
    assert!(
        !page
            .location
            .as_deref()
            .unwrap_or_default()
            .contains("code="),
        "no code issued"
    );
}
both_backends!(
    a_trusted_home_idp_mfa_skips_the_local_step_until_it_is_stale_or_untrusted,
    super::trusted_upstream_mfa
);

async fn mfa_trust_validation(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let idp = trust(&app, "Fabrikam", "https://login.fabrikam.example", "s").await;
    let path = format!("{IDPS}/{}", idp["id"].as_str().expect("id"));
    let refused = [
        (
            json!({"amrValues": [], "maxAgeMinutes": 10}),
            "mfaTrust.amrValues",
        ),
        (
            json!({"amrValues": [""], "maxAgeMinutes": 10}),
            "mfaTrust.amrValues",
        ),
        (
            json!({"acrValues": ["x".repeat(300)], "maxAgeMinutes": 10}),
            "mfaTrust.acrValues",
        ),
        (
            json!({"amrValues": ["mfa"], "maxAgeMinutes": 0}),
            "mfaTrust.maxAgeMinutes",
        ),
        (
            json!({"amrValues": ["mfa"], "maxAgeMinutes": 1441}),
            "mfaTrust.maxAgeMinutes",
        ),
        (json!({"amrValues": ["mfa"]}), "mfaTrust.maxAgeMinutes"),
    ];
    for (trust, field) in refused {
        let (status, body) = app
            .api("PATCH", &path, Some(json!({ "mfaTrust": trust })))
            .await;
        assert_eq!(status, 400, "{trust}: {body}");
        assert!(body.to_string().contains(field), "{trust}: {body}");
    }
    let (status, read) = app.api("GET", &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(read["mfaTrust"], Value::Null, "nothing was stored: {read}");

    // On creation too, and a good one round-trips through the list.
    let (status, body) = app
        .api(
            "POST",
            IDPS,
            Some(json!({
                "displayName": "Northwind",
                "issuer": "https://login.northwind.example",
                "clientId": "contoso",
                "clientSecret": "s",
                "mfaTrust": {"acrValues": [MFA], "maxAgeMinutes": 5000},
            })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("mfaTrust.maxAgeMinutes"),
        "{body}"
    );
    let (status, body) = app
        .api(
            "POST",
            IDPS,
            Some(json!({
                "displayName": "Northwind",
                "issuer": "https://login.northwind.example",
                "clientId": "contoso",
                "clientSecret": "s",
                "mfaTrust": {"acrValues": [MFA], "maxAgeMinutes": 30},
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let want = json!({"amrValues": [], "acrValues": [MFA], "maxAgeMinutes": 30});
    assert_eq!(body["mfaTrust"], want);
    let (_, list) = app.api("GET", IDPS, None).await;
    let listed = list["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|i| i["id"] == body["id"])
        .cloned()
        .expect("listed");
    assert_eq!(listed["mfaTrust"], want);
}
both_backends!(
    mfa_trust_is_validated_field_by_field_and_round_trips,
    super::mfa_trust_validation
);
