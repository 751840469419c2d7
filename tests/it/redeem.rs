//! Redemption through the pages, with the codes read from the emails a real
//! SMTP server received: link → code → consent → Accepted → the app; wrong
//! codes, forwarded links, declining, and the block link.

use crate::redeem_steps::{APP_URL, WAIT, code_page, get, guest_state, invite, nth_code, step};
use crate::support::{authorize_url, json, jwt_claims, redeem as redeem_code_at_token};
use portico_tests::{Backend, Browser, both_backends, find_hidden, pkce_pair, spawn_app_with_mail};
use serde_json::json;

async fn link_code_consent_accept_lands_on_the_app_as_a_guest(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "gail@fabrikam.example";
    let (id, link) = invite(&app, email).await;
    let b = Browser::new(&app.issuer);
    let landing = get(&b, &link).await;
    assert!(
        landing.body.contains("Portico management"),
        "{}",
        landing.body
    );
    assert!(
        landing
            .body
            .contains("Email a code to gail@fabrikam.example")
    );

    let code_page = step(&b, "/redeem/code", &landing, &[]).await;
    let code = nth_code(&app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &code_page, &[("code", &code)]).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains("Review permissions"));
    assert!(consent.body.contains("https://contoso.example/privacy"));
    assert!(consent.body.contains("Gail Guest") && consent.body.contains(email));
    assert_eq!(
        guest_state(&app, &id).await,
        "PendingAcceptance",
        "not before consent"
    );

    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some(APP_URL));
    assert_eq!(guest_state(&app, &id).await, "Accepted");
    let again = get(&b, &link).await;
    assert!(again.body.contains("already accepted"), "{}", again.body);

    // The session redemption started signs the guest in to an app: only the
    // app's own consent is asked, and the ID token says Guest.
    let client = app.web_app().await;
    let (verifier, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let page = b.follow(start).await;
    assert!(
        !page.body.contains("name=\"password\""),
        "no second sign-in"
    );
    let back = b.follow(b.consent(page, "accept").await).await;
    let loc = back.location.expect("back to the app");
    let code = crate::support::param(&crate::support::query_of(&loc), "code").unwrap();
    let tokens = json(redeem_code_at_token(&app, &client, &code, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["user_type"], "Guest", "{claims}");
    assert_eq!(claims["email"], email);
}
both_backends!(
    link_code_consent_accept_lands_on_the_app_as_a_guest,
    super::link_code_consent_accept_lands_on_the_app_as_a_guest
);

async fn wrong_codes_count_down_then_the_code_is_spent(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "walt@fabrikam.example";
    let (id, link) = invite(&app, email).await;
    let b = Browser::new(&app.issuer);
    let page = code_page(&b, &link).await;
    let code = nth_code(&app, email, 1).await;
    let wrong = format!("{:08}", (code.parse::<u32>().unwrap() + 1) % 100_000_000);
    for left in [4, 3, 2] {
        let p = step(&b, "/redeem/verify", &page, &[("code", &wrong)]).await;
        assert_eq!(p.status, 400);
        assert!(
            p.body.contains(&format!("{left} attempts left")),
            "{}",
            p.body
        );
    }
    let p = step(&b, "/redeem/verify", &page, &[("code", &wrong)]).await;
    assert!(p.body.contains("1 attempt left"), "{}", p.body);
    let spent = step(&b, "/redeem/verify", &page, &[("code", &wrong)]).await;
    assert!(
        spent.body.contains("can no longer be used"),
        "{}",
        spent.body
    );
    // Out of attempts, even the right code is refused; a new one is offered.
    let late = step(&b, "/redeem/verify", &page, &[("code", &code)]).await;
    assert_eq!(late.status, 400);
    assert!(late.body.contains("Send a new code"));
    assert_eq!(guest_state(&app, &id).await, "PendingAcceptance");
}
both_backends!(
    wrong_codes_count_down_then_the_code_is_spent,
    super::wrong_codes_count_down_then_the_code_is_spent
);

async fn a_forwarded_link_cannot_use_a_code_sent_to_another_browser(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "fran@fabrikam.example";
    let (id, link) = invite(&app, email).await;
    let guest = Browser::new(&app.issuer);
    let guest_page = code_page(&guest, &link).await;
    let code = nth_code(&app, email, 1).await;

    // Someone else got the link (and even the code and its id).
    let other = Browser::new(&app.issuer);
    let landing = get(&other, &link).await;
    assert_eq!(landing.status, 200);
    let code_id = find_hidden(&guest_page.body, "code_id").unwrap();
    let theirs = step(
        &other,
        "/redeem/verify",
        &landing,
        &[("code_id", &code_id), ("code", &code)],
    )
    .await;
    assert_eq!(theirs.status, 400, "{}", theirs.body);
    assert!(!theirs.body.contains("Review permissions"));
    // Replaying the guest's form without the guest's cookie is stale.
    let replay = step(&other, "/redeem/verify", &guest_page, &[("code", &code)]).await;
    assert_eq!(replay.status, 403);
    assert_eq!(guest_state(&app, &id).await, "PendingAcceptance");

    // The guest's own browser still can.
    let consent = step(&guest, "/redeem/verify", &guest_page, &[("code", &code)]).await;
    assert!(
        consent.body.contains("Review permissions"),
        "{}",
        consent.body
    );
}
both_backends!(
    a_forwarded_link_cannot_use_a_code_sent_to_another_browser,
    super::a_forwarded_link_cannot_use_a_code_sent_to_another_browser
);

async fn declining_shares_nothing_and_leaves_the_invitation_open(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "dina@fabrikam.example";
    let (id, link) = invite(&app, email).await;
    let b = Browser::new(&app.issuer);
    let page = code_page(&b, &link).await;
    let code = nth_code(&app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &page, &[("code", &code)]).await;
    let declined = step(&b, "/redeem/consent", &consent, &[("decision", "decline")]).await;
    assert_eq!(declined.status, 200);
    assert!(
        declined.body.contains("Nothing was shared"),
        "{}",
        declined.body
    );
    assert_eq!(guest_state(&app, &id).await, "PendingAcceptance");
    assert_eq!(get(&b, &link).await.status, 200, "the link still works");
}
both_backends!(
    declining_shares_nothing_and_leaves_the_invitation_open,
    super::declining_shares_nothing_and_leaves_the_invitation_open
);

async fn the_block_link_stops_further_invitations(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "bob@fabrikam.example";
    let (id, link) = invite(&app, email).await;
    let smtp = app.smtp.as_ref().unwrap();
    let mail = smtp
        .wait_for(
            |m| m.to == [email] && m.text.contains("/invitations/block?"),
            WAIT,
        )
        .await;
    let block = mail
        .text
        .lines()
        .find(|l| l.contains("/invitations/block?"))
        .unwrap()
        .trim()
        .to_string();
    let b = Browser::new(&app.issuer);
    let confirm = get(&b, &block).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("Block invitations from Contoso?"));
    assert_eq!(
        guest_state(&app, &id).await,
        "PendingAcceptance",
        "a GET blocks nothing"
    );
    let done = step(&b, "/invitations/block", &confirm, &[]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("You will not receive further invitations from")
    );
    assert_eq!(guest_state(&app, &id).await, "Revoked");
    assert_eq!(get(&b, &link).await.status, 404);
    let (status, _) = app
        .invite(json!({"invitedUserEmailAddress": email, "inviteRedirectUrl": APP_URL}))
        .await;
    assert_eq!(status, 409);
}
both_backends!(
    the_block_link_stops_further_invitations,
    super::the_block_link_stops_further_invitations
);

