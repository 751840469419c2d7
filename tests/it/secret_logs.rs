//! No secret reaches a log at any level: a sign-in with its codes, a token
//! request, a refresh, a logout with `id_token_hint` and a redemption run
//! while everything the process logs (trace level included) is captured;
//! none of their secret values appears, while the requests themselves do.

use crate::redeem_steps::{invite, nth_code, step};
use crate::support::{json, redeem, refresh_request, sign_in_for_code};
use portico_tests::{Backend, Browser, capture_logs, spawn_app_with_mail};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_state_hints_and_redeem_tokens_never_reach_the_logs() {
    let app = spawn_app_with_mail(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let logs = capture_logs();

    let state = format!("state-{}", uuid::Uuid::new_v4().simple());
    let nonce = format!("nonce-{}", uuid::Uuid::new_v4().simple());
    let hint = format!("hint-{}@contoso.example", uuid::Uuid::new_v4().simple());
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(
        &app,
        &b,
        &client,
        &[("state", &state), ("nonce", &nonce), ("login_hint", &hint)],
    )
    .await;
    let tokens = json(redeem(&app, &client, &code, &verifier).await).await;
    let id_token = tokens["id_token"].as_str().expect("id token").to_string();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let refreshed = refresh_request(&app, &client, &refresh).await;
    assert_eq!(refreshed.status(), 200);
    let logout = b
        .get(&format!(
            "/logout?id_token_hint={id_token}&state={state}&post_logout_redirect_uri={}",
            client.post_logout_redirect_uri
        ))
        .await;
    assert!(logout.status.as_u16() < 500, "{}", logout.body);

    let guest = "gail@fabrikam.example";
    let (_, link) = invite(&app, guest).await;
    let token = url::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v.into_owned())
        .expect("the link's token");
    let g = Browser::new(&app.issuer);
    let landing = g.get(&link).await;
    let page = step(&g, "/redeem/code", &landing, &[]).await;
    let otp = nth_code(&app, guest, 1).await;
    let consent = step(&g, "/redeem/verify", &page, &[("code", &otp)]).await;
    assert_eq!(consent.status, 200, "{}", consent.body);

    let text = logs.text();
    drop(logs);
    // The capture saw these requests, at debug level too.
    for seen in [
        "path=/token",
        "path=/authorize",
        "path=/redeem/verify",
        "state=[redacted]",
        "response_type=code",
        "DEBUG",
    ] {
        assert!(text.contains(seen), "{seen} is not in the captured logs");
    }
    let secrets = [
        ("authorization code", code.as_str()),
        ("code_verifier", verifier.as_str()),
        ("client secret", client.secret.as_deref().unwrap()),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
        ("login_hint", hint.as_str()),
        ("id_token_hint", id_token.as_str()),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("redeem token", token.as_str()),
        ("emailed code", otp.as_str()),
    ];
    for (what, value) in secrets {
        assert!(!text.contains(value), "the {what} is in the logs");
    }
}
