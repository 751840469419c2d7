//! A person in headless Chromium (Debian `chromium`, driven by playwright-core):
//! the real sign-in and consent pages, with our CSP, back to the app by query
//! and by the form_post auto-submit (which needs the page's script to run).

use crate::redeem_steps::{emailed_redeem_link, nth_code};
use crate::support::*;
use portico_tests::{Backend, pkce_pair, spawn_app, spawn_app_with_mail};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const NODE_HINT: &str = "install Node.js 20+ (`apt-get install -y nodejs npm`), then run `npm ci --prefix tests/e2e` (./test does both)";

/// The journeys' folder and the Chromium to drive; fails, saying how to
/// install them, when playwright-core or Chromium is missing.
pub(crate) fn browser_prerequisites() -> (std::path::PathBuf, String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci --prefix tests/e2e` (Node.js 20+), or ./test"
    );
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is not installed: run `apt-get install -y chromium` (or set CHROMIUM_PATH), or ./test"
    );
    (dir, chromium)
}

async fn sign_in_in_chromium(response_mode: &str) -> (Value, portico_tests::TestClient) {
    let (dir, chromium) = browser_prerequisites();
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let url = authorize_url(
        &app,
        &client,
        &challenge,
        &[("response_mode", response_mode)],
    );
    let out = tokio::process::Command::new("node")
        .arg(dir.join("signin.mjs"))
        .env("AUTHORIZE_URL", url)
        .env("REDIRECT_URI", &client.redirect_uri)
        .env("USER_EMAIL", ALICE)
        .env("USER_PASSWORD", ALICE_PW)
        .env("CHROMIUM_PATH", &chromium)
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
        serde_json::json!([]),
        "our own pages must not trip our CSP"
    );
    (v, client)
}

#[tokio::test]
async fn a_person_signs_in_and_consents_in_chromium_and_the_app_gets_a_code() {
    let (v, client) = sign_in_in_chromium("query").await;
    assert_eq!(v["method"], "GET");
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&client.redirect_uri));
    let q = query_of(url);
    assert!(param(&q, "code").is_some());
    assert_eq!(param(&q, "state").as_deref(), Some("st-123"));
}

#[tokio::test]
async fn form_post_auto_submits_in_chromium() {
    let (v, _) = sign_in_in_chromium("form_post").await;
    assert_eq!(v["method"], "POST", "the form posted itself");
    let body: Vec<(String, String)> =
        serde_urlencoded::from_str(v["postData"].as_str().unwrap()).unwrap();
    assert!(param(&body, "code").is_some());
    assert_eq!(param(&body, "state").as_deref(), Some("st-123"));
}

/// Journey 2 (PRODUCT.md §1): a guest with no trusted IdP follows the link in
/// the invitation email, proves the mailbox with the code emailed when the
/// page asks for it, consents, and lands on the invitation's redirect URL.
/// The code reaches the browser over the script's stdio: it prints
/// `READY_FOR_CODE` on the code page; the test reads the code email and
/// writes the code to its stdin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_without_an_idp_redeems_the_emailed_link_with_a_code_in_chromium() {
    redeem_in_chromium(false, false).await;
}

/// The same journey with MFA required for guests (issue 9): after consent the
/// guest registers an authenticator app from the server-rendered QR page,
/// with a real TOTP code computed from the key the page shows (the script
/// prints `READY_FOR_TOTP <key>`; the test answers with the code for the
/// server's clock), saves the recovery codes, and only then lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_redeems_and_enrols_an_authenticator_in_chromium_when_guests_need_mfa() {
    redeem_in_chromium(true, false).await;
}

/// Issue 12's journey: invited to Portico itself, the guest redeems, consents,
/// enrols an authenticator (MFA for guests), lands on My Apps, reads that the
/// app is shared through a group, and launches it (its `initiateLoginUri`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_lands_on_my_apps_and_launches_the_shared_app_in_chromium() {
    redeem_in_chromium(true, true).await;
}

async fn redeem_in_chromium(mfa: bool, myapps: bool) {
    let (dir, chromium) = browser_prerequisites();
    let app = spawn_app_with_mail(Backend::Sqlite).await;
    if mfa {
        let (status, body) = app
            .api(
                "PATCH",
                "/api/v1/policies/authenticationPolicy",
                Some(json!({"requireMfaFor": "guests"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let email = "bob@gmail.example";
    // Any Portico URL answering 200 will do: the browser must be able to land
    // there. Invited to Portico's bare origin, the guest lands on My Apps.
    let (invite_redirect, redirect_url) = if myapps {
        (app.issuer.clone(), app.url("/myapps"))
    } else {
        let u = app.url("/.well-known/openid-configuration");
        (u.clone(), u)
    };
    let launch_url = app.url("/.well-known/openid-configuration?launched=1");
    let (status, inv) = app
        .invite(json!({
            "invitedUserEmailAddress": email,
            "invitedUserDisplayName": "Bob Guest",
            "inviteRedirectUrl": invite_redirect,
            "sendInvitationMessage": true,
        }))
        .await;
    assert_eq!(status, 201, "{inv}");
    let invitation = inv["id"].as_str().unwrap();
    let user = inv["invitedUser"]["id"].as_str().unwrap();
    if myapps {
        // An app only assigned users may use, shared with Bob through a group.
        let (s, trials) = app
            .api(
                "POST",
                "/api/v1/applications",
                Some(
                    json!({"displayName": "Trials", "clientType": "confidential",
                    "redirectUris": ["https://trials.contoso.example/callback"],
                    "initiateLoginUri": launch_url, "appRoleAssignmentRequired": true}),
                ),
            )
            .await;
        assert_eq!(s, 201, "{trials}");
        let (_, g) = app
            .api(
                "POST",
                "/api/v1/groups",
                Some(json!({"displayName": "Trials guests", "mailEnabled": false})),
            )
            .await;
        let gid = g["id"].as_str().unwrap();
        let member = json!({"@odata.id": app.url(&format!("/api/v1/users/{user}"))});
        let path = format!("/api/v1/groups/{gid}/members/$ref");
        assert_eq!(app.api("POST", &path, Some(member)).await.0, 204);
        let assign = format!(
            "/api/v1/applications/{}/appRoleAssignedTo",
            trials["id"].as_str().unwrap()
        );
        let (s, _) = app
            .api("POST", &assign, Some(json!({"principalId": gid})))
            .await;
        assert_eq!(s, 201);
    }

    // The link as Bob gets it: from the invitation email's text.
    let link = emailed_redeem_link(&app, email).await;
    assert_eq!(link, inv["inviteRedeemUrl"].as_str().unwrap());

    let mut child = tokio::process::Command::new("node")
        .arg(dir.join("redeem.mjs"))
        .env("REDEEM_URL", &link)
        .env("REDIRECT_URL", &redirect_url)
        .env("GUEST_EMAIL", email)
        .env("INVITER", "Portico management")
        .env("ORGANIZATION", "Contoso")
        .env("PRIVACY_URL", "https://contoso.example/privacy")
        .env("EXPECT_MFA", if mfa { "1" } else { "" })
        .env("MYAPPS_APP", if myapps { "Trials" } else { "" })
        .env("MYAPPS_REASON", "Through the group Trials guests")
        .env("LAUNCH_URL", &launch_url)
        .env("CHROMIUM_PATH", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): {NODE_HINT}"));
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });

    let mut lines = Vec::new();
    let mut codes_sent = 0;
    let mut totp_sent = 0;
    let journey = async {
        while let Some(line) = stdout.next_line().await.expect("read node's stdout") {
            let answer = if line == "READY_FOR_CODE" {
                codes_sent += 1;
                Some(nth_code(&app, email, codes_sent).await)
            } else if let Some(key) = line.strip_prefix("READY_FOR_TOTP ") {
                totp_sent += 1;
                let now = portico_core::Clock::now(&app.clock);
                Some(portico_directory::mfa::totp_code_at(key.trim(), now).unwrap())
            } else {
                lines.push(line);
                None
            };
            if let Some(code) = answer {
                stdin
                    .write_all(format!("{code}\n").as_bytes())
                    .await
                    .expect("hand the code to the browser");
                stdin.flush().await.expect("hand the code to the browser");
            }
        }
        child.wait().await.expect("wait for node")
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), journey).await;
    if outcome.is_err() {
        let _ = child.start_kill();
    }
    let stderr = stderr.await.unwrap_or_default();
    let stdout = lines.join("\n");
    let status = outcome.unwrap_or_else(|_| {
        panic!("the chromium journey did not finish within 120 s:\n{stdout}\n{stderr}")
    });
    assert!(
        status.success(),
        "chromium journey failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(codes_sent, 1, "the browser asked for one code");
    assert_eq!(
        totp_sent,
        usize::from(mfa),
        "one authenticator code when MFA applies"
    );
    let v: Value = serde_json::from_str(lines.last().expect("a result line"))
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{stdout}"));
    assert_eq!(
        v["cspViolations"],
        json!([]),
        "our own pages must not trip our CSP"
    );
    let landed = if myapps { &launch_url } else { &redirect_url };
    assert_eq!(v["url"], landed.as_str(), "{v}");
    let mut pages: Vec<&str> = v["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    if myapps {
        assert_eq!(pages.pop(), Some("launch"), "{v}");
    }
    if mfa {
        assert_eq!(
            pages,
            [
                "landing",
                "code",
                "consent",
                "mfa enrolment",
                "recovery codes",
                "redirect target"
            ]
        );
    } else {
        assert_eq!(pages, ["landing", "code", "consent", "redirect target"]);
    }

    // The directory agrees: the invitation is spent and Bob is a guest who accepted.
    let (s, inv) = app
        .api("GET", &format!("/api/v1/invitations/{invitation}"), None)
        .await;
    assert_eq!(s, 200, "{inv}");
    assert_eq!(inv["status"], "Accepted", "{inv}");
    let (s, user) = app.api("GET", &format!("/api/v1/users/{user}"), None).await;
    assert_eq!(s, 200, "{user}");
    assert_eq!(user["externalUserState"], "Accepted", "{user}");
    assert_eq!(user["userType"], "Guest", "{user}");
    if mfa {
        let (_, methods) = app
            .api(
                "GET",
                &format!(
                    "/api/v1/users/{user_id}/authentication/methods",
                    user_id = user["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert!(methods.to_string().contains("softwareOath"), "{methods}");
    }
}

/// Journey 1 (PRODUCT.md §1): an invited guest whose domain has a trusted
/// home IdP follows the emailed link, continues to Fabrikam (a real npm
/// `oidc-provider`), signs in and consents there, reviews Contoso's
/// permissions back at Portico, accepts, and lands on the invitation's
/// redirect URL (answered by the script: no server runs there). Portico's
/// pages must not trip its CSP; the upstream's pages are not held to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_redeems_through_home_idp_in_chromium() {
    federated_redemption_in_chromium(false).await;
}

/// The same with MFA required for guests and Fabrikam's MFA not trusted:
/// after "Review permissions" the guest registers an authenticator app at
/// Portico (a real RFC 6238 code, computed by the script for the server's
/// clock) and then lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_redeems_through_home_idp_and_enrols_mfa_in_chromium() {
    federated_redemption_in_chromium(true).await;
}

async fn federated_redemption_in_chromium(mfa: bool) {
    use crate::federation::{guest, invite_by_mail, trust};
    use crate::redeem_steps::APP_URL;
    use portico_tests::upstream::{NodeOidcProvider, UpstreamAccount, UpstreamClient};

    let (dir, chromium) = browser_prerequisites();
    let app = spawn_app_with_mail(Backend::Sqlite).await;
    let email = "alice@fabrikam.example";
    let secret = "contoso-upstream-secret";
    let upstream = NodeOidcProvider::start(
        &[UpstreamClient {
            client_id: "contoso".into(),
            client_secret: secret.into(),
            redirect_uris: vec![app.url("/federation/callback")],
        }],
        &[UpstreamAccount {
            sub: "alice-at-fabrikam".into(),
            email: email.into(),
            email_verified: true,
            name: "Alice Fabrikam".into(),
            ..Default::default()
        }],
    );
    trust(&app, "Fabrikam", &upstream.issuer, secret).await;
    if mfa {
        let (status, body) = app
            .api(
                "PATCH",
                "/api/v1/policies/authenticationPolicy",
                Some(json!({"requireMfaFor": "guests"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let link = invite_by_mail(&app, email).await;
    let totp_time = if mfa {
        portico_core::Clock::now(&app.clock).timestamp().to_string()
    } else {
        String::new()
    };

    let run = tokio::process::Command::new("node")
        .arg(dir.join("federation.mjs"))
        .env("REDEEM_URL", &link)
        .env("UPSTREAM_ISSUER", &upstream.issuer)
        .env("UPSTREAM_LOGIN", "alice-at-fabrikam")
        .env("APP_URL", APP_URL)
        .env("TOTP_TIME", &totp_time)
        .env("CHROMIUM_PATH", &chromium)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the chromium journey did not finish within 120 s")
        .unwrap_or_else(|e| panic!("cannot run node ({e}): {NODE_HINT}"));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "chromium journey failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().expect("a result line");
    let v: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{stdout}"));
    assert!(v["finalUrl"].as_str().unwrap().starts_with(APP_URL), "{v}");
    assert_eq!(
        v["cspViolations"],
        json!([]),
        "our own pages must not trip our CSP"
    );
    let steps: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut expected = vec![
        "landing",
        "upstream sign-in",
        "upstream consent",
        "review permissions",
    ];
    if mfa {
        expected.extend(["mfa enrolment", "recovery codes"]);
    }
    expected.push("app");
    assert_eq!(steps, expected, "{v}");

    // The directory agrees: Alice accepted, known by her Fabrikam identity.
    let user = guest(&app, email).await;
    assert_eq!(user["externalUserState"], "Accepted", "{user}");
    let ids = user["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{user}");
    assert_eq!(ids[0]["signInType"], "federated", "{user}");
    assert_eq!(ids[0]["issuer"], upstream.issuer.as_str(), "{user}");
    assert_eq!(ids[0]["issuerAssignedId"], "alice-at-fabrikam", "{user}");
}
