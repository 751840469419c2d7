//! Passkeys in headless Chromium (`tests/e2e/passkey.mjs`) with the DevTools
//! virtual authenticator: register one at the MFA enrolment step, sign in with
//! it alone and as the second factor (the ID tokens say `hwk` and `mfa`), and
//! remove it at `/account/security`. The server's issuer is
//! `http://localhost:PORT`: a secure context and a valid relying party id.

use crate::e2e::browser_prerequisites;
use crate::support::*;
use portico_tests::{Backend, pkce_pair, spawn_app_on_localhost};
use serde_json::{Value, json};

#[tokio::test]
async fn a_member_registers_uses_and_removes_a_passkey_in_chromium() {
    let (dir, chromium) = browser_prerequisites();
    let app = spawn_app_on_localhost(Backend::Sqlite).await;
    let alice = app.alice().await;
    let (status, body) = app
        .api(
            "PATCH",
            "/api/v1/policies/authenticationPolicy",
            Some(json!({"requireMfaFor": "everyone", "passkeyOnlySignIn": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let client = app.web_app().await;
    let pairs: Vec<(String, String)> = (0..3).map(|_| pkce_pair()).collect();
    let urls: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, (_, challenge))| {
            let prompt = if i == 0 { "" } else { "login" };
            authorize_url(&app, &client, challenge, &[("prompt", prompt)])
        })
        .collect();
    let out = tokio::process::Command::new("node")
        .arg(dir.join("passkey.mjs"))
        .env("AUTHORIZE_URLS", serde_json::to_string(&urls).unwrap())
        .env("REDIRECT_URI", &client.redirect_uri)
        .env("USER_EMAIL", ALICE)
        .env("USER_PASSWORD", ALICE_PW)
        .env("ACCOUNT_URL", app.url("/account/security"))
        .env("CHROMIUM_PATH", &chromium)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "chromium journey failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(
        v["cspViolations"],
        json!([]),
        "our own pages must not trip our CSP"
    );
    assert_eq!(v["removed"], true, "{v}");
    let codes = v["codes"].as_array().unwrap();
    let expected = [
        json!(["pwd", "hwk", "mfa"]),
        json!(["hwk", "mfa"]),
        json!(["pwd", "hwk", "mfa"]),
    ];
    for ((code, (verifier, _)), amr) in codes.iter().zip(&pairs).zip(expected) {
        let tokens = json(redeem(&app, &client, code.as_str().unwrap(), verifier).await).await;
        let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["amr"], amr, "{claims}");
        assert_eq!(claims["acr"], "https://refeds.org/profile/mfa");
    }
    // Removed for the server too.
    let (_, methods) = app
        .api(
            "GET",
            &format!("/api/v1/users/{alice}/authentication/methods"),
            None,
        )
        .await;
    assert!(!methods.to_string().contains("fido2"), "{methods}");
}
