//! Returning guests sign in to an app with a one-time code emailed at the
//! sign-in step, and the step tells nobody which addresses are guests.

use crate::redeem_steps::{code_page, invite, nth_code, step};
use crate::support::{authorize_url, json, jwt_claims, param, query_of, redeem as exchange};
use portico_tests::{
    Backend, Browser, Hop, TestApp, TestClient, both_backends, pkce_pair, spawn_app_with_mail,
};

const WRONG: &str = "That code is not right, or it has expired.";

/// Invites and redeems `email` (it receives code number 1).
async fn redeemed_guest(app: &TestApp, email: &str) {
    let (_, link) = invite(app, email).await;
    let b = Browser::new(&app.issuer);
    let page = code_page(&b, &link).await;
    let code = nth_code(app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &page, &[("code", &code)]).await;
    let done = &b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
}

/// The app's sign-in page in `b`, and the action of its email-code form.
async fn sign_in_page(
    app: &TestApp,
    b: &Browser,
    client: &TestClient,
    challenge: &str,
) -> (Hop, String) {
    let start = b.get(&authorize_url(app, client, challenge, &[])).await;
    let page = b.follow(start).await;
    assert!(
        page.body.contains("Sign in with a one-time code"),
        "{}",
        page.body
    );
    let start = page.body.find("action=\"/interaction/").unwrap() + "action=\"".len();
    let end = page.body[start..].find("/login\"").unwrap() + start;
    let action = format!("{}/email-code", &page.body[start..end]);
    (page, action)
}

fn another_code(code: &str) -> String {
    format!("{:08}", (code.parse::<u32>().unwrap() + 1) % 100_000_000)
}

async fn a_returning_guest_signs_in_with_an_emailed_code(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "gwen@fabrikam.example";
    redeemed_guest(&app, email).await;

    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (verifier, challenge) = pkce_pair();
    let (signin, action) = sign_in_page(&app, &b, &client, &challenge).await;
    let code_page = step(&b, &action, &signin, &[("email", email)]).await;
    assert_eq!(code_page.status, 200, "{}", code_page.body);
    let code = nth_code(&app, email, 2).await;
    let verify = format!("{action}/verify");
    let refused = step(&b, &verify, &code_page, &[("code", &another_code(&code))]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains(WRONG), "{}", refused.body);

    let done = step(&b, &verify, &code_page, &[("code", &code)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let resume = done.location.unwrap();
    assert!(resume.ends_with("/resume"), "{resume}");
    let consent = b.follow(b.get(&resume).await).await;
    let back = b.follow(b.consent(consent, "accept").await).await;
    let code = param(&query_of(&back.location.unwrap()), "code").unwrap();
    let tokens = json(exchange(&app, &client, &code, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["user_type"], "Guest", "{claims}");
    assert_eq!(claims["email"], email);
}
both_backends!(
    a_returning_guest_signs_in_with_an_emailed_code,
    super::a_returning_guest_signs_in_with_an_emailed_code
);

async fn unknown_addresses_get_the_same_answers_and_no_mail(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let guest = "gwen@fabrikam.example";
    redeemed_guest(&app, guest).await;
    let client = app.web_app().await;

    let mut answers = Vec::new();
    for email in [guest, "nobody@fabrikam.example"] {
        let b = Browser::new(&app.issuer);
        let (_, challenge) = pkce_pair();
        let (signin, action) = sign_in_page(&app, &b, &client, &challenge).await;
        let sent = step(&b, &action, &signin, &[("email", email)]).await;
        let verify = format!("{action}/verify");
        let refused = step(&b, &verify, &sent, &[("code", "00000000")]).await;
        // The pages differ only by the address and the hidden ids.
        let shape = |p: &Hop| {
            (
                p.status.as_u16(),
                p.body.contains("code_id"),
                p.body.contains(WRONG),
            )
        };
        answers.push((shape(&sent), shape(&refused)));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], ((200, true, false), (400, true, true)));
    // Nothing is queued for an unknown address, so nothing can arrive later.
    app.deliver_mail().await;
    app.settle_mail().await;
    let smtp = app.smtp.as_ref().unwrap();
    assert!(
        smtp.messages()
            .iter()
            .all(|m| m.to != ["nobody@fabrikam.example"])
    );
}
both_backends!(
    unknown_addresses_get_the_same_answers_and_no_mail,
    super::unknown_addresses_get_the_same_answers_and_no_mail
);
