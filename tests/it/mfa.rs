//! MFA on the sign-in pipeline, with real TOTP codes computed from the
//! secret the enrolment page shows: enrolment, challenge, replay, lockout
//! and its end, recovery codes, and what the tokens and the log say.

use crate::support::{
    ALICE, ALICE_PW, authorize_url, code_now, find_link, json, jwt_claims, param, password_step,
    post_code, query_of, redeem, require_mfa_for_everyone, shown_secret,
};
use chrono::Duration;
use portico_tests::{Backend, Browser, Hop, both_backends, find_hidden, pkce_pair, spawn_app};
use serde_json::json;

const MFA: &str = "https://refeds.org/profile/mfa";

async fn code_of(hop: &Hop) -> String {
    param(
        &query_of(hop.location.as_deref().expect("to the app")),
        "code",
    )
    .expect("a code")
}

async fn enrolment_challenge_replay_and_recovery_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    require_mfa_for_everyone(&app).await;
    let client = app.web_app().await;

    // Enrolment: after the password, not a code but the authenticator set-up.
    let (b, enrol, verifier) = password_step(&app, &client).await;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    assert!(
        enrol.body.contains("Set up an authenticator app"),
        "{}",
        enrol.body
    );
    assert!(
        enrol.body.contains("<svg"),
        "a QR code rendered on the server"
    );
    assert!(
        enrol.body.contains("href=\"otpauth://totp/"),
        "the otpauth link"
    );
    let secret = shown_secret(&enrol);
    // A reload shows the same key (the app already scanned it).
    let again = b.follow(b.get(&action_base(&enrol)).await).await;
    assert_eq!(shown_secret(&again), secret);
    let bad = if code_now(&app, &secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let wrong = post_code(&b, &enrol, "enroll", "totp", bad).await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains("attempts left"), "{}", wrong.body);
    let codes_page = post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    assert_eq!(codes_page.status, 200, "{}", codes_page.body);
    let recovery: Vec<String> = codes_page
        .body
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10, "{}", codes_page.body);
    let cont = find_link(&codes_page.body, "/resume");
    let consent = b.follow(b.get(&cont).await).await;
    let back = b.follow(b.consent(consent, "accept").await).await;
    let tokens = json(redeem(&app, &client, &code_of(&back).await, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], MFA);

    // The next sign-in is a challenge; the code just used is refused (replay).
    let used = code_now(&app, &secret);
    let (b2, challenge, verifier2) = password_step(&app, &client).await;
    assert!(challenge.body.contains("Verify it"), "{}", challenge.body);
    let replay = post_code(&b2, &challenge, "verify", "totp", &used).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    app.clock.advance(Duration::seconds(30));
    let ok = post_code(&b2, &challenge, "verify", "totp", &code_now(&app, &secret)).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let back = b2.follow(ok).await;
    let tokens = json(redeem(&app, &client, &code_of(&back).await, &verifier2).await).await;
    assert_eq!(jwt_claims(tokens["id_token"].as_str().unwrap())["acr"], MFA);

    // A recovery code works once.
    let (b3, challenge, _) = password_step(&app, &client).await;
    let upper = recovery[0].to_uppercase();
    let ok = post_code(&b3, &challenge, "verify", "recovery", &upper).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let back = b3.follow(ok).await;
    assert!(back.location.unwrap().contains("code="));
    let (b4, challenge, _) = password_step(&app, &client).await;
    let spent = post_code(&b4, &challenge, "verify", "recovery", &recovery[0]).await;
    assert_eq!(spent.status, 400, "{}", spent.body);

    // The log has the MFA sign-ins with their methods, and the refusals.
    let (_, log) = app.api("GET", "/api/v1/auditLogs/signIns", None).await;
    let rows = log["value"].as_array().unwrap();
    let mfa_successes = rows
        .iter()
        .filter(|r| {
            r["result"] == "success"
                && r["authenticationRequirement"] == "multiFactorAuthentication"
        })
        .count();
    assert_eq!(mfa_successes, 3, "{log}");
    assert!(
        rows.iter()
            .any(|r| r["status"]["additionalDetails"] == "code_replayed")
    );
    assert!(
        rows.iter()
            .any(|r| r["authenticationMethodsUsed"] == json!(["Password", "Recovery code"])),
        "{log}"
    );
}
both_backends!(
    enrolment_challenge_replay_and_recovery_codes,
    super::enrolment_challenge_replay_and_recovery_codes
);

fn action_base(page: &Hop) -> String {
    let start = page.body.find("action=\"/interaction/").unwrap() + "action=\"".len();
    let end = page.body[start..].find("/mfa/").unwrap() + start;
    page.body[start..end].to_string()
}

