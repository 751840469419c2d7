//! Guests sign in with their home identity (PRODUCT §1 journey 1, §2.5):
//! against a real third-party OpenID provider (npm `oidc-provider`) and
//! against a second Portico (Fabrikam's, trusted by Contoso's). The whole
//! journey: invite → email → redeem → home-realm discovery → sign-in at the
//! upstream → consent → Accepted → OIDC sign-in to an app → a later sign-in.

use crate::redeem_steps::{APP_URL, step};
use crate::support::{authorize_url, json, jwt_claims, param, query_of, redeem as exchange};
use portico_oidc::clients::NewClient;
use portico_oidc::model::{AuthMethod, ClientType};
use portico_tests::upstream::{
    NodeOidcProvider, UpstreamAccount, UpstreamClient, sign_in_at_upstream,
};
use portico_tests::{
    Backend, Browser, Hop, TestApp, TestClient, both_backends, pkce_pair, spawn_app,
    spawn_app_with_mail,
};
use serde_json::{Value, json};
use std::time::Duration;

pub const GUEST: &str = "alice@fabrikam.example";

/// Trusts `issuer` for `fabrikam.example` through the admin API.
pub async fn trust(app: &TestApp, name: &str, issuer: &str, secret: &str) -> Value {
    let (status, idp) = app
        .api(
            "POST",
            "/api/v1/identityProviders",
            Some(json!({
                "displayName": name,
                "type": "OpenIdConnect",
                "issuer": issuer,
                "clientId": "contoso",
                "clientSecret": secret,
                "domains": ["fabrikam.example"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{idp}");
    assert_eq!(idp["redirectUri"], app.url("/federation/callback"));
    idp
}

/// The redeem link from the invitation email as received over SMTP.
pub async fn invite_by_mail(app: &TestApp, email: &str) -> String {
    let (status, inv) = app
        .invite(json!({
            "invitedUserEmailAddress": email,
            "invitedUserDisplayName": "Alice Fabrikam",
            "inviteRedirectUrl": APP_URL,
            "sendInvitationMessage": true,
            "invitedUserMessageInfo": {"customizedMessageBody": "Welcome to the Trials project."},
        }))
        .await;
    assert_eq!(status, 201, "{inv}");
    let smtp = app.smtp.as_ref().expect("smtp");
    let mail = smtp
        .wait_for(
            |m| m.to == [email] && m.subject.contains("invited"),
            Duration::from_secs(20),
        )
        .await;
    let start = mail.text.find("/redeem?i=").expect("a redeem link");
    let end = mail.text[start..]
        .find(char::is_whitespace)
        .map_or(mail.text.len(), |e| e + start);
    app.url(&mail.text[start..end])
}

/// Follows redirects across hosts (Portico, the upstream) until a page, or a
/// redirect to somewhere no server runs (the app).
pub async fn follow_all(b: &Browser, mut hop: Hop, mut here: String) -> (Hop, String) {
    for _ in 0..15 {
        let Some(loc) = hop.location.clone().filter(|_| hop.status.is_redirection()) else {
            return (hop, here);
        };
        let next = url::Url::parse(&here)
            .unwrap()
            .join(&loc)
            .unwrap()
            .to_string();
        let local =
            next.starts_with("http://127.0.0.1:") && !next.starts_with("http://127.0.0.1:9/");
        if !local {
            return (hop, here);
        }
        hop = b.get(&next).await;
        here = next;
    }
    panic!("too many redirects");
}

/// Guest's user object through the API.
pub async fn guest(app: &TestApp, email: &str) -> Value {
    let filter = format!("mail eq '{email}'");
    let path = format!(
        "/api/v1/users?$filter={}",
        url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
    );
    let (status, list) = app.api("GET", &path, None).await;
    assert_eq!(status, 200, "{list}");
    list["value"][0].clone()
}

/// Signs in to `client` in `b` (SSO or through the pages `sign_in` walks)
/// and returns the ID token's claims.
pub async fn app_sign_in<F, Fut>(
    app: &TestApp,
    b: &Browser,
    client: &TestClient,
    extra: &[(&str, &str)],
    sign_in: F,
) -> Value
where
    F: FnOnce(Hop) -> Fut,
    Fut: std::future::Future<Output = Hop>,
{
    let (verifier, challenge) = pkce_pair();
    let start = b.get(&authorize_url(app, client, &challenge, extra)).await;
    let (after, _) = follow_all(b, sign_in(start).await, app.issuer.clone()).await;
    let done = if after.body.contains("name=\"decision\"") {
        b.follow(b.consent(after, "accept").await).await
    } else {
        after
    };
    let loc = done
        .location
        .clone()
        .unwrap_or_else(|| panic!("{} {}", done.status, done.body));
    assert!(loc.starts_with(&client.redirect_uri), "{loc}");
    let q = query_of(&loc);
    let code = param(&q, "code").expect("code");
    let tokens = json(exchange(app, client, &code, &verifier).await).await;
    jwt_claims(tokens["id_token"].as_str().expect("id_token"))
}

async fn with_oidc_provider(backend: Backend) {
    let contoso = spawn_app_with_mail(backend).await;
    let upstream = NodeOidcProvider::start(
        &[UpstreamClient {
            client_id: "contoso".into(),
            client_secret: "contoso-upstream-secret".into(),
            redirect_uris: vec![contoso.url("/federation/callback")],
        }],
        &[UpstreamAccount {
            sub: "alice-at-fabrikam".into(),
            email: GUEST.into(),
            email_verified: true,
            name: "Alice Fabrikam".into(),
            ..Default::default()
        }],
    );
    trust(
        &contoso,
        "Fabrikam",
        &upstream.issuer,
        "contoso-upstream-secret",
    )
    .await;
    let link = invite_by_mail(&contoso, GUEST).await;

    // Redeem: home-realm discovery picks Fabrikam for the invited domain.
    let b = Browser::new(&contoso.issuer);
    let landing = b.get(&link).await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert!(
        landing.body.contains("Continue to Fabrikam"),
        "{}",
        landing.body
    );
    let leave = step(&b, "/redeem/federation", &landing, &[]).await;
    assert_eq!(leave.status, 303, "{}", leave.body);
    let authorize = leave.location.clone().unwrap();
    assert!(authorize.starts_with(&upstream.issuer), "{authorize}");
    let q = query_of(&authorize);
    assert_eq!(param(&q, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(&q, "login_hint").as_deref(), Some(GUEST));
    assert!(param(&q, "nonce").is_some() && param(&q, "state").is_some());

    let callback = sign_in_at_upstream(&b, &authorize, "alice-at-fabrikam").await;
    assert!(
        callback.starts_with(&contoso.url("/federation/callback?")),
        "{callback}"
    );
    let back = b.get(&callback).await;
    let (consent, _) = follow_all(&b, back, callback.clone()).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.body.contains("Review permissions"),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("Fabrikam"), "{}", consent.body);
    // The callback's state is single use.
    let replay = b.get(&callback).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(replay.body.contains("invalid_state"));

    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some(APP_URL));

    let user = guest(&contoso, GUEST).await;
    assert_eq!(user["externalUserState"], "Accepted", "{user}");
    let ids = user["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{user}");
    assert_eq!(ids[0]["signInType"], "federated");
    assert_eq!(ids[0]["issuer"], upstream.issuer.as_str());
    assert_eq!(ids[0]["issuerAssignedId"], "alice-at-fabrikam");

    // The app signs her in with the session redemption started.
    let client = contoso.web_app().await;
    let claims = app_sign_in(&contoso, &b, &client, &[], |h| async move { h }).await;
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["idp"], upstream.issuer.as_str());
    assert_eq!(claims["user_type"], "Guest");
    assert_eq!(claims["amr"], json!(["fed"]));

    // Later, in a fresh browser: she types her address and goes straight
    // to Fabrikam; no code, no password.
    let b2 = Browser::new(&contoso.issuer);
    let b2r = &b2;
    let issuer = upstream.issuer.clone();
    let claims = app_sign_in(&contoso, &b2, &client, &[], |start| async move {
        let b2 = b2r;
        let page = b2.follow(start).await;
        assert!(page.body.contains("email-code"), "{}", page.body);
        let action = format!(
            "{}/email-code",
            portico_tests::form_action(&page.body).trim_end_matches("/login")
        );
        let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();
        let leave = b2
            .post_form(&action, &[("csrf", &csrf), ("email", GUEST)])
            .await;
        assert_eq!(leave.status, 303, "{}", leave.body);
        let to = leave.location.clone().unwrap();
        assert!(to.starts_with(&issuer), "{to}");
        let cb = sign_in_at_upstream(b2, &to, "alice-at-fabrikam").await;
        b2.get(&cb).await
    })
    .await;
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["idp"], upstream.issuer.as_str());
    assert_eq!(claims["amr"], json!(["fed"]));
}
both_backends!(
    guest_redeems_and_signs_in_through_oidc_provider,
    super::with_oidc_provider
);

/// Posts Fabrikam's sign-in form (`page`, at `here`) with the guest's
/// password and follows on to wherever that leads.
async fn fabrikam_password(b: &Browser, page: &Hop, here: &str) -> (Hop, String) {
    let action = url::Url::parse(here)
        .unwrap()
        .join(&portico_tests::form_action(&page.body))
        .unwrap()
        .to_string();
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("email", GUEST),
        ("password", "fabrikam password 1"),
    ];
    let signed = b.post_form(&action, &form).await;
    follow_all(b, signed, action).await
}

async fn with_second_portico(backend: Backend) {
    let contoso = spawn_app_with_mail(backend).await;
    let fabrikam = spawn_app(backend).await;
    fabrikam
        .create_verified_user(GUEST, "fabrikam password 1")
        .await;
    let (reg, secret) = fabrikam
        .server
        .app
        .provider
        .register_client(
            NewClient {
                display_name: "Contoso (guest access)".into(),
                redirect_uris: vec![contoso.url("/federation/callback")],
                post_logout_redirect_uris: vec![],
                client_type: ClientType::Confidential,
                token_endpoint_auth_method: Some(AuthMethod::ClientSecretBasic),
                grant_types: Some(vec!["authorization_code".into()]),
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
            vec![],
            &portico_directory::Actor::system("test"),
        )
        .await
        .unwrap();
    let secret = secret.unwrap();
    let (status, idp) = contoso
        .api(
            "POST",
            "/api/v1/identityProviders",
            Some(json!({
                "displayName": "Fabrikam",
                "issuer": fabrikam.issuer,
                "clientId": reg.client_id,
                "clientSecret": secret,
                "domains": ["fabrikam.example"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{idp}");
    let link = invite_by_mail(&contoso, GUEST).await;

    let b = Browser::new(&contoso.issuer);
    let landing = b.get(&link).await;
    let leave = step(&b, "/redeem/federation", &landing, &[]).await;
    let authorize = leave.location.clone().unwrap();
    assert!(
        authorize.starts_with(&fabrikam.url("/authorize?")),
        "{authorize}"
    );
    // At Fabrikam: its own sign-in page and its consent for "Contoso".
    let (page, here) = follow_all(&b, b.get(&authorize).await, authorize.clone()).await;
    assert!(
        page.body.contains("Contoso (guest access)"),
        "{}",
        page.body
    );
    let (fab_consent, here) = fabrikam_password(&b, &page, &here).await;
    assert!(
        fab_consent.body.contains("name=\"decision\""),
        "{}",
        fab_consent.body
    );
    let action = url::Url::parse(&here)
        .unwrap()
        .join(&portico_tests::form_action(&fab_consent.body))
        .unwrap()
        .to_string();
    let csrf = portico_tests::find_hidden(&fab_consent.body, "csrf").unwrap();
    let accepted = b
        .post_form(&action, &[("csrf", &csrf), ("decision", "accept")])
        .await;
    // Fabrikam answers Contoso's callback; Contoso shows its own consent.
    let (consent, _) = follow_all(&b, accepted, action).await;
    assert!(
        consent.body.contains("Review permissions"),
        "{}",
        consent.body
    );
    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.location.as_deref(), Some(APP_URL), "{}", done.body);

    let user = guest(&contoso, GUEST).await;
    let fab_user = fabrikam
        .server
        .app
        .directory
        .authenticate(GUEST, "fabrikam password 1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user["identities"][0]["issuer"],
        fabrikam.issuer.as_str(),
        "{user}"
    );
    assert_eq!(
        user["identities"][0]["issuerAssignedId"],
        fab_user.id.to_string(),
        "keyed on Fabrikam's subject"
    );
    let client = contoso.web_app().await;
    let claims = app_sign_in(&contoso, &b, &client, &[], |h| async move { h }).await;
    assert_eq!(claims["idp"], fabrikam.issuer.as_str());
    assert_eq!(claims["user_type"], "Guest");

    // A later sign-in with the app's domain_hint goes straight to Fabrikam's
    // sign-in page: Contoso shows none. (Both servers run on 127.0.0.1, and
    // cookies ignore ports, so Contoso's session cookie replaced Fabrikam's
    // in this browser: Fabrikam asks for the password again.)
    let b_hint = &b;
    let (verifier, challenge) = pkce_pair();
    let start = b_hint
        .get(&authorize_url(
            &contoso,
            &client,
            &challenge,
            &[("domain_hint", "fabrikam.example"), ("prompt", "login")],
        ))
        .await;
    let (page, here) = follow_all(b_hint, start, contoso.issuer.clone()).await;
    assert!(here.starts_with(&fabrikam.issuer), "{here}: {}", page.body);
    let (done, _) = fabrikam_password(b_hint, &page, &here).await;
    let loc = done
        .location
        .clone()
        .unwrap_or_else(|| panic!("{}", done.body));
    assert!(loc.starts_with(&client.redirect_uri), "{loc}");
    let code = param(&query_of(&loc), "code").unwrap();
    let tokens = json(exchange(&contoso, &client, &code, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["idp"], fabrikam.issuer.as_str());
    assert_eq!(claims["sub"], user["id"]);
}
both_backends!(
    guest_from_a_second_portico_signs_in,
    super::with_second_portico
);
