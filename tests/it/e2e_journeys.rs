//! The admin, app-owner and blocked-sign-in journeys of PRODUCT.md §1 in
//! headless Chromium (`tests/e2e/journeys.mjs`), against a real Portico and a
//! real SMTP server; the outcome checked again through the admin API.

use crate::e2e::browser_prerequisites;
use crate::redeem_steps::{WAIT, emailed_redeem_link, nth_code};
use crate::support::{ALICE, ALICE_PW, authorize_url};
use portico_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, pkce_pair, spawn_app, spawn_app_with_mail,
};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Runs `journey` with `vars`; each prompt line the script prints
/// (`READY_FOR_…`) is answered by `answer`. The script's last line, as JSON.
async fn run_journey(app: &TestApp, journey: &str, vars: &[(&str, &str)]) -> Value {
    let (dir, chromium) = browser_prerequisites();
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join("journeys.mjs"))
        .env("JOURNEY", journey)
        .env("CHROMIUM_PATH", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot run node ({e}): install Node.js 20+ and run `npm ci --prefix tests/e2e` (./test does both)")
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let guest = vars
        .iter()
        .find(|(k, _)| *k == "GUEST_EMAIL")
        .map(|(_, v)| v.to_string());
    let mut lines = Vec::new();
    let run = async {
        while let Some(line) = stdout.next_line().await.expect("read node's stdout") {
            let answer = match line.as_str() {
                "READY_FOR_LINK" => Some(emailed_redeem_link(app, guest.as_deref().unwrap()).await),
                "READY_FOR_CODE" => Some(nth_code(app, guest.as_deref().unwrap(), 1).await),
                _ => {
                    lines.push(line);
                    None
                }
            };
            if let Some(a) = answer {
                stdin
                    .write_all(format!("{a}\n").as_bytes())
                    .await
                    .expect("answer the browser");
                stdin.flush().await.expect("answer the browser");
            }
        }
        child.wait().await.expect("wait for node")
    };
    let outcome = tokio::time::timeout(Duration::from_secs(150), run).await;
    let stderr = stderr.await.unwrap_or_default();
    let stdout = lines.join("\n");
    let status = outcome.unwrap_or_else(|_| {
        panic!("the {journey} journey did not finish within 150 s:\n{stdout}\n{stderr}")
    });
    assert!(
        status.success(),
        "the {journey} journey failed in Chromium:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(lines.last().expect("a result line"))
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{stdout}"))
}

fn page_names(v: &Value) -> Vec<&str> {
    v["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

const BULK_CSV: &str = "version:v1.0\r
Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody]\r
Example: name@company.com,https://myapps.microsoft.com,true,Hello\r
carol@fabrikam.example,https://trials.contoso.example/,true,\"Welcome, Carol\"\r
not-an-email,https://trials.contoso.example/,false,\r
dave@fabrikam.example,https://trials.contoso.example/,false,\r
";

/// Journey 4 (bulk): the admin uploads the Azure portal's template in the
/// portal, reads the dry run (one invalid row named), starts the import and
/// watches it complete; two guests exist and Carol got her invitation email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_bulk_invites_from_a_csv_in_chromium() {
    let app = spawn_app_with_mail(Backend::Sqlite).await;
    let dir = std::env::temp_dir().join(format!("portico-bulk-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("guests.csv");
    std::fs::write(&csv, BULK_CSV).unwrap();
    let v = run_journey(
        &app,
        "bulk",
        &[
            ("BASE_URL", &app.issuer),
            ("ADMIN_EMAIL", ADMIN_EMAIL),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("CSV_PATH", csv.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        page_names(&v),
        [
            "sign-in",
            "portal",
            "bulk import",
            "dry run",
            "import completed"
        ],
        "{v}"
    );
    assert_eq!(v["counts"]["Rows"], 3, "{v}");
    assert_eq!(v["counts"]["Invalid"], 1, "{v}");
    assert_eq!(v["counts"]["Invited"], 2, "{v}");
    assert_eq!(v["counts"]["Failed"], 0, "{v}");
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{v}");
    assert!(
        problems[0].as_str().unwrap().contains("not-an-email"),
        "{v}"
    );
    for email in ["carol@fabrikam.example", "dave@fabrikam.example"] {
        let (s, users) = app
            .api(
                "GET",
                &format!("/api/v1/users?$filter=mail eq '{email}'"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{users}");
        assert_eq!(users["value"][0]["userType"], "Guest", "{email}: {users}");
    }
    let mail = app
        .smtp
        .as_ref()
        .unwrap()
        .wait_for(|m| m.to == ["carol@fabrikam.example"], WAIT)
        .await;
    assert!(mail.text.contains("Welcome, Carol"), "{}", mail.text);
    // The per-row results file, as downloaded: a header and one line per row.
    let results: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(results.len(), 4, "{v}");
    assert!(results[0].starts_with("row,email,status"), "{v}");
    assert!(
        results[1].starts_with("1,carol@fabrikam.example,invited"),
        "{v}"
    );
    assert!(results[2].starts_with("2,not-an-email,invalid"), "{v}");
    assert!(
        results[3].starts_with("3,dave@fabrikam.example,invited"),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Journey 5 (app owner): Olivia owns Trials and its self-service group; in
/// My Apps she invites Gus into the group; Gus redeems the emailed link with
/// a one-time code and lands on My Apps seeing Trials and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_owner_invites_a_guest_from_my_apps_in_chromium() {
    let app = spawn_app_with_mail(Backend::Sqlite).await;
    let olivia = app
        .create_user("olivia@contoso.example", "olivia password 1")
        .await;
    let mut ids = Vec::new();
    for (name, host) in [("Trials", "trials"), ("Payroll", "payroll")] {
        let (s, a) = app
            .api(
                "POST",
                "/api/v1/applications",
                Some(json!({"displayName": name, "clientType": "confidential",
                    "redirectUris": [format!("https://{host}.contoso.example/callback")],
                    "appRoleAssignmentRequired": true})),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        ids.push(a["id"].as_str().unwrap().to_string());
    }
    let (s, g) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": "Trials users", "mailEnabled": false})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let olivia_ref = json!({"@odata.id": app.url(&format!("/api/v1/users/{olivia}"))});
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{gid}/owners/$ref"),
            Some(olivia_ref.clone()),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{}/appRoleAssignedTo", ids[0]),
            Some(json!({"principalId": gid})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{}/owners/$ref", ids[0]),
            Some(olivia_ref),
        )
        .await;
    assert_eq!(s, 204);

    // Alice, a colleague, asked to join the group (as from My Apps).
    let alice = app.alice().await;
    let alice_user = app
        .server
        .app
        .directory
        .find_user(alice.parse().unwrap())
        .await
        .unwrap();
    portico::api::join_requests::service(&app.server.app)
        .request(gid.parse().unwrap(), &alice_user)
        .await
        .expect("Alice asks to join");
    let requester = alice_user.display_name.clone();

    let guest = "gus@fabrikam.example";
    let v = run_journey(
        &app,
        "owner",
        &[
            ("BASE_URL", &app.issuer),
            ("USER_EMAIL", "olivia@contoso.example"),
            ("USER_PASSWORD", "olivia password 1"),
            ("GROUP_ID", &gid),
            ("GUEST_EMAIL", guest),
            ("APP_NAME", "Trials"),
            ("REQUESTER", &requester),
        ],
    )
    .await;
    assert_eq!(
        page_names(&v),
        [
            "sign-in",
            "owner my apps",
            "owner invited",
            "owner approved",
            "landing",
            "code",
            "consent",
            "guest my apps"
        ],
        "{v}"
    );
    assert!(
        v["tiles"][0]
            .as_str()
            .unwrap()
            .contains("Through the group Trials users"),
        "{v}"
    );
    // The directory agrees: Gus is a guest who accepted, in Olivia's group,
    // invited by Olivia.
    let (_, members) = app
        .api("GET", &format!("/api/v1/groups/{gid}/members"), None)
        .await;
    let members = members["value"].as_array().unwrap();
    let gus = members
        .iter()
        .find(|m| m["mail"] == guest)
        .expect("Gus is a member");
    assert_eq!(gus["externalUserState"], "Accepted");
    assert!(
        members.iter().any(|m| m["id"] == alice.as_str()),
        "the approved request made Alice a member"
    );
    let (_, requests) = app
        .api("GET", &format!("/api/v1/groups/{gid}/joinRequests"), None)
        .await;
    assert_eq!(requests["value"][0]["state"], "approved", "{requests}");
    assert_eq!(requests["value"][0]["decidedBy"]["id"], olivia.as_str());
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    assert!(
        audits["value"].as_array().unwrap().iter().any(|e| {
            e["activityDisplayName"] == "Invite external user"
                && e["initiatedBy"]["user"]["id"] == olivia.as_str()
        }),
        "the owner's invitation is audited with her as actor: {audits}"
    );
}

/// Journey 6 (blocked): a policy blocks Android; Alice on her phone signs in
/// to the app, reads a page that names the policy, and its link takes
/// `access_denied` to the app; the sign-in log records the denial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_sign_in_reads_why_in_chromium_and_the_app_gets_access_denied() {
    let app = spawn_app(Backend::Sqlite).await;
    app.alice().await;
    let client = app.web_app().await;
    let (s, p) = app
        .api(
            "POST",
            "/api/v1/identity/conditionalAccess/policies",
            Some(json!({
                "displayName": "Block Android phones",
                "state": "enabled",
                "conditions": {
                    "users": {"includeUsers": ["All"]},
                    "applications": {"includeApplications": ["All"]},
                    "platforms": {"includePlatforms": ["android"]},
                },
                "grantControls": {"operator": "OR", "builtInControls": ["block"]},
            })),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let (_, challenge) = pkce_pair();
    let url = authorize_url(&app, &client, &challenge, &[]);
    let v = run_journey(
        &app,
        "blocked",
        &[
            ("AUTHORIZE_URL", &url),
            ("REDIRECT_URI", &client.redirect_uri),
            ("USER_EMAIL", ALICE),
            ("USER_PASSWORD", ALICE_PW),
            (
                "USER_AGENT",
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
            ),
            ("POLICY_NAME", "Block Android phones"),
        ],
    )
    .await;
    assert_eq!(page_names(&v), ["sign-in", "blocked"], "{v}");
    let app_url = reqwest::Url::parse(v["appUrl"].as_str().unwrap()).unwrap();
    let q: Vec<(String, String)> = app_url.query_pairs().into_owned().collect();
    assert!(
        q.contains(&("error".into(), "access_denied".into())),
        "{app_url}"
    );
    assert!(!q.iter().any(|(k, _)| k == "code"), "{app_url}");
    let (_, log) = app.api("GET", "/api/v1/auditLogs/signIns", None).await;
    let last = &log["value"][0];
    assert_eq!(last["result"], "denied", "{last}");
    assert_eq!(last["deviceDetail"]["operatingSystem"], "android");
    assert_eq!(last["conditionalAccessStatus"], "failure");
}