async fn wrong_codes_lock_the_user_out_until_the_lockout_ends(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    require_mfa_for_everyone(&app).await;
    let client = app.web_app().await;
    let (b, enrol, _) = password_step(&app, &client).await;
    let secret = shown_secret(&enrol);
    let page = post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    assert_eq!(page.status, 200);

    app.clock.advance(Duration::seconds(60));
    let (b, challenge, _) = password_step(&app, &client).await;
    let right = code_now(&app, &secret);
    let wrong = if right == "111111" {
        "222222"
    } else {
        "111111"
    };
    for _ in 0..5 {
        let r = post_code(&b, &challenge, "verify", "totp", wrong).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    // Locked: even the right code is not checked.
    let locked = post_code(&b, &challenge, "verify", "totp", &right).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("Too many wrong codes"));
    // The lockout ends by itself.
    app.clock.advance(Duration::minutes(16));
    let ok = post_code(&b, &challenge, "verify", "totp", &code_now(&app, &secret)).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
}
both_backends!(
    wrong_codes_lock_the_user_out_until_the_lockout_ends,
    super::wrong_codes_lock_the_user_out_until_the_lockout_ends
);

/// A second factor is remembered for `rememberMfaMinutes` in the session;
/// `prompt=login` asks for it again.
async fn mfa_is_remembered_then_asked_again(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    require_mfa_for_everyone(&app).await;
    let client = app.web_app().await;
    let (b, enrol, _) = password_step(&app, &client).await;
    let secret = shown_secret(&enrol);
    let codes = post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    let consent = b
        .follow(b.get(&find_link(&codes.body, "/resume")).await)
        .await;
    b.follow(b.consent(consent, "accept").await).await;

    let (_, challenge) = pkce_pair();
    let sso = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    assert!(sso.location.unwrap().contains("code="), "remembered: SSO");
    let again = b
        .follow(
            b.get(&authorize_url(
                &app,
                &client,
                &challenge,
                &[("prompt", "login")],
            ))
            .await,
        )
        .await;
    let after = b.follow(b.sign_in(again, ALICE, ALICE_PW).await).await;
    assert!(
        after.body.contains("Verify it"),
        "prompt=login: a fresh challenge"
    );
    // Past the remembered time (12 h by default; the session lasts 12 h too,
    // so use a short setting).
    app.api(
        "PATCH",
        "/api/v1/policies/authenticationPolicy",
        Some(json!({"rememberMfaMinutes": 5})),
    )
    .await;
    app.clock.advance(Duration::minutes(6));
    let stale = b
        .follow(b.get(&authorize_url(&app, &client, &challenge, &[])).await)
        .await;
    assert!(stale.body.contains("Verify it"), "{}", stale.body);
}
both_backends!(
    mfa_is_remembered_then_asked_again,
    super::mfa_is_remembered_then_asked_again
);

