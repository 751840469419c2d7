//! Passkeys (WebAuthn) on the sign-in pipeline, answered by a software
//! authenticator (`SoftPasskey`: real P-256 signatures) so the server's
//! verification is the real one: registering one as the second factor (with
//! recovery codes when it is the first method), using it, a forged or
//! replayed answer refused and logged, a member's passkey alone where the
//! tenant allows it, the account page, the admin API, and an IP-address
//! issuer where nothing offers a passkey and nothing breaks.

use crate::support::{
    ALICE, ALICE_PW, authorize_url, find_link, json, jwt_claims, param, password_step, query_of,
    redeem,
};
use portico_tests::{
    Backend, Browser, Hop, SmtpServer, SoftPasskey, TestApp, TestClient, both_backends,
    find_hidden, pkce_pair, spawn_app, spawn_app_on_localhost, spawn_as,
};
use serde_json::{Value, json};

const MFA: &str = "https://refeds.org/profile/mfa";

async fn set_policy(app: &TestApp, body: Value) {
    let (status, out) = app
        .api("PATCH", "/api/v1/policies/authenticationPolicy", Some(body))
        .await;
    assert_eq!(status, 200, "{out}");
}

/// The passkey form on a page: where it posts, where its options come from.
struct PasskeyForm {
    action: String,
    options: String,
    csrf: String,
}

impl PasskeyForm {
    fn of(page: &Hop) -> Self {
        let at = page
            .body
            .find(" data-passkey=\"")
            .unwrap_or_else(|| panic!("no passkey form on the page: {}", page.body));
        let action_at = page.body[..at].rfind("action=\"").unwrap() + 8;
        let action = page.body[action_at..at - 1].to_string();
        let o = page.body[at..].find("data-options=\"").unwrap() + at + 14;
        let options = page.body[o..o + page.body[o..].find('"').unwrap()].to_string();
        let csrf = find_hidden(&page.body, "csrf").expect("csrf");
        Self {
            action,
            options,
            csrf,
        }
    }

    /// What static/passkey.js fetches first.
    async fn options(&self, b: &Browser) -> (u16, Value) {
        let hop = b.post_form(&self.options, &[("csrf", &self.csrf)]).await;
        (
            hop.status.as_u16(),
            serde_json::from_str(&hop.body).unwrap_or(Value::Null),
        )
    }

    /// The form as the script posts it, with the authenticator's answer.
    async fn answer(&self, b: &Browser, options: &Value, answer: &Value, name: &str) -> Hop {
        let ceremony = options["ceremony"].as_str().unwrap();
        b.post_form(
            &self.action,
            &[
                ("csrf", &self.csrf),
                ("ceremony", ceremony),
                ("credential", &answer.to_string()),
                ("name", name),
            ],
        )
        .await
    }
}

/// Follows `hop` back to the app (consenting when asked); the ID token's claims.
async fn back_to_app(
    app: &TestApp,
    client: &TestClient,
    b: &Browser,
    hop: Hop,
    verifier: &str,
) -> Value {
    let mut page = b.follow(hop).await;
    if page.body.contains("name=\"decision\"") {
        page = b.follow(b.consent(page, "accept").await).await;
    }
    let to_app = page
        .location
        .as_deref()
        .unwrap_or_else(|| panic!("not back at the app: {} {}", page.status, page.body));
    let code = param(&query_of(to_app), "code").expect("a code");
    let tokens = json(redeem(app, client, &code, verifier).await).await;
    jwt_claims(tokens["id_token"].as_str().unwrap())
}

/// Alice registers `key` at the MFA enrolment step: the recovery codes page.
pub(crate) async fn enrol(
    app: &TestApp,
    client: &TestClient,
    key: &mut SoftPasskey,
) -> (Browser, Hop, String) {
    let (b, enrol, verifier) = password_step(app, client).await;
    assert!(enrol.body.contains("Create a passkey"), "{}", enrol.body);
    let form = PasskeyForm::of(&enrol);
    let (status, opts) = form.options(&b).await;
    assert_eq!(status, 200, "{opts}");
    let answer = key.register(&opts["publicKey"]);
    let codes = form.answer(&b, &opts, &answer, "Laptop").await;
    (b, codes, verifier)
}

