//! Redemption helpers shared by the tests: invite, read a code from the
//! received email, and post a step with the page's hidden fields.

use portico_tests::{Browser, Hop, ReceivedMail, TestApp, find_hidden};
use serde_json::json;
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(20);
pub const APP_URL: &str = "https://trials.contoso.example/welcome";

/// Invites `email` with an email; the invitation id and redeem link.
pub async fn invite(app: &TestApp, email: &str) -> (String, String) {
    let (status, inv) = app
        .invite(json!({
            "invitedUserEmailAddress": email,
            "invitedUserDisplayName": "Gail Guest",
            "inviteRedirectUrl": APP_URL,
            "sendInvitationMessage": true,
        }))
        .await;
    assert_eq!(status, 201, "{inv}");
    let url = inv["inviteRedeemUrl"].as_str().unwrap().to_string();
    (inv["id"].as_str().unwrap().to_string(), url)
}

/// The `n`th code (1-based) emailed to `email`.
pub async fn nth_code(app: &TestApp, email: &str, n: usize) -> String {
    let smtp = app.smtp.as_ref().unwrap();
    let is_code = |m: &ReceivedMail| m.to == [email] && m.subject.contains("verification code");
    // `wait_for` finds one message; the predicate counts them all instead.
    smtp.wait_for(
        |_| smtp.messages().iter().filter(|m| is_code(m)).count() >= n,
        WAIT,
    )
    .await;
    let mail = smtp
        .messages()
        .into_iter()
        .filter(|m| is_code(m))
        .nth(n - 1)
        .unwrap();
    mail.text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .expect("an 8-digit code")
        .to_string()
}

pub async fn get(b: &Browser, url: &str) -> Hop {
    b.get(url).await
}

/// Posts a form with the page's hidden fields plus `extra` (which win).
pub async fn step(b: &Browser, path: &str, page: &Hop, extra: &[(&str, &str)]) -> Hop {
    let mut form: Vec<(&str, String)> = Vec::new();
    for name in ["i", "t", "csrf", "code_id", "email", "flow"] {
        if extra.iter().any(|(k, _)| *k == name) {
            continue;
        }
        if let Some(v) = find_hidden(&page.body, name) {
            form.push((name, v));
        }
    }
    for (k, v) in extra {
        form.push((k, v.to_string()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(path, &form).await
}

/// Opens the link and asks for a code: the code page.
pub async fn code_page(b: &Browser, link: &str) -> Hop {
    let landing = get(b, link).await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    let page = step(b, "/redeem/code", &landing, &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("autocomplete=\"one-time-code\""));
    page
}

pub async fn guest_state(app: &TestApp, invitation: &str) -> String {
    let (_, inv) = app
        .api("GET", &format!("/api/v1/invitations/{invitation}"), None)
        .await;
    inv["status"].as_str().unwrap().to_string()
}

/// The redeem link of the invitation emailed to `email`, as the guest reads it.
pub async fn emailed_redeem_link(app: &TestApp, email: &str) -> String {
    let prefix = app.url("/redeem?");
    let mail = app
        .smtp
        .as_ref()
        .unwrap()
        .wait_for(|m| m.to == [email] && m.text.contains(&prefix), WAIT)
        .await;
    mail.text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no redeem link in the email:\n{}", mail.text))
        .to_string()
}
