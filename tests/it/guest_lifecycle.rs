//! A redeemed guest with live tokens and a session, then the admin acts:
//! disabling, an access expiry that passes, and deleting each cut the guest
//! off at once (tokens, refresh tokens, session, consents).

use crate::redeem_steps::{get, invite, nth_code, step};
use crate::support::{authorize_url, json, param, query_of, redeem, refresh_request, userinfo};
use portico_core::Clock;
use portico_tests::{
    Backend, Browser, TestApp, TestClient, both_backends, pkce_pair, spawn_app_with_mail,
};
use serde_json::{Value, json};

/// Invites, redeems through the pages, signs in to an app: the guest's id,
/// its browser (with the session) and the app's tokens.
async fn redeemed_guest(app: &TestApp, email: &str) -> (String, Browser, TestClient, Value) {
    let (_, link) = invite(app, email).await;
    let b = Browser::new(&app.issuer);
    let landing = get(&b, &link).await;
    let code_page = step(&b, "/redeem/code", &landing, &[]).await;
    let code = nth_code(app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &code_page, &[("code", &code)]).await;
    let done = &b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let client = app.web_app().await;
    let tokens = sign_in(app, &b, &client)
        .await
        .expect("SSO after redemption");
    let (_, users) = app
        .api(
            "GET",
            &format!("/api/v1/users?$filter=mail eq '{email}'"),
            None,
        )
        .await;
    let id = users["value"][0]["id"].as_str().unwrap().to_string();
    (id, b, client, tokens)
}

/// Signs in with the browser's session; None when Portico asks for a sign-in.
async fn sign_in(app: &TestApp, b: &Browser, client: &TestClient) -> Option<Value> {
    let (verifier, challenge) = pkce_pair();
    let start = b.get(&authorize_url(app, client, &challenge, &[])).await;
    let mut page = b.follow(start).await;
    if page.body.contains("name=\"password\"") {
        return None;
    }
    if page.body.contains("name=\"decision\"") {
        page = b.follow(b.consent(page, "accept").await).await;
    }
    let loc = page.location.expect("back to the app");
    let code = param(&query_of(&loc), "code").expect("code");
    Some(json(redeem(app, client, &code, &verifier).await).await)
}

async fn refresh_status(app: &TestApp, client: &TestClient, tokens: &Value) -> u16 {
    let rt = tokens["refresh_token"].as_str().unwrap();
    refresh_request(app, client, rt).await.status().as_u16()
}

async fn assert_cut_off(app: &TestApp, b: &Browser, client: &TestClient, tokens: &Value) {
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(app, at).await.status(), 401, "access token dead");
    assert_eq!(
        refresh_status(app, client, tokens).await,
        400,
        "refresh token dead"
    );
    assert!(
        sign_in(app, b, client).await.is_none(),
        "session gone: sign-in asked again"
    );
}

/// The invitation domains policy is checked at redemption and at every
/// sign-in, not only at invitation: a domain blocked after the fact cuts off
/// its guests (the app gets `access_denied`, the sign-in log says why) and
/// its pending invitations (a clear page); allowing it again lets them back.
async fn a_newly_blocked_domain_cuts_off_its_guests_and_their_invitations(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (id, b, client, tokens) = redeemed_guest(&app, "dina@fabrikam.example").await;
    // A refresh works before the block (and rotates the refresh token).
    let refreshed = refresh_request(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200);
    let tokens = json(refreshed).await;
    let (_, pending) = invite(&app, "erin@fabrikam.example").await;
    let domains = "/api/v1/policies/invitationDomainsPolicy";
    let (status, v) = app
        .api(
            "PATCH",
            domains,
            Some(json!({"blockedDomains": ["fabrikam.example"]})),
        )
        .await;
    assert_eq!(status, 200, "{v}");

    let (_, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let page = b.follow(start).await;
    assert_eq!(page.status, 403, "a page says why first: {}", page.body);
    assert!(page.body.contains("guest_domain_blocked"), "{}", page.body);
    let loc = crate::support::back_to_app(&page).unwrap_or_else(|| panic!("{}", page.body));
    assert!(loc.starts_with(&client.redirect_uri), "{loc}");
    let q = query_of(&loc);
    assert_eq!(
        param(&q, "error").as_deref(),
        Some("access_denied"),
        "{loc}"
    );
    assert!(
        param(&q, "error_description").is_some_and(|d| d.contains("email domain")),
        "{loc}"
    );
    let (status, log) = app
        .api(
            "GET",
            &format!("/api/v1/auditLogs/signIns?$filter=userId eq '{id}'"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let newest = &log["value"][0];
    assert_eq!(
        newest["status"]["additionalDetails"], "guest_domain_blocked",
        "{log:#}"
    );

    assert_eq!(
        refresh_status(&app, &client, &tokens).await,
        400,
        "no new tokens for a blocked domain's guest"
    );

    let erin = Browser::new(&app.issuer);
    let page = get(&erin, &pending).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("guest_domain_blocked"), "{}", page.body);

    let (status, _) = app
        .api("PATCH", domains, Some(json!({"blockedDomains": []})))
        .await;
    assert_eq!(status, 200);
    assert!(sign_in(&app, &b, &client).await.is_some(), "let back in");
    assert_eq!(get(&erin, &pending).await.status, 200);
}
both_backends!(
    a_newly_blocked_domain_cuts_off_its_guests_and_their_invitations,
    super::a_newly_blocked_domain_cuts_off_its_guests_and_their_invitations
);

async fn disabling_a_guest_cuts_it_off_at_once(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (id, b, client, tokens) = redeemed_guest(&app, "dina@fabrikam.example").await;
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, at).await.status(), 200);
    let (s, u) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(json!({"accountEnabled": false})),
        )
        .await;
    assert_eq!((s, u["accountEnabled"].as_bool()), (200, Some(false)));
    assert_cut_off(&app, &b, &client, &tokens).await;
}
both_backends!(
    disabling_a_guest_cuts_it_off_at_once,
    super::disabling_a_guest_cuts_it_off_at_once
);