/// The admin who sent the invitation opens the link in their own browser
/// (as anyone trying Portico does): the redemption is a fresh sign-in of the
/// guest, which replaces the admin's session rather than failing on it.
async fn redeeming_in_a_browser_signed_in_as_someone_else_signs_the_guest_in(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "sam@fabrikam.example";
    let (id, link) = invite(&app, email).await;
    let b = app.portal_admin().await;
    let page = code_page(&b, &link).await;
    let code = nth_code(&app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &page, &[("code", &code)]).await;
    assert!(
        consent.body.contains("Review permissions"),
        "{}",
        consent.body
    );
    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.location.as_deref(), Some(APP_URL), "{}", done.body);
    assert_eq!(guest_state(&app, &id).await, "Accepted");

    // The browser's session is the guest's now: an app signs in Sam.
    let client = app.web_app().await;
    let (verifier, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let back = b
        .follow(b.consent(b.follow(start).await, "accept").await)
        .await;
    let loc = back.location.expect("back to the app");
    let code = crate::support::param(&crate::support::query_of(&loc), "code").unwrap();
    let tokens = json(redeem_code_at_token(&app, &client, &code, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["email"], email, "{claims}");
}
both_backends!(
    redeeming_in_a_browser_signed_in_as_someone_else_signs_the_guest_in,
    super::redeeming_in_a_browser_signed_in_as_someone_else_signs_the_guest_in
);
