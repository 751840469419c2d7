//! The sign-in pipeline: the policy's decision at `/authorize` and at every
//! step, truthful `amr`/`acr`, the authentication policy API, and the
//! portal and redemption signing in through the interaction.

use crate::support::{
    ALICE, ALICE_PW, authorize_url, jwt_claims, param, query_of, sign_in_for_code, tokens_for_alice,
};
use portico_tests::{Backend, Browser, both_backends, pkce_pair, spawn_app};
use serde_json::json;

const SFA: &str = "https://refeds.org/profile/sfa";
const MFA: &str = "https://refeds.org/profile/mfa";

async fn id_tokens_claim_what_was_performed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let tokens = tokens_for_alice(&app, &client).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd"]), "{claims}");
    assert_eq!(claims["acr"], SFA, "{claims}");
    let disco: serde_json::Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["acr_values_supported"], json!([SFA, MFA]));
    assert!(
        disco["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("acr"))
    );
}
both_backends!(
    id_tokens_claim_what_was_performed,
    super::id_tokens_claim_what_was_performed
);

/// A second factor that cannot be shown without the user is never skipped:
/// `prompt=none` answers `interaction_required` (OIDC Core §3.1.2.6), for an
/// app that requires MFA and for an app asking `acr_values` for it.
async fn prompt_none_needing_mfa_answers_interaction_required(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let plain = app.web_app().await;
    let b = Browser::new(&app.issuer);
    sign_in_for_code(&app, &b, &plain, &[]).await;

    // The same session, silently: fine for the plain app…
    let (_, challenge) = pkce_pair();
    let silent = b
        .get(&authorize_url(
            &app,
            &plain,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    let q = query_of(silent.location.as_deref().unwrap());
    assert!(param(&q, "code").is_some(), "{q:?}");
    // …not when the request asks for MFA…
    let asked = b
        .get(&authorize_url(
            &app,
            &plain,
            &challenge,
            &[("prompt", "none"), ("acr_values", MFA)],
        ))
        .await;
    let q = query_of(asked.location.as_deref().unwrap());
    assert_eq!(param(&q, "error").as_deref(), Some("interaction_required"));
    assert_eq!(param(&q, "state").as_deref(), Some("st-123"));
    // …nor for an app that requires it.
    let strict = app.web_app().await;
    let (status, body) = app
        .api(
            "PATCH",
            &format!(
                "/api/v1/applications/{}",
                app_id(&app, &strict.client_id).await
            ),
            Some(json!({"requireMfa": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["requireMfa"], true);
    let resp = b
        .get(&authorize_url(
            &app,
            &strict,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    let q = query_of(resp.location.as_deref().unwrap());
    assert_eq!(param(&q, "error").as_deref(), Some("interaction_required"));
    // Without prompt=none the browser is taken to the MFA step, never to a code.
    let resp = b.get(&authorize_url(&app, &strict, &challenge, &[])).await;
    let loc = resp.location.unwrap();
    assert!(loc.starts_with("/interaction/"), "{loc}");
}
both_backends!(
    prompt_none_needing_mfa_answers_interaction_required,
    super::prompt_none_needing_mfa_answers_interaction_required
);

async fn app_id(app: &portico_tests::TestApp, client_id: &str) -> String {
    let (_, list) = app.api("GET", "/api/v1/applications", None).await;
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["clientId"] == client_id)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn the_authentication_policy_is_read_and_patched_with_validation(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = "/api/v1/policies/authenticationPolicy";
    let (status, p) = app.api("GET", path, None).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["requireMfaFor"], "none");
    assert_eq!(p["rememberMfaMinutes"], 720);
    let (status, p) = app
        .api(
            "PATCH",
            path,
            Some(json!({"requireMfaFor": "guests", "rememberMfaMinutes": 60})),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["requireMfaFor"], "guests");
    assert_eq!(p["emailOtpAsSecondFactor"], false);
    for bad in [
        json!({"requireMfaFor": "admins"}),
        json!({"rememberMfaMinutes": -5}),
        json!({"unknownSetting": true}),
    ] {
        let (status, e) = app.api("PATCH", path, Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad} → {e}");
    }
    let (_, p) = app.api("GET", path, None).await;
    assert_eq!(
        p["requireMfaFor"], "guests",
        "a refused patch changes nothing"
    );
    assert_eq!(p["rememberMfaMinutes"], 60);
    // The change is audited, once, with its actor and values.
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let changes: Vec<&serde_json::Value> = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["activityDisplayName"] == "Update authentication policy")
        .collect();
    assert_eq!(changes.len(), 1, "{audits}");
    assert_eq!(changes[0]["category"], "Policy");
    let text = changes[0].to_string();
    assert!(text.contains("guests") && text.contains("none"), "{text}");
    // No token, no policy.
    let resp = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(resp.status(), 401);
}
both_backends!(
    the_authentication_policy_is_read_and_patched_with_validation,
    super::the_authentication_policy_is_read_and_patched_with_validation
);

/// MFA for everyone: after the password, the decision names the MFA step,
/// and a later step (consent) cannot be posted to skip it.
async fn no_url_skips_the_mfa_step(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let (status, _) = app
        .api(
            "PATCH",
            "/api/v1/policies/authenticationPolicy",
            Some(json!({"requireMfaFor": "everyone"})),
        )
        .await;
    assert_eq!(status, 200);
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let page = b.follow(start).await;
    let action = portico_tests::form_action(&page.body);
    let id = action.trim_end_matches("/login").to_string();
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();
    let after = b
        .post_form(
            &action,
            &[("csrf", &csrf), ("email", ALICE), ("password", ALICE_PW)],
        )
        .await;
    assert_eq!(after.status, 303, "{}", after.body);
    // Jumping to consent is refused, and resuming issues no code.
    let jump = b
        .post_form(
            &format!("{id}/consent"),
            &[("csrf", &csrf), ("decision", "accept")],
        )
        .await;
    assert_eq!(jump.status, 409, "{}", jump.body);
    let resume = b.get(&format!("{id}/resume")).await;
    let loc = resume.location.unwrap_or_default();
    assert!(!loc.contains("code="), "{loc}");
    assert_eq!(loc, id, "back to the MFA step");
}
both_backends!(no_url_skips_the_mfa_step, super::no_url_skips_the_mfa_step);

/// Every end of a sign-in is one record: a failed password, a success, a
/// denial (`prompt=none` needing MFA) and a cancel, each with its reason.
async fn every_sign_in_ends_in_one_record(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    // A wrong password, then the right one and consent.
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let refused = b.sign_in(start, ALICE, "wrong password").await;
    assert!(refused.body.contains("incorrect"), "{}", refused.body);
    sign_in_for_code(&app, &b, &client, &[]).await;
    // Silent, but MFA is asked for: denied.
    let denied = b
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("prompt", "none"), ("acr_values", MFA)],
        ))
        .await;
    assert!(denied.location.unwrap().contains("interaction_required"));
    // Another app: the user cancels at its consent.
    let other = app.spa().await;
    let start = b.get(&authorize_url(&app, &other, &challenge, &[])).await;
    let consent = b.follow(start).await;
    let back = b.follow(b.consent(consent, "cancel").await).await;
    assert!(back.location.unwrap().contains("access_denied"));

    let (status, log) = app.api("GET", "/api/v1/auditLogs/signIns", None).await;
    assert_eq!(status, 200, "{log}");
    let rows = log["value"].as_array().unwrap();
    let summary: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["result"].as_str().unwrap().to_string(),
                r["status"]["additionalDetails"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("aborted".to_string(), "user_cancelled".to_string()),
            ("denied".into(), "interaction_required".into()),
            ("success".into(), String::new()),
            ("failed".into(), "invalid_credentials".into()),
        ],
        "{log}"
    );
    let success = &rows[2];
    assert_eq!(success["userPrincipalName"], ALICE);
    assert_eq!(success["appId"], client.client_id.as_str());
    assert_eq!(success["acr"], SFA);
    assert_eq!(success["amr"], json!(["pwd"]));
    assert_eq!(success["status"]["errorCode"], 0);
    assert_eq!(success["authenticationMethodsUsed"], json!(["Password"]));
    assert_eq!(rows[3]["userPrincipalName"], ALICE, "the address typed");
    assert_ne!(rows[3]["status"]["errorCode"], 0);
    assert!(rows.iter().all(|r| r["correlationId"].is_string()));
}
both_backends!(
    every_sign_in_ends_in_one_record,
    super::every_sign_in_ends_in_one_record
);

/// A finished interaction is gone: resuming it again, or posting a step to
/// it, issues nothing.
async fn a_finished_interaction_cannot_be_reused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let page = b.follow(start).await;
    let action = portico_tests::form_action(&page.body);
    let id = action.trim_end_matches("/login").to_string();
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();
    let after = b
        .post_form(
            &action,
            &[("csrf", &csrf), ("email", ALICE), ("password", ALICE_PW)],
        )
        .await;
    let consent = b.follow(after).await;
    let done = b.follow(b.consent(consent, "accept").await).await;
    assert!(done.location.unwrap().contains("code="));
    let again = b.get(&format!("{id}/resume")).await;
    assert!(
        again.location.is_none(),
        "no second code: {:?}",
        again.location
    );
    assert!(
        again.body.contains("already completed") || again.body.contains("expired"),
        "{}",
        again.body
    );
    let replay = b
        .post_form(
            &action,
            &[("csrf", &csrf), ("email", ALICE), ("password", ALICE_PW)],
        )
        .await;
    assert!(replay.location.is_none(), "{:?}", replay.location);
}
both_backends!(
    a_finished_interaction_cannot_be_reused,
    super::a_finished_interaction_cannot_be_reused
);
