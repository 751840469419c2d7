//! The authorization request parameters that shape a sign-in: prompt=consent,
//! login_hint, id_token_hint, claims, and unknown parameters.

use crate::support::*;
use portico_tests::{Backend, Browser, pkce_pair, spawn_app};

#[tokio::test]
async fn prompt_consent_asks_again_and_unknown_parameters_are_ignored() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    // Unknown parameters (here `foo` and `display`) do not disturb the flow.
    sign_in_for_code(&app, &b, &client, &[("foo", "bar"), ("display", "page")]).await;
    let (_, challenge) = pkce_pair();
    let hop = b
        .follow(
            b.get(&authorize_url(
                &app,
                &client,
                &challenge,
                &[("prompt", "consent")],
            ))
            .await,
        )
        .await;
    assert!(
        hop.body.contains("name=\"decision\""),
        "prompt=consent shows the consent page again"
    );
    assert!(hop.body.contains("Contoso Trials") && hop.body.contains("See your email address"));
}

#[tokio::test]
async fn login_hint_prefills_the_sign_in_page_escaped() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let b = Browser::new(&app.issuer);
    let hint = "bob@contoso.example\"><script>alert(1)</script>";
    let page = b
        .follow(
            b.get(&authorize_url(
                &app,
                &client,
                &challenge,
                &[("login_hint", hint)],
            ))
            .await,
        )
        .await;
    assert!(
        page.body
            .contains("value=\"bob@contoso.example&#34;&#62;&#60;script&#62;")
            || page
                .body
                .contains("bob@contoso.example&quot;&gt;&lt;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
}

#[tokio::test]
async fn an_id_token_hint_for_another_user_forces_a_new_sign_in() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    app.create_user("bob@contoso.example", "bob's long password")
        .await;
    let client = app.web_app().await;
    // Bob's ID token, obtained in another browser.
    let bob_browser = Browser::new(&app.issuer);
    let (verifier, challenge) = pkce_pair();
    let start = bob_browser
        .get(&authorize_url(&app, &client, &challenge, &[]))
        .await;
    let after = bob_browser
        .sign_in(start, "bob@contoso.example", "bob's long password")
        .await;
    let done = bob_browser
        .follow(bob_browser.consent(after, "accept").await)
        .await;
    let code = param(&query_of(&done.location.unwrap()), "code").unwrap();
    let bob_id_token = json(redeem(&app, &client, &code, &verifier).await).await["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Alice is signed in here; a silent request hinting Bob must not return Alice.
    let b = Browser::new(&app.issuer);
    sign_in_for_code(&app, &b, &client, &[]).await;
    let (_, ch) = pkce_pair();
    let hop = b
        .get(&authorize_url(
            &app,
            &client,
            &ch,
            &[("prompt", "none"), ("id_token_hint", &bob_id_token)],
        ))
        .await;
    assert_eq!(
        param(&query_of(&hop.location.unwrap()), "error").as_deref(),
        Some("login_required")
    );
    // The same hint naming Alice's own token would pass silently; a token for another app is refused.
    let other = app.web_app().await;
    let hop = b
        .get(&authorize_url(
            &app,
            &other,
            &ch,
            &[("id_token_hint", &bob_id_token)],
        ))
        .await;
    assert_eq!(
        param(&query_of(&hop.location.unwrap()), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn the_claims_parameter_adds_single_claims_to_the_id_token() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let claims = r#"{"id_token":{"email":{"essential":true}}}"#;
    let (code, verifier) = sign_in_for_code(
        &app,
        &b,
        &client,
        &[("scope", "openid"), ("claims", claims)],
    )
    .await;
    let t = json(redeem(&app, &client, &code, &verifier).await).await;
    let id = jwt_claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["email"], ALICE);
    assert!(id.get("name").is_none(), "profile was not asked for");
    assert!(
        t.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let ui = json(userinfo(&app, t["access_token"].as_str().unwrap()).await).await;
    assert!(
        ui.get("email").is_none(),
        "claims asked for the ID token only"
    );
}