async fn a_passed_access_expiry_cuts_the_guest_off(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (id, b, client, tokens) = redeemed_guest(&app, "eve@fabrikam.example").await;
    // Short enough that every token and the session would still be alive
    // when the clock passes it: only the expiry can cut the guest off.
    let expiry = app.clock.now() + chrono::Duration::minutes(30);
    let (s, u) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(json!({"accessExpiresDateTime": expiry})),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert!(u["accessExpiresDateTime"].is_string());
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, at).await.status(), 200, "before the expiry");
    app.clock.advance(chrono::Duration::minutes(31));
    assert_cut_off(&app, &b, &client, &tokens).await;
}
both_backends!(
    a_passed_access_expiry_cuts_the_guest_off,
    super::a_passed_access_expiry_cuts_the_guest_off
);

async fn deleting_a_guest_cuts_it_off_and_removes_it(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (id, b, client, tokens) = redeemed_guest(&app, "fay@fabrikam.example").await;
    let (s, _) = app
        .api("DELETE", &format!("/api/v1/users/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_cut_off(&app, &b, &client, &tokens).await;
    let (s, _) = app.api("GET", &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(s, 404);
    let (s, _) = app
        .api("DELETE", &format!("/api/v1/users/{id}"), None)
        .await;
    assert_eq!(s, 404);
}
both_backends!(
    deleting_a_guest_cuts_it_off_and_removes_it,
    super::deleting_a_guest_cuts_it_off_and_removes_it
);

async fn reset_redemption_keeps_the_guest_and_makes_it_redeem_again(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "gus@fabrikam.example";
    let (id, b, client, tokens) = redeemed_guest(&app, email).await;
    let (s, inv) = app
        .invite(json!({
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": "https://trials.contoso.example/welcome",
            "sendInvitationMessage": true,
            "resetRedemption": true,
        }))
        .await;
    assert_eq!(s, 201, "{inv}");
    assert_eq!(
        inv["invitedUser"]["id"],
        id.as_str(),
        "the same user object"
    );
    assert_eq!(inv["status"], "PendingAcceptance");
    let (_, user) = app.api("GET", &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(user["externalUserState"], "PendingAcceptance");
    assert_eq!(user["identities"], json!([]));
    assert_cut_off(&app, &b, &client, &tokens).await;

    // The new link redeems again, into the same user.
    let link = inv["inviteRedeemUrl"].as_str().unwrap();
    let b2 = Browser::new(&app.issuer);
    let landing = get(&b2, link).await;
    let code_page = step(&b2, "/redeem/code", &landing, &[]).await;
    let code = nth_code(&app, email, 2).await;
    let consent = step(&b2, "/redeem/verify", &code_page, &[("code", &code)]).await;
    let done = &b2
        .follow(step(&b2, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, user) = app.api("GET", &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(user["externalUserState"], "Accepted");
    assert_eq!(user["identities"][0]["issuerAssignedId"], email);
}
both_backends!(
    reset_redemption_keeps_the_guest_and_makes_it_redeem_again,
    super::reset_redemption_keeps_the_guest_and_makes_it_redeem_again
);

async fn a_code_older_than_ten_minutes_is_refused(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "hal@fabrikam.example";
    let (_, link) = invite(&app, email).await;
    let b = Browser::new(&app.issuer);
    let landing = get(&b, &link).await;
    let code_page = step(&b, "/redeem/code", &landing, &[]).await;
    let code = nth_code(&app, email, 1).await;
    app.clock.advance(chrono::Duration::minutes(11));
    let late = step(&b, "/redeem/verify", &code_page, &[("code", &code)]).await;
    assert_eq!(late.status, 400, "{}", late.body);
    assert!(!late.body.contains("Review permissions"));
}
both_backends!(
    a_code_older_than_ten_minutes_is_refused,
    super::a_code_older_than_ten_minutes_is_refused
);

/// A code issued before the guest was cut off (reset redemption revokes its
/// grants but leaves the account enabled) buys no tokens.
async fn a_code_issued_before_a_reset_is_refused(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "ivy@fabrikam.example";
    let (_, b, client, _) = redeemed_guest(&app, email).await;
    let (verifier, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let page = b.follow(start).await;
    let loc = page.location.expect("SSO: straight back with a code");
    let code = param(&query_of(&loc), "code").expect("code");
    let (s, _) = app
        .invite(json!({
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": "https://trials.contoso.example/welcome",
            "resetRedemption": true,
        }))
        .await;
    assert_eq!(s, 201);
    let resp = redeem(&app, &client, &code, &verifier).await;
    crate::support::assert_oauth_error(resp, 400, "invalid_grant").await;
}
both_backends!(
    a_code_issued_before_a_reset_is_refused,
    super::a_code_issued_before_a_reset_is_refused
);