async fn a_passkey_is_registered_then_used_as_the_second_factor(backend: Backend) {
    let app = spawn_app_on_localhost(backend).await;
    let alice = app.alice().await;
    set_policy(&app, json!({"requireMfaFor": "everyone"})).await;
    let client = app.web_app().await;
    let mut key = SoftPasskey::new(&app.issuer);

    // Enrolment: the passkey is the first method, so recovery codes come with it.
    let (b, codes, verifier) = enrol(&app, &client, &mut key).await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    assert!(
        codes.body.contains("Your passkey is set up"),
        "{}",
        codes.body
    );
    assert_eq!(codes.body.matches("<li><code>").count(), 10);
    let cont = b.get(&find_link(&codes.body, "/resume")).await;
    let claims = back_to_app(&app, &client, &b, cont, &verifier).await;
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], MFA);

    // The challenge offers the passkey, and no authenticator app.
    let (b, challenge, verifier) = password_step(&app, &client).await;
    assert!(
        challenge.body.contains("Use your passkey"),
        "{}",
        challenge.body
    );
    assert!(!challenge.body.contains("value=\"totp\""));
    let form = PasskeyForm::of(&challenge);
    // A forged signature is refused and logged; it used the ceremony up, so
    // the genuine answer to the same options is refused too.
    let (_, opts) = form.options(&b).await;
    let genuine = key.assert(&opts["publicKey"]);
    let mut forged = genuine.clone();
    forged["response"]["signature"] =
        json!("MEUCIQDforgedforgedforgedforgedforgedforgedAiAforgedforged");
    let refused = form.answer(&b, &opts, &forged, "").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("was not accepted"),
        "{}",
        refused.body
    );
    let replayed = form.answer(&b, &opts, &genuine, "").await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);
    assert!(replayed.body.contains("already used"), "{}", replayed.body);
    // Another passkey (not registered) is refused.
    let (_, opts) = form.options(&b).await;
    let mut stranger = SoftPasskey::new(&app.issuer);
    let refused = form
        .answer(&b, &opts, &stranger.assert(&opts["publicKey"]), "")
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    // New options, a genuine answer: in.
    let (_, opts) = form.options(&b).await;
    let ok = form
        .answer(&b, &opts, &key.assert(&opts["publicKey"]), "")
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let claims = back_to_app(&app, &client, &b, ok, &verifier).await;
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]), "{claims}");

    // The log names the method and the refusals.
    let (_, log) = app.api("GET", "/api/v1/auditLogs/signIns", None).await;
    let rows = log["value"].as_array().unwrap();
    for reason in ["passkey_refused", "passkey_expired"] {
        assert!(
            rows.iter()
                .any(|r| r["status"]["additionalDetails"] == reason),
            "{reason}: {log}"
        );
    }
    assert!(
        rows.iter().any(|r| r["result"] == "success"
            && r["authenticationMethodsUsed"] == json!(["Password", "Passkey (WebAuthn)"])),
        "{log}"
    );

    // The admin API lists it in Graph's shape; re-registration removes it.
    let path = format!("/api/v1/users/{alice}/authentication/methods");
    let (status, methods) = app.api("GET", &path, None).await;
    assert_eq!(status, 200, "{methods}");
    let fido: Vec<&Value> = methods["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethod")
        .collect();
    assert_eq!(fido.len(), 1, "{methods}");
    assert_eq!(fido[0]["displayName"], "Laptop");
    assert!(fido[0]["createdDateTime"].is_string(), "{methods}");
    assert!(fido[0]["id"].is_string());
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/users/{alice}/authentication/requireReregistration"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, methods) = app.api("GET", &path, None).await;
    assert!(!methods.to_string().contains("fido2"), "{methods}");
    let (_, page, _) = password_step(&app, &client).await;
    assert!(
        page.body.contains("Create a passkey"),
        "enrolment again: {}",
        page.body
    );
}
both_backends!(
    a_passkey_is_registered_then_used_as_the_second_factor,
    super::a_passkey_is_registered_then_used_as_the_second_factor
);