/// With `emailOtpAsSecondFactor`, a member with no authenticator proves the
/// mailbox as the second factor: the code is emailed, bound to this browser
/// and interaction, and a wrong one counts down.
async fn an_emailed_code_serves_as_second_factor_when_allowed(backend: Backend) {
    let app = portico_tests::spawn_app_with_mail(backend).await;
    app.alice().await;
    let (status, _) = app
        .api(
            "PATCH",
            "/api/v1/policies/authenticationPolicy",
            Some(json!({"requireMfaFor": "everyone", "emailOtpAsSecondFactor": true})),
        )
        .await;
    assert_eq!(status, 200);
    let client = app.web_app().await;
    let (b, challenge, verifier) = password_step(&app, &client).await;
    assert!(
        challenge.body.contains("Email me a code"),
        "{}",
        challenge.body
    );
    assert!(
        !challenge.body.contains("authenticator app</label>"),
        "no TOTP offered"
    );
    let csrf = find_hidden(&challenge.body, "csrf").unwrap();
    let base = action_base(&challenge);
    let sent = b
        .post_form(&format!("{base}/mfa/email"), &[("csrf", &csrf)])
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let code_id = find_hidden(&sent.body, "code_id").expect("the code form");
    let code = crate::redeem_steps::nth_code(&app, ALICE, 1).await;
    let wrong = format!("{:08}", (code.parse::<u32>().unwrap() + 1) % 100_000_000);
    let verify = format!("{base}/mfa/verify");
    let refused = b
        .post_form(
            &verify,
            &[
                ("csrf", &csrf),
                ("kind", "email"),
                ("code_id", &code_id),
                ("code", &wrong),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("attempts left"), "{}", refused.body);
    // Another browser cannot use this code.
    let (other, other_page, _) = password_step(&app, &client).await;
    let other_csrf = find_hidden(&other_page.body, "csrf").unwrap();
    let stolen = other
        .post_form(
            &format!("{}/mfa/verify", action_base(&other_page)),
            &[
                ("csrf", &other_csrf),
                ("kind", "email"),
                ("code_id", &code_id),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(stolen.status, 400, "{}", stolen.body);
    let ok = b
        .post_form(
            &verify,
            &[
                ("csrf", &csrf),
                ("kind", "email"),
                ("code_id", &code_id),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let consent = b.follow(ok).await;
    let back = b.follow(b.consent(consent, "accept").await).await;
    let tokens = json(redeem(&app, &client, &code_of(&back).await, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], MFA);
}
both_backends!(
    an_emailed_code_serves_as_second_factor_when_allowed,
    super::an_emailed_code_serves_as_second_factor_when_allowed
);

/// Redemption is the first step of a sign-in: with MFA required for guests,
/// a guest who proved the mailbox registers an authenticator before landing
/// on the invitation's redirect URL, and the app then sees an MFA sign-in.
async fn a_redeeming_guest_enrols_before_landing_when_guests_need_mfa(backend: Backend) {
    use crate::redeem_steps::{APP_URL, code_page, invite, nth_code, step};
    let app = portico_tests::spawn_app_with_mail(backend).await;
    let (status, _) = app
        .api(
            "PATCH",
            "/api/v1/policies/authenticationPolicy",
            // The mailbox was the first factor, so it cannot be the second.
            Some(json!({"requireMfaFor": "guests", "emailOtpAsSecondFactor": true})),
        )
        .await;
    assert_eq!(status, 200);
    let email = "gail@fabrikam.example";
    let (_, link) = invite(&app, email).await;
    let b = Browser::new(&app.issuer);
    let page = code_page(&b, &link).await;
    let code = nth_code(&app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &page, &[("code", &code)]).await;
    let accepted = step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await;
    assert_eq!(accepted.status, 303);
    let enrol = b.follow(accepted).await;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    assert!(
        enrol.body.contains("Set up an authenticator app"),
        "{}",
        enrol.body
    );
    // No session yet: an app still needs a sign-in.
    let client = app.web_app().await;
    let (verifier, challenge) = pkce_pair();
    let early = b
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert!(early.location.unwrap().contains("login_required"));

    let secret = shown_secret(&enrol);
    let codes = post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    let landed = b
        .follow(b.get(&find_link(&codes.body, "/resume")).await)
        .await;
    assert_eq!(landed.location.as_deref(), Some(APP_URL));

    // The session is an MFA one: the app asks only its own consent.
    let start = b.get(&authorize_url(&app, &client, &challenge, &[])).await;
    let consent = b.follow(start).await;
    let back = b.follow(b.consent(consent, "accept").await).await;
    let tokens = json(redeem(&app, &client, &code_of(&back).await, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["user_type"], "Guest");
    assert_eq!(claims["amr"], json!(["otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], MFA);
    let (_, log) = app
        .api(
            "GET",
            "/api/v1/auditLogs/signIns?$filter=result%20eq%20'success'",
            None,
        )
        .await;
    let apps: Vec<&str> = log["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["appDisplayName"].as_str().unwrap())
        .collect();
    assert_eq!(apps, ["Contoso Trials", "Portico"], "{log}");
}
both_backends!(
    a_redeeming_guest_enrols_before_landing_when_guests_need_mfa,
    super::a_redeeming_guest_enrols_before_landing_when_guests_need_mfa
);

/// `/account/security`: the user signs in through the pipeline, sets up an
/// authenticator by stepping up, gets new recovery codes, and removes the
/// app only after verifying again once the last second factor is stale.
async fn users_manage_their_methods_at_account_security(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let b = Browser::new(&app.issuer);
    let start = b.get("/account/security").await;
    assert_eq!(start.location.as_deref(), Some("/account/signin"));
    let page = b.follow(b.sign_in(start, ALICE, ALICE_PW).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Security info"), "{}", page.body);
    assert!(page.body.contains("Set up an authenticator app"));

    // Setting up is a step-up sign-in: the pipeline enrols the user.
    let enrol = b.follow(b.get("/account/signin?stepup=1").await).await;
    assert!(
        enrol.body.contains("Set up an authenticator app"),
        "{}",
        enrol.body
    );
    let secret = shown_secret(&enrol);
    let codes = post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    let page = b
        .follow(b.get(&find_link(&codes.body, "/resume")).await)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Registered on"), "{}", page.body);
    assert!(page.body.contains("10 of 10 left"), "{}", page.body);

    // Fresh: new recovery codes at once. A forged form is refused.
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let forged = b
        .post_form("/account/security/recovery-codes", &[("csrf", "x")])
        .await;
    assert_eq!(forged.status, 403);
    let fresh = b
        .post_form("/account/security/recovery-codes", &[("csrf", &csrf)])
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.body.matches("<li><code>").count(), 10);

    // Stale: removing asks to verify again (password, then the app).
    app.clock.advance(Duration::minutes(11));
    let stale = b
        .post_form("/account/security/authenticator/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(stale.location.as_deref(), Some("/account/signin?stepup=1"));
    let again = b.follow(stale).await;
    let challenge = b.follow(b.sign_in(again, ALICE, ALICE_PW).await).await;
    assert!(challenge.body.contains("Verify it"), "{}", challenge.body);
    let ok = post_code(&b, &challenge, "verify", "totp", &code_now(&app, &secret)).await;
    let page = b.follow(ok).await;
    assert!(page.body.contains("Registered on"), "{}", page.body);
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let removed = b
        .post_form("/account/security/authenticator/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert!(removed.body.contains("was removed"));
    assert!(removed.body.contains("Set up an authenticator app"));

    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let activities: Vec<&str> = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["activityDisplayName"].as_str().unwrap())
        .collect();
    for a in [
        "Registered authenticator app",
        "Regenerated recovery codes",
        "Removed authenticator app",
    ] {
        assert!(activities.contains(&a), "{a}: {activities:?}");
    }
}
both_backends!(
    users_manage_their_methods_at_account_security,
    super::users_manage_their_methods_at_account_security
);

/// An admin requires MFA re-registration (API, least privilege; and the
/// portal): the authenticator and recovery codes are gone, the user enrols
/// again at the next sign-in that needs a second factor.
async fn admins_require_mfa_reregistration(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    require_mfa_for_everyone(&app).await;
    let client = app.web_app().await;
    let (b, enrol, _) = password_step(&app, &client).await;
    let secret = shown_secret(&enrol);
    post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;

    let methods = format!("/api/v1/users/{alice}/authentication/methods");
    let (status, m) = app.api("GET", &methods, None).await;
    assert_eq!(status, 200, "{m}");
    let types: Vec<&str> = m["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["@odata.type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"#microsoft.graph.softwareOathAuthenticationMethod"),
        "{m}"
    );

    // Reading is not enough to reset.
    let path = format!("/api/v1/users/{alice}/authentication/requireReregistration");
    let reader = app
        .admin_token_for("UserAuthenticationMethod.Read.All")
        .await;
    let http = reqwest::Client::new();
    let refused = http
        .post(app.url(&path))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let ok = http
        .get(app.url(&methods))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (status, _) = app.api("POST", &path, None).await;
    assert_eq!(status, 204);
    let (_, m) = app.api("GET", &methods, None).await;
    assert!(!m.to_string().contains("softwareOath"), "{m}");
    let (_, enrol) = {
        let (b, page, _) = password_step(&app, &client).await;
        (b, page)
    };
    assert!(
        enrol.body.contains("Set up an authenticator app"),
        "{}",
        enrol.body
    );

    // The portal's button does the same, audited with the admin as actor.
    let (b, enrol, _) = password_step(&app, &client).await;
    let secret = shown_secret(&enrol);
    post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    // MFA for everyone would ask the admin for one too; not the point here.
    app.api(
        "PATCH",
        "/api/v1/policies/authenticationPolicy",
        Some(json!({"requireMfaFor": "none"})),
    )
    .await;
    let admin = app.portal_admin().await;
    let page = admin.get(&format!("/admin/users/{alice}")).await;
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let done = admin
        .post_form(
            &format!("/admin/users/{alice}/require-mfa-reregistration"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let shown = admin.follow(done).await;
    assert!(shown.body.contains("registers a new one"), "{}", shown.body);
    let (_, m) = app.api("GET", &methods, None).await;
    assert!(!m.to_string().contains("softwareOath"), "{m}");
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let resets = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["activityDisplayName"] == "Required MFA re-registration")
        .count();
    assert_eq!(resets, 2, "{audits}");
}
both_backends!(
    admins_require_mfa_reregistration,
    super::admins_require_mfa_reregistration
);

/// The portal signs in through the pipeline, so MFA applies to admins too.
async fn admins_pass_mfa_to_reach_the_portal(backend: Backend) {
    let app = spawn_app(backend).await;
    require_mfa_for_everyone(&app).await;
    let b = Browser::new(&app.issuer);
    let hop = b
        .sign_in(
            b.get("/admin/signin").await,
            portico_tests::ADMIN_EMAIL,
            portico_tests::ADMIN_PASSWORD,
        )
        .await;
    let enrol = b.follow(hop).await;
    assert!(
        enrol.body.contains("Set up an authenticator app"),
        "{}",
        enrol.body
    );
    assert_eq!(b.get("/admin/users").await.status, 303, "no portal yet");
    let secret = shown_secret(&enrol);
    let codes = post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    let portal = b
        .follow(b.get(&find_link(&codes.body, "/resume")).await)
        .await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    assert!(portal.body.contains("/admin/signout"), "{}", portal.body);
}
both_backends!(
    admins_pass_mfa_to_reach_the_portal,
    super::admins_pass_mfa_to_reach_the_portal
);

/// The portal's Authentication page edits the tenant policy (validated,
/// audited) and an application's `requireMfa`.
async fn the_portal_sets_the_authentication_policy_and_app_mfa(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.web_app().await;
    let admin = app.portal_admin().await;
    let page = admin.get("/admin/authentication").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Contoso Trials"), "{}", page.body);
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let bad = admin
        .post_form(
            "/admin/authentication",
            &[
                ("csrf", &csrf),
                ("require_mfa_for", "admins"),
                ("remember_mfa_minutes", "60"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("requireMfaFor must be one of"),
        "{}",
        bad.body
    );
    let saved = admin
        .post_form(
            "/admin/authentication",
            &[
                ("csrf", &csrf),
                ("require_mfa_for", "guests"),
                ("remember_mfa_minutes", "90"),
                ("email_otp_as_second_factor", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, p) = app
        .api("GET", "/api/v1/policies/authenticationPolicy", None)
        .await;
    assert_eq!(p["requireMfaFor"], "guests");
    assert_eq!(p["rememberMfaMinutes"], 90);
    assert_eq!(p["emailOtpAsSecondFactor"], true);
    assert_eq!(p["passkeyOnlySignIn"], false);

    // Requiring MFA for the app: its sign-ins then stop at the MFA step.
    let page = admin.get("/admin/authentication").await;
    let start = page
        .body
        .find(&format!("<code>{}</code>", client.client_id))
        .unwrap();
    let form_at = page.body[start..]
        .find("action=\"/admin/applications/")
        .unwrap()
        + start
        + 8;
    let action_end = page.body[form_at..].find('"').unwrap() + form_at;
    let action = page.body[form_at..action_end].to_string();
    let done = admin
        .post_form(&action, &[("csrf", &csrf), ("require_mfa", "on")])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, apps) = app.api("GET", "/api/v1/applications", None).await;
    let this = apps["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["clientId"] == client.client_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(this["requireMfa"], true, "{this}");
    let forged = admin
        .post_form(&action, &[("csrf", "nope"), ("require_mfa", "off")])
        .await;
    assert_eq!(forged.status, 403);
}
both_backends!(
    the_portal_sets_the_authentication_policy_and_app_mfa,
    super::the_portal_sets_the_authentication_policy_and_app_mfa
);

/// Two nodes on one database: a TOTP code used at one node is refused at
/// the other (the step is consumed in the database, not in memory).
async fn a_code_used_on_one_node_is_refused_on_another(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    require_mfa_for_everyone(&app).await;
    let client = app.web_app().await;
    let (b, enrol, _) = password_step(&app, &client).await;
    let secret = shown_secret(&enrol);
    post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    app.clock.advance(Duration::seconds(30));
    let code = code_now(&app, &secret);
    let (b1, challenge, _) = password_step(&app, &client).await;
    let ok = post_code(&b1, &challenge, "verify", "totp", &code).await;
    assert_eq!(ok.status, 303, "{}", ok.body);

    let node = app.second_node().await;
    let b2 = Browser::new(&node.issuer);
    let (_, challenge2) = pkce_pair();
    let start = b2
        .get(&format!(
            "{}/authorize?{}",
            node.issuer,
            authorize_url(&app, &client, &challenge2, &[])
                .split_once('?')
                .unwrap()
                .1
        ))
        .await;
    let page = b2.follow(b2.sign_in(start, ALICE, ALICE_PW).await).await;
    assert!(page.body.contains("Verify it"), "{}", page.body);
    let replay = post_code(&b2, &page, "verify", "totp", &code).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(replay.body.contains("already used"), "{}", replay.body);
}
both_backends!(
    a_code_used_on_one_node_is_refused_on_another,
    super::a_code_used_on_one_node_is_refused_on_another
);