async fn a_member_signs_in_with_a_passkey_alone_where_the_tenant_allows_it(backend: Backend) {
    let app = spawn_app_on_localhost(backend).await;
    app.alice().await;
    set_policy(&app, json!({"requireMfaFor": "everyone"})).await;
    let client = app.web_app().await;
    let mut key = SoftPasskey::new(&app.issuer);
    let (b, codes, verifier) = enrol(&app, &client, &mut key).await;
    back_to_app(
        &app,
        &client,
        &b,
        b.get(&find_link(&codes.body, "/resume")).await,
        &verifier,
    )
    .await;

    // Not allowed yet: the sign-in page offers no passkey, and asking anyway is refused.
    let b = Browser::new(&app.issuer);
    let (verifier, challenge) = pkce_pair();
    let page = b
        .follow(b.get(&authorize_url(&app, &client, &challenge, &[])).await)
        .await;
    assert!(
        !page.body.contains("Sign in with a passkey"),
        "{}",
        page.body
    );
    let id_start = page.body.find("action=\"/interaction/").unwrap() + 8;
    let id_end = page.body[id_start..].find("/login").unwrap() + id_start;
    let base = page.body[id_start..id_end].to_string();
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let refused = b
        .post_form(&format!("{base}/passkey/options"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    // Allowed: the passkey alone is both factors.
    set_policy(&app, json!({"passkeyOnlySignIn": true})).await;
    let page = b
        .follow(b.get(&authorize_url(&app, &client, &challenge, &[])).await)
        .await;
    assert!(
        page.body.contains("Sign in with a passkey"),
        "{}",
        page.body
    );
    let form = PasskeyForm::of(&page);
    let (status, opts) = form.options(&b).await;
    assert_eq!(status, 200, "{opts}");
    // Discoverable: the browser is not told which credentials exist.
    assert!(
        opts["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{opts}"
    );
    let ok = form
        .answer(&b, &opts, &key.assert(&opts["publicKey"]), "")
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let claims = back_to_app(&app, &client, &b, ok, &verifier).await;
    assert_eq!(claims["amr"], json!(["hwk", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], MFA);
}
both_backends!(
    a_member_signs_in_with_a_passkey_alone_where_the_tenant_allows_it,
    super::a_member_signs_in_with_a_passkey_alone_where_the_tenant_allows_it
);

/// `/account/security`: list, add (the first method brings recovery codes),
/// rename and remove passkeys, each after a fresh second factor, audited.
async fn users_manage_their_passkeys_at_account_security(backend: Backend) {
    let app = spawn_as(backend, Some(SmtpServer::start()), |_| {}, "localhost").await;
    app.alice().await;
    set_policy(&app, json!({"emailOtpAsSecondFactor": true})).await;
    let b = Browser::new(&app.issuer);
    let start = b.get("/account/security").await;
    let page = b.follow(b.sign_in(start, ALICE, ALICE_PW).await).await;
    assert!(page.body.contains("Passkeys"), "{}", page.body);
    assert!(page.body.contains("to add a passkey</a>"), "{}", page.body);
    // Not fresh: the options are refused.
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let stale = b
        .post_form("/account/security/passkeys/options", &[("csrf", &csrf)])
        .await;
    assert_eq!(stale.status, 403, "{}", stale.body);

    // Step up with the emailed code (Alice has no other second factor).
    let challenge = b.follow(b.get("/account/signin?stepup=1").await).await;
    assert!(
        challenge.body.contains("Email me a code"),
        "{}",
        challenge.body
    );
    let page = step_up_by_email(&app, &b, &challenge).await;
    assert!(page.body.contains("Add a passkey"), "{}", page.body);
    let form = PasskeyForm::of(&page);
    // A forged form is refused.
    let forged = b
        .post_form("/account/security/passkeys/options", &[("csrf", "x")])
        .await;
    assert_eq!(forged.status, 403);
    let mut key = SoftPasskey::new(&app.issuer);
    let (status, opts) = form.options(&b).await;
    assert_eq!(status, 200, "{opts}");
    let added = form
        .answer(&b, &opts, &key.register(&opts["publicKey"]), "Work laptop")
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(
        added.body.matches("<li><code>").count(),
        10,
        "{}",
        added.body
    );
    let page = b.follow(b.get("/account/security").await).await;
    assert!(page.body.contains("Work laptop"), "{}", page.body);
    assert!(page.body.contains("10 of 10 left"), "{}", page.body);
    let prefix = "/account/security/passkeys/";
    let at = page.body.find(prefix).unwrap() + prefix.len();
    let id = page.body[at..at + 36].to_string();

    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let renamed = b
        .post_form(
            &format!("/account/security/passkeys/{id}/rename"),
            &[("csrf", &csrf), ("name", "Home laptop")],
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert!(renamed.body.contains("Home laptop"), "{}", renamed.body);
    let unknown = b
        .post_form(
            "/account/security/passkeys/not-a-passkey/remove",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let removed = b
        .post_form(
            &format!("/account/security/passkeys/{id}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert!(removed.body.contains("was removed"), "{}", removed.body);
    assert!(!removed.body.contains("Home laptop"));
    // The recovery codes went with the last method.
    assert!(
        removed
            .body
            .contains("come with an authenticator app or a passkey"),
        "{}",
        removed.body
    );

    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let activities: Vec<&str> = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["activityDisplayName"].as_str().unwrap())
        .collect();
    for a in ["Registered passkey", "Renamed passkey", "Removed passkey"] {
        assert!(activities.contains(&a), "{a}: {activities:?}");
    }
}
both_backends!(
    users_manage_their_passkeys_at_account_security,
    super::users_manage_their_passkeys_at_account_security
);

/// The emailed second-factor code, asked for and typed on `challenge`; the page after.
pub async fn step_up_by_email(app: &TestApp, b: &Browser, challenge: &Hop) -> Hop {
    let csrf = find_hidden(&challenge.body, "csrf").unwrap();
    let start = challenge.body.find("action=\"/interaction/").unwrap() + 8;
    let end = challenge.body[start..].find('"').unwrap() + start;
    let action = &challenge.body[start..end];
    let base = &action[..action
        .find("/mfa/")
        .or_else(|| action.find("/passkey/"))
        .unwrap()];
    let sent = b
        .post_form(&format!("{base}/mfa/email"), &[("csrf", &csrf)])
        .await;
    assert_eq!(sent.status, 200, "{base}: {}", sent.body);
    let code_id = find_hidden(&sent.body, "code_id").expect("the code form");
    let code = crate::redeem_steps::nth_code(app, ALICE, 1).await;
    let ok = b
        .post_form(
            &format!("{base}/mfa/verify"),
            &[
                ("csrf", &csrf),
                ("kind", "email"),
                ("code_id", &code_id),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    b.follow(ok).await
}

/// With an IP-address issuer (browsers refuse it as a relying party), no page
/// offers a passkey, the account page says why, and asking anyway is a clear
/// refusal, not an error.
#[tokio::test]
async fn with_an_ip_address_issuer_passkeys_are_not_offered_and_nothing_breaks() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    set_policy(
        &app,
        json!({"requireMfaFor": "everyone", "passkeyOnlySignIn": true}),
    )
    .await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let page = b
        .follow(b.get(&authorize_url(&app, &client, &challenge, &[])).await)
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("passkey"), "{}", page.body);
    let enrol = b.follow(b.sign_in(page, ALICE, ALICE_PW).await).await;
    assert!(
        enrol.body.contains("Set up an authenticator app"),
        "{}",
        enrol.body
    );
    assert!(!enrol.body.contains("data-passkey"), "{}", enrol.body);
    let start = enrol.body.find("action=\"/interaction/").unwrap() + 8;
    let end = enrol.body[start..].find("/mfa/").unwrap() + start;
    let base = &enrol.body[start..end];
    let csrf = find_hidden(&enrol.body, "csrf").unwrap();
    let asked = b
        .post_form(&format!("{base}/passkey/options"), &[("csrf", &csrf)])
        .await;
    assert_eq!(asked.status, 409, "{}", asked.body);
    let v: Value = serde_json::from_str(&asked.body).unwrap();
    assert_eq!(v["error"], "passkeys_unavailable");
    let forged = b
        .post_form(
            &format!("{base}/passkey/register"),
            &[("csrf", &csrf), ("ceremony", "x"), ("credential", "{}")],
        )
        .await;
    assert_eq!(forged.status, 400, "{}", forged.body);

    // The account page says why.
    set_policy(&app, json!({"requireMfaFor": "none"})).await;
    let b = Browser::new(&app.issuer);
    let start = b.get("/account/security").await;
    let page = b.follow(b.sign_in(start, ALICE, ALICE_PW).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("id=\"passkeys-unavailable\""),
        "{}",
        page.body
    );
    // The script is served with its type, for the pages that use it.
    let js = b.get("/static/passkey.js").await;
    assert_eq!(js.status, 200);
    assert!(js.body.contains("navigator.credentials"));
}
