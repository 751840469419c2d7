//! Conditional access (issue 13): Graph-shaped policies and named locations
//! (Entra exports import as-is; what Portico cannot enforce is refused by
//! name), enforced at sign-in and refresh, recorded in the sign-in log.

use crate::support::{
    ALICE, ALICE_PW, authorize_url, json, param, query_of, refresh_request, tokens_for_alice,
};
use portico_tests::{
    Backend, Browser, Hop, TestApp, TestClient, both_backends, pkce_pair, spawn, spawn_app,
};
use serde_json::{Value, json};

const POLICIES: &str = "/api/v1/identity/conditionalAccess/policies";
const LOCATIONS: &str = "/api/v1/identity/conditionalAccess/namedLocations";
const FIXTURE_BLOCK: &str =
    include_str!("../../crates/policy/fixtures/conditional_access/block-guests-android.json");
const FIXTURE_MFA: &str =
    include_str!("../../crates/policy/fixtures/conditional_access/mfa-outside-trusted.json");
const FIXTURE_OFFICE: &str =
    include_str!("../../crates/policy/fixtures/conditional_access/office-network.json");

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> u16 {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    reqwest::Client::new()
        .request(m, app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Creates the policy (Graph JSON), returns its id.
async fn add_policy(app: &TestApp, body: Value) -> String {
    let (s, v) = app.api("POST", POLICIES, Some(body)).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn add_location(app: &TestApp, body: Value) -> String {
    let (s, v) = app.api("POST", LOCATIONS, Some(body)).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// The two Entra exports and the named location import unchanged; Portico
/// gives ids and times; PATCH merges as Graph's does; unsupported controls
/// and unknown location ids are refused naming the field; a location in use
/// cannot be deleted; reading needs `Policy.Read.All`, writing
/// `Policy.ReadWrite.ConditionalAccess`; every change is audited with its actor.
async fn entra_exports_import_as_is_and_edits_are_checked_and_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let office = add_location(&app, fixture(FIXTURE_OFFICE)).await;
    assert_ne!(
        office, "0854951d-5fc0-4eb1-b392-9b2c9d7949c2",
        "ids are Portico's"
    );
    let (s, v) = app.api("GET", &format!("{LOCATIONS}/{office}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["@odata.type"], "#microsoft.graph.ipNamedLocation");
    assert_eq!(v["isTrusted"], true);
    assert_eq!(v["ipRanges"][0]["cidrAddress"], "203.0.113.0/24");

    let mfa = add_policy(&app, fixture(FIXTURE_MFA)).await;
    let block = add_policy(&app, fixture(FIXTURE_BLOCK)).await;
    let (s, v) = app.api("GET", POLICIES, None).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Require MFA outside trusted locations",
            "Block guests on Android"
        ]
    );
    let (_, v) = app.api("GET", &format!("{POLICIES}/{block}"), None).await;
    assert_eq!(v["state"], "enabledForReportingButNotEnforced");
    assert_eq!(
        v["conditions"]["platforms"]["includePlatforms"],
        json!(["android"])
    );
    assert!(v["createdDateTime"].is_string());

    let (s, v) = app
        .api(
            "PATCH",
            &format!("{POLICIES}/{block}"),
            Some(json!({"state": "enabled"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "enabled");
    assert_eq!(
        v["conditions"]["users"]["includeUsers"],
        json!(["GuestsOrExternalUsers"])
    );
    assert!(v["modifiedDateTime"].is_string());

    // Refused, naming what Portico cannot enforce.
    let mut compliant = fixture(FIXTURE_MFA);
    compliant["grantControls"]["builtInControls"] = json!(["mfa", "compliantDevice"]);
    let (s, v) = app.api("POST", POLICIES, Some(compliant)).await;
    assert_eq!(s, 400);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("grantControls.builtInControls") && msg.contains("compliantDevice"),
        "{msg}"
    );
    let mut session = fixture(FIXTURE_MFA);
    session["sessionControls"] =
        json!({"signInFrequency": {"value": 4, "type": "hours", "isEnabled": true}});
    let (s, v) = app.api("POST", POLICIES, Some(session)).await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sessionControls")
    );
    let (s, v) = app
        .api(
            "PATCH",
            &format!("{POLICIES}/{mfa}"),
            Some(json!({"conditions": {"locations": {"includeLocations": ["5f8e1a2b-0000-4000-8000-000000000000"]}}})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no named location")
    );

    // A location a policy names cannot go.
    let (s, _) = app
        .api(
            "PATCH",
            &format!("{POLICIES}/{mfa}"),
            Some(json!({"conditions": {"locations": {"excludeLocations": [office]}}})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = app
        .api("DELETE", &format!("{LOCATIONS}/{office}"), None)
        .await;
    assert_eq!(s, 409);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Require MFA outside trusted locations")
    );

    // Permissions.
    let reader = app.admin_token_for("Policy.Read.All").await;
    assert_eq!(call(&app, &reader, "GET", POLICIES, json!({})).await, 200);
    assert_eq!(call(&app, &reader, "GET", LOCATIONS, json!({})).await, 200);
    assert_eq!(
        call(&app, &reader, "POST", POLICIES, fixture(FIXTURE_MFA)).await,
        403
    );
    let path = format!("{POLICIES}/{mfa}");
    assert_eq!(call(&app, &reader, "DELETE", &path, json!({})).await, 403);
    let other = app.admin_token_for("User.ReadWrite.All").await;
    assert_eq!(call(&app, &other, "GET", POLICIES, json!({})).await, 403);

    let (s, _) = app.api("DELETE", &path, None).await;
    assert_eq!(s, 204);
    let (s, _) = app.api("GET", &path, None).await;
    assert_eq!(s, 404);

    let (_, v) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let activities: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["category"] == "Policy")
        .map(|e| e["activityDisplayName"].as_str().unwrap())
        .collect();
    for a in [
        "Add named location",
        "Add conditional access policy",
        "Update conditional access policy",
        "Delete conditional access policy",
    ] {
        assert!(activities.contains(&a), "{a} in {activities:?}");
    }
    let entry = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["activityDisplayName"] == "Delete conditional access policy")
        .unwrap();
    assert_eq!(
        entry["initiatedBy"]["app"]["appId"],
        app.mgmt_client_id.as_str()
    );
    assert_eq!(entry["targetResources"][0]["id"], mfa.as_str());
}
both_backends!(
    entra_exports_import_as_is_and_edits_are_checked_and_audited,
    super::entra_exports_import_as_is_and_edits_are_checked_and_audited
);

const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const GUEST: &str = "grace@fabrikam.example";

/// A policy over all users and apps with these conditions and one control.
fn policy(name: &str, state: &str, conditions: Value, control: &str) -> Value {
    let mut c = json!({
        "users": {"includeUsers": ["All"]},
        "applications": {"includeApplications": ["All"]},
    });
    for (k, v) in conditions.as_object().unwrap() {
        c[k] = v.clone();
    }
    json!({
        "displayName": name,
        "state": state,
        "conditions": c,
        "grantControls": {"operator": "OR", "builtInControls": [control]},
    })
}

/// A guest (in the directory with a password, so the test signs in without
/// a mailbox; conditional access only looks at `userType`).
async fn create_guest(app: &TestApp) {
    app.server
        .app
        .directory
        .create_user(
            portico_directory::NewUser {
                display_name: "Grace Guest".into(),
                mail: GUEST.into(),
                password: Some(ALICE_PW.into()),
                user_type: portico_directory::UserType::Guest,
                is_admin: false,
                email_verified: true,
            },
            &portico_directory::Actor::system("test"),
        )
        .await
        .unwrap();
}

/// Starts a sign-in in `b` and signs in as `email`: the first page or
/// redirect after the password (consent accepted when asked).
async fn sign_in(app: &TestApp, b: &Browser, client: &TestClient, email: &str) -> Hop {
    let (_, challenge) = pkce_pair();
    let start = b.get(&authorize_url(app, client, &challenge, &[])).await;
    let after = b.follow(b.sign_in(start, email, ALICE_PW).await).await;
    if after.body.contains("name=\"decision\"") {
        b.follow(b.consent(after, "accept").await).await
    } else {
        after
    }
}

/// Where the browser goes back to the app: the redirect, or, for a block,
/// the denial page's (403) "Return to the application" link.
fn redirect_query(hop: &Hop, client: &TestClient) -> Vec<(String, String)> {
    let loc = match &hop.location {
        Some(l) => l.clone(),
        None => {
            assert_eq!(hop.status, 403, "a redirect or a denial page: {}", hop.body);
            crate::support::back_to_app(hop)
                .unwrap_or_else(|| panic!("the way back to the app: {}", hop.body))
        }
    };
    assert!(loc.starts_with(&client.redirect_uri), "{loc}");
    query_of(&loc)
}

/// The newest sign-in records (Graph shape), newest first.
async fn sign_ins(app: &TestApp) -> Vec<Value> {
    let (s, v) = app.api("GET", "/api/v1/auditLogs/signIns", None).await;
    assert_eq!(s, 200);
    v["value"].as_array().unwrap().clone()
}

fn applied<'a>(record: &'a Value, name: &str) -> &'a Value {
    record["appliedConditionalAccessPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["displayName"] == name)
        .unwrap_or_else(|| panic!("{name} in {record}"))
}

/// An Android User-Agent meets "Block Android": the app gets `access_denied`
/// naming the policy, and the log says which policy failed and why; the
/// same user on Windows signs in, the policy `notApplied`. A report-only
/// policy that would block everyone changes nothing but is recorded.
async fn android_is_blocked_and_report_only_is_recorded_not_enforced(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    add_policy(
        &app,
        policy(
            "Block Android",
            "enabled",
            json!({"platforms": {"includePlatforms": ["android"]}}),
            "block",
        ),
    )
    .await;
    add_policy(
        &app,
        policy(
            "Block everyone (trial)",
            "enabledForReportingButNotEnforced",
            json!({}),
            "block",
        ),
    )
    .await;

    let phone = Browser::with_headers(&app.issuer, &[("user-agent", ANDROID)]);
    let done = sign_in(&app, &phone, &client, ALICE).await;
    let q = redirect_query(&done, &client);
    assert_eq!(param(&q, "error").as_deref(), Some("access_denied"));
    let description = param(&q, "error_description").unwrap();
    assert!(description.contains("Block Android"), "{description}");
    assert!(param(&q, "code").is_none());

    let laptop = Browser::with_headers(&app.issuer, &[("user-agent", WINDOWS)]);
    let done = sign_in(&app, &laptop, &client, ALICE).await;
    assert!(param(&redirect_query(&done, &client), "code").is_some());

    // The client hint wins over the User-Agent (Chromium sends both).
    let hinted = Browser::with_headers(
        &app.issuer,
        &[
            ("user-agent", WINDOWS),
            ("sec-ch-ua-platform", "\"Android\""),
        ],
    );
    let done = sign_in(&app, &hinted, &client, ALICE).await;
    let q = redirect_query(&done, &client);
    assert_eq!(param(&q, "error").as_deref(), Some("access_denied"));

    let log = sign_ins(&app).await;
    assert_eq!(log[0]["deviceDetail"]["operatingSystem"], "android");
    let (ok, denied) = (&log[1], &log[2]);
    assert_eq!(denied["result"], "denied");
    assert_eq!(
        denied["status"]["additionalDetails"],
        "conditional_access_blocked"
    );
    assert_eq!(denied["status"]["errorCode"], 53003);
    assert_eq!(denied["deviceDetail"]["operatingSystem"], "android");
    assert_eq!(denied["conditionalAccessStatus"], "failure");
    let p = applied(denied, "Block Android");
    assert_eq!(p["result"], "failure");
    assert_eq!(p["enforcedGrantControls"], json!(["Block"]));
    assert_eq!(
        applied(denied, "Block everyone (trial)")["result"],
        "reportOnlyFailure"
    );

    assert_eq!(ok["result"], "success");
    assert_eq!(ok["deviceDetail"]["operatingSystem"], "windows");
    assert_eq!(ok["ipAddress"], "127.0.0.1");
    assert_eq!(
        ok["location"]["countryOrRegion"],
        Value::Null,
        "no GeoIP database: unknown"
    );
    assert_eq!(applied(ok, "Block Android")["result"], "notApplied");
    assert_eq!(
        applied(ok, "Block Android")["enforcedGrantControls"],
        json!([])
    );
    assert_eq!(
        applied(ok, "Block everyone (trial)")["result"],
        "reportOnlyFailure"
    );
    assert_eq!(ok["conditionalAccessStatus"], "notApplied");
}
both_backends!(
    android_is_blocked_and_report_only_is_recorded_not_enforced,
    super::android_is_blocked_and_report_only_is_recorded_not_enforced
);

/// "MFA outside trusted locations" with the office trusted: from an
/// untrusted address the user is sent to MFA; through the trusted proxy
/// (127.0.0.1 here) whose `X-Forwarded-For` names an office address, no MFA,
/// and the log shows the forwarded address.
async fn untrusted_ip_gets_mfa_and_a_trusted_proxys_forwarded_address_counts(backend: Backend) {
    let app = spawn(backend, None, |s| s.trusted_proxies = "127.0.0.1/32".into()).await;
    app.alice().await;
    let client = app.web_app().await;
    add_location(&app, fixture(FIXTURE_OFFICE)).await;
    add_policy(&app, fixture(FIXTURE_MFA)).await;

    let outside = Browser::with_headers(&app.issuer, &[("user-agent", WINDOWS)]);
    let page = sign_in(&app, &outside, &client, ALICE).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Set up an authenticator app"),
        "{}",
        page.body
    );

    let office = Browser::with_headers(
        &app.issuer,
        &[("user-agent", WINDOWS), ("x-forwarded-for", "203.0.113.9")],
    );
    let done = sign_in(&app, &office, &client, ALICE).await;
    assert!(param(&redirect_query(&done, &client), "code").is_some());

    let log = sign_ins(&app).await;
    let ok = &log[0];
    assert_eq!(ok["result"], "success");
    assert_eq!(ok["ipAddress"], "203.0.113.9");
    assert_eq!(
        applied(ok, "Require MFA outside trusted locations")["result"],
        "notApplied"
    );
}
both_backends!(
    untrusted_ip_gets_mfa_and_a_trusted_proxys_forwarded_address_counts,
    super::untrusted_ip_gets_mfa_and_a_trusted_proxys_forwarded_address_counts
);

/// The same `X-Forwarded-For` from a peer that is not a trusted proxy is
/// ignored: the socket's address decides, so MFA is asked.
async fn forwarded_addresses_from_untrusted_peers_are_ignored(backend: Backend) {
    let app = spawn(backend, None, |s| s.trusted_proxies = "10.0.0.0/8".into()).await;
    app.alice().await;
    let client = app.web_app().await;
    add_location(&app, fixture(FIXTURE_OFFICE)).await;
    add_policy(&app, fixture(FIXTURE_MFA)).await;
    let forged = Browser::with_headers(
        &app.issuer,
        &[("user-agent", WINDOWS), ("x-forwarded-for", "203.0.113.9")],
    );
    let page = sign_in(&app, &forged, &client, ALICE).await;
    assert!(
        page.body.contains("Set up an authenticator app"),
        "{}",
        page.body
    );
}
both_backends!(
    forwarded_addresses_from_untrusted_peers_are_ignored,
    super::forwarded_addresses_from_untrusted_peers_are_ignored
);

/// A GuestsOrExternalUsers block stops the guest and no member.
async fn guests_are_blocked_by_a_guests_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    create_guest(&app).await;
    let client = app.web_app().await;
    add_policy(
        &app,
        json!({
            "displayName": "No guests in the CRM",
            "state": "enabled",
            "conditions": {
                "users": {"includeUsers": ["GuestsOrExternalUsers"]},
                "applications": {"includeApplications": [client.client_id.as_str()]},
            },
            "grantControls": {"operator": "OR", "builtInControls": ["block"]},
        }),
    )
    .await;
    let b = Browser::with_headers(&app.issuer, &[("user-agent", WINDOWS)]);
    let done = sign_in(&app, &b, &client, GUEST).await;
    // The guest reads which policy blocked them on a page first.
    assert_eq!(done.status, 403, "{}", done.body);
    assert!(done.body.contains("No guests in the CRM"), "{}", done.body);
    assert!(
        done.body.contains("conditional_access_blocked"),
        "{}",
        done.body
    );
    assert_eq!(
        param(&redirect_query(&done, &client), "error").as_deref(),
        Some("access_denied")
    );
    let b = Browser::with_headers(&app.issuer, &[("user-agent", WINDOWS)]);
    let done = sign_in(&app, &b, &client, ALICE).await;
    assert!(param(&redirect_query(&done, &client), "code").is_some());
    let log = sign_ins(&app).await;
    assert_eq!(
        applied(&log[1], "No guests in the CRM")["result"],
        "failure"
    );
    assert_eq!(
        applied(&log[0], "No guests in the CRM")["result"],
        "notApplied"
    );
}
both_backends!(
    guests_are_blocked_by_a_guests_policy,
    super::guests_are_blocked_by_a_guests_policy
);

/// `includeGroups` and `excludeGroups` match the user's group memberships:
/// a policy that blocks the "Contractors" group blocks its member and no one
/// else, and excluding the group lets the member through.
async fn group_conditions_follow_group_membership(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    create_guest(&app).await;
    let client = app.web_app().await;
    let (s, group) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": "Contractors", "mailEnabled": false,
                "mailNickname": "contractors", "securityEnabled": true})),
        )
        .await;
    assert_eq!(s, 201, "{group}");
    let group = group["id"].as_str().unwrap().to_string();
    let (_, users) = app
        .api(
            "GET",
            &format!("/api/v1/users?$filter=mail eq '{GUEST}'"),
            None,
        )
        .await;
    let grace = users["value"][0]["id"].as_str().unwrap().to_string();
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{group}/members/$ref"),
            Some(json!({"@odata.id": app.url(&format!("/api/v1/users/{grace}"))})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let id = add_policy(
        &app,
        policy(
            "Block contractors",
            "enabled",
            json!({"users": {"includeGroups": [group.as_str()]}}),
            "block",
        ),
    )
    .await;
    let b = Browser::with_headers(&app.issuer, &[("user-agent", WINDOWS)]);
    let done = sign_in(&app, &b, &client, GUEST).await;
    assert_eq!(
        param(&redirect_query(&done, &client), "error").as_deref(),
        Some("access_denied"),
        "the member is blocked"
    );
    let b = Browser::with_headers(&app.issuer, &[("user-agent", WINDOWS)]);
    let done = sign_in(&app, &b, &client, ALICE).await;
    assert!(
        param(&redirect_query(&done, &client), "code").is_some(),
        "{alice} is in no group"
    );

    let (s, v) = app
        .api(
            "PATCH",
            &format!("/api/v1/identity/conditionalAccess/policies/{id}"),
            Some(json!({"conditions": {
                "users": {"includeUsers": ["All"], "excludeGroups": [group.as_str()]},
                "applications": {"includeApplications": ["All"]},
            }})),
        )
        .await;
    assert!(s == 200 || s == 204, "{s} {v}");
    let b = Browser::with_headers(&app.issuer, &[("user-agent", WINDOWS)]);
    let done = sign_in(&app, &b, &client, GUEST).await;
    assert!(
        param(&redirect_query(&done, &client), "code").is_some(),
        "excluded by group"
    );
}
both_backends!(
    group_conditions_follow_group_membership,
    super::group_conditions_follow_group_membership
);

/// A refresh token obtained before a block policy existed stops working
/// once it does (evaluated at every refresh); report-only would not.
async fn refresh_is_refused_once_a_block_policy_applies(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let tokens = tokens_for_alice(&app, &client).await;
    let refresh = |rt: String| {
        let app = &app;
        let client = &client;
        async move { refresh_request(app, client, &rt).await }
    };
    let id = add_policy(
        &app,
        policy(
            "Block the app (trial)",
            "enabledForReportingButNotEnforced",
            json!({}),
            "block",
        ),
    )
    .await;
    let resp = refresh(tokens["refresh_token"].as_str().unwrap().to_string()).await;
    assert_eq!(resp.status(), 200);
    let tokens = json(resp).await;
    let (s, _) = app
        .api(
            "PATCH",
            &format!("{POLICIES}/{id}"),
            Some(json!({"state": "enabled"})),
        )
        .await;
    assert_eq!(s, 200);
    let resp = refresh(tokens["refresh_token"].as_str().unwrap().to_string()).await;
    assert_eq!(resp.status(), 400);
    let v = json(resp).await;
    assert_eq!(v["error"], "invalid_grant");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("Block the app (trial)"),
        "{v}"
    );
}
both_backends!(
    refresh_is_refused_once_a_block_policy_applies,
    super::refresh_is_refused_once_a_block_policy_applies
);

/// What-If answers for the sign-ins just made: Android → the block applies;
/// Windows → it does not, failing at `includePlatforms`; no platform given →
/// open (`null`), with the platform reported unknown. Replay of drafts over
/// the same two recorded sign-ins counts one block, then two challenges;
/// sign-ins older than the window are not counted.
async fn what_if_and_replay_match_the_recorded_sign_ins(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    for ua in [ANDROID, WINDOWS] {
        let b = Browser::with_headers(&app.issuer, &[("user-agent", ua)]);
        let done = sign_in(&app, &b, &client, ALICE).await;
        assert!(param(&redirect_query(&done, &client), "code").is_some());
    }
    let block_android = policy(
        "Block Android",
        "enabled",
        json!({"platforms": {"includePlatforms": ["android"]}}),
        "block",
    );
    add_policy(&app, block_android.clone()).await;

    let what_if = |platform: Option<&str>| {
        let mut conditions = json!({"ipAddress": "192.0.2.1"});
        if let Some(p) = platform {
            conditions["devicePlatform"] = json!(p);
        }
        json!({
            "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": alice},
            "signInContext": {"@odata.type": "#microsoft.graph.applicationContext",
                              "includeApplications": [client.client_id]},
            "signInConditions": conditions,
        })
    };
    let path = "/api/v1/identity/conditionalAccess/evaluate";
    let (s, v) = app.api("POST", path, Some(what_if(Some("android")))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"][0]["policyApplies"], true);
    assert_eq!(v["value"][0]["grantControls"], json!(["Block"]));
    assert_eq!(v["unknownInputs"], json!(["country"]));
    let (_, v) = app.api("POST", path, Some(what_if(Some("windows")))).await;
    assert_eq!(v["value"][0]["policyApplies"], false);
    assert_eq!(
        v["value"][0]["notAppliedBecause"]["field"],
        "conditions.platforms.includePlatforms"
    );
    let (_, v) = app.api("POST", path, Some(what_if(None))).await;
    assert_eq!(v["value"][0]["policyApplies"], Value::Null);
    assert_eq!(v["value"][0]["unknownInputs"], json!(["platform"]));
    assert_eq!(v["unknownInputs"], json!(["platform", "country"]));
    let (s, v) = app.api("POST", path, Some(json!({}))).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["unknownInputs"],
        json!(["user", "application", "ipAddress", "platform", "country"])
    );
    let (s, _) = app
        .api(
            "POST",
            path,
            Some(json!({"signInConditions": {"devicePlatform": "blackberry"}})),
        )
        .await;
    assert_eq!(s, 400);

    let replay = "/api/v1/identity/conditionalAccess/replay";
    let (s, v) = app
        .api(
            "POST",
            replay,
            Some(json!({"policy": block_android, "days": 7})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["evaluated"], 2);
    assert_eq!(v["blocked"], 1);
    assert_eq!(v["notApplied"], 1);
    assert_eq!(v["challenged"], 0);
    let mfa_all = policy("MFA for everyone", "disabled", json!({}), "mfa");
    let (_, v) = app
        .api("POST", replay, Some(json!({"policy": mfa_all, "days": 7})))
        .await;
    assert_eq!(v["challenged"], 2);
    assert_eq!(v["blocked"], 0);
    let (s, _) = app
        .api(
            "POST",
            replay,
            Some(json!({"policy": fixture(FIXTURE_BLOCK), "days": 0})),
        )
        .await;
    assert_eq!(s, 400);

    app.clock.advance(chrono::Duration::days(8));
    let (_, v) = app
        .api("POST", replay, Some(json!({"policy": mfa_all, "days": 7})))
        .await;
    assert_eq!(v["evaluated"], 0);
}
both_backends!(
    what_if_and_replay_match_the_recorded_sign_ins,
    super::what_if_and_replay_match_the_recorded_sign_ins
);

/// The portal's page: a pasted Entra export is added; one with controls
/// Portico cannot enforce is refused with a message per field and the text
/// kept; the state is switched from report-only to on; every change audited.
async fn the_portal_adds_policies_from_graph_json_with_validation_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let b = app.portal_admin().await;
    let page = b.get("/admin/conditional-access").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No policies yet"));
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();

    let mut bad = fixture(FIXTURE_BLOCK);
    bad["grantControls"]["builtInControls"] = json!(["block", "domainJoinedDevice"]);
    bad["conditions"]["signInRiskLevels"] = json!(["high"]);
    let text = serde_json::to_string_pretty(&bad).unwrap();
    let refused = b
        .post_form(
            "/admin/conditional-access",
            &[("csrf", &csrf), ("kind", "policy"), ("json", &text)],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .body
            .contains("grantControls.builtInControls: `domainJoinedDevice` is not supported"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("conditions.signInRiskLevels: sign-in risk is not supported")
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert!(
        refused.body.contains("domainJoinedDevice"),
        "the text is kept"
    );

    let added = b
        .post_form(
            "/admin/conditional-access",
            &[("csrf", &csrf), ("kind", "policy"), ("json", FIXTURE_BLOCK)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = b.follow(added).await;
    assert!(page.body.contains("The policy was added."));
    assert!(page.body.contains("Block guests on Android"));
    assert!(page.body.contains("<td>Report-only</td>"));

    let (_, v) = app.api("GET", POLICIES, None).await;
    let id = v["value"][0]["id"].as_str().unwrap().to_string();
    let set = b
        .post_form(
            &format!("/admin/conditional-access/{id}/state"),
            &[("csrf", &csrf), ("state", "enabled")],
        )
        .await;
    assert_eq!(set.status, 303);
    let page = b.follow(set).await;
    assert!(page.body.contains("<td>On</td>"), "{}", page.body);
    let (_, v) = app.api("GET", &format!("{POLICIES}/{id}"), None).await;
    assert_eq!(v["state"], "enabled");

    let located = b
        .post_form(
            "/admin/conditional-access",
            &[
                ("csrf", &csrf),
                ("kind", "location"),
                ("json", FIXTURE_OFFICE),
            ],
        )
        .await;
    assert_eq!(located.status, 303);
    let page = b.follow(located).await;
    assert!(
        page.body.contains("Head office — 2 IP range(s), trusted"),
        "{}",
        page.body
    );

    let (_, v) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let by_admin = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["activityDisplayName"] == "Update conditional access policy")
        .unwrap();
    assert!(
        by_admin["initiatedBy"]["user"]["id"].is_string(),
        "{by_admin}"
    );
}
both_backends!(
    the_portal_adds_policies_from_graph_json_with_validation_messages,
    super::the_portal_adds_policies_from_graph_json_with_validation_messages
);

/// The portal's field-by-field editor: users typed by email (an unknown one
/// refused on its line, the form kept), an application, a platform and a
/// grant chosen; the saved policy is the Graph JSON those fields mean and is
/// enforced; editing it shows the fields again (users by email), turns the
/// platform condition off and is audited; a reference to a named location
/// that does not exist is refused next to the locations.
async fn the_portal_editor_builds_and_edits_policies_field_by_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice_id = app.alice().await;
    let client = app.web_app().await;
    let b = app.portal_admin().await;
    let page = b.get("/admin/conditional-access/new").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&client.client_id), "apps are listed");
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();

    let users = format!("{ALICE}\nnobody@contoso.example");
    let form = |users: &str, platforms_on: bool| {
        let mut f: Vec<(&str, String)> = vec![
            ("csrf", csrf.clone()),
            ("displayName", "Block Alice on Android".into()),
            ("usersScope", "selected".into()),
            ("includeUsers", users.to_string()),
            ("excludeGuests", "on".into()),
            ("appsScope", "selected".into()),
            ("includeApps", client.client_id.clone()),
            ("includePlatforms", "android".into()),
            ("grant", "block".into()),
            ("state", "enabled".into()),
        ];
        if platforms_on {
            f.push(("platformsOn", "on".into()));
        }
        f
    };
    let post = |path: String, f: Vec<(&'static str, String)>| {
        let b = &b;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post_form(&path, &pairs).await
        }
    };

    let refused = post("/admin/conditional-access/new".into(), form(&users, true)).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains(
            "Users to include, line 2: no user has the email or id &#39;nobody@contoso.example&#39;."
        ) || refused.body.contains(
            "Users to include, line 2: no user has the email or id &#x27;nobody@contoso.example&#x27;."
        ),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("id=\"users-problems\""));
    assert!(
        refused.body.contains("nobody@contoso.example</textarea>"),
        "the typed users are kept"
    );
    let (_, v) = app.api("GET", POLICIES, None).await;
    assert_eq!(v["value"], json!([]), "nothing saved");

    let saved = post("/admin/conditional-access/new".into(), form(ALICE, true)).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let listed = b.follow(saved).await;
    assert!(listed.body.contains("The policy was added."));
    let (_, v) = app.api("GET", POLICIES, None).await;
    let p = &v["value"][0];
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["displayName"], "Block Alice on Android");
    assert_eq!(p["state"], "enabled");
    assert_eq!(p["conditions"]["users"]["includeUsers"], json!([alice_id]));
    assert_eq!(
        p["conditions"]["users"]["excludeUsers"],
        json!(["GuestsOrExternalUsers"])
    );
    assert_eq!(
        p["conditions"]["applications"]["includeApplications"],
        json!([client.client_id])
    );
    assert_eq!(
        p["conditions"]["platforms"]["includePlatforms"],
        json!(["android"])
    );
    assert_eq!(p["grantControls"]["builtInControls"], json!(["block"]));

    let android = Browser::with_headers(&app.issuer, &[("user-agent", ANDROID)]);
    let blocked = sign_in(&app, &android, &client, ALICE).await;
    assert_eq!(
        param(&redirect_query(&blocked, &client), "error").as_deref(),
        Some("access_denied")
    );

    let edit = b.get(&format!("/admin/conditional-access/{id}/edit")).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert!(
        edit.body.contains(&format!("{ALICE}</textarea>")),
        "users are shown by email: {}",
        edit.body
    );
    assert!(
        edit.body
            .contains("name=\"includePlatforms\" value=\"android\" checked"),
        "{}",
        edit.body
    );

    let mut off = form(ALICE, false);
    off.retain(|(k, _)| *k != "state");
    off.push(("state", "enabledForReportingButNotEnforced".into()));
    let done = post(format!("/admin/conditional-access/{id}/edit"), off).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(b.follow(done).await.body.contains("The policy was saved."));
    let (_, p) = app.api("GET", &format!("{POLICIES}/{id}"), None).await;
    assert_eq!(p["state"], "enabledForReportingButNotEnforced");
    assert!(p["conditions"].get("platforms").is_none(), "{p}");
    let android = Browser::with_headers(&app.issuer, &[("user-agent", ANDROID)]);
    let allowed = sign_in(&app, &android, &client, ALICE).await;
    assert!(param(&redirect_query(&allowed, &client), "code").is_some());

    let mut located = form(ALICE, false);
    located.push(("locationsOn", "on".into()));
    located.push(("includeLocations", "no-such-location".into()));
    let refused = post(format!("/admin/conditional-access/{id}/edit"), located).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"locations-problems\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("no-such-location"));

    let (_, v) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let activities: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["targetResources"][0]["id"] == id.as_str())
        .filter_map(|e| e["activityDisplayName"].as_str())
        .collect();
    assert_eq!(
        activities,
        vec![
            "Update conditional access policy",
            "Add conditional access policy"
        ],
        "{v}"
    );
}
both_backends!(
    the_portal_editor_builds_and_edits_policies_field_by_field,
    super::the_portal_editor_builds_and_edits_policies_field_by_field
);

/// Countries from a MaxMind database (a GeoIP2-Country file written by the
/// test kit, read by the real `maxminddb` reader): "block sign-ins from
/// France" blocks an address the database places in France (IPv4 and IPv6,
/// forwarded by the trusted proxy), lets one from Great Britain in, and logs
/// each sign-in's country; an address the database does not know is an
/// unknown country, which the location matches only once it says
/// `includeUnknownCountriesAndRegions`.
async fn countries_come_from_the_geoip_database(backend: Backend) {
    let path = std::env::temp_dir().join(format!("portico-geo-{}.mmdb", uuid::Uuid::new_v4()));
    portico_tests::mmdb::write_country_database(
        &path,
        &[
            ("81.2.69.0/24", "GB"),
            ("90.0.0.0/8", "FR"),
            ("2a01:e00::/26", "FR"),
        ],
    )
    .unwrap();
    let geo = path.clone();
    let app = spawn(backend, None, move |s| {
        s.trusted_proxies = "127.0.0.1/32".into();
        s.geoip_database = Some(geo.clone());
    })
    .await;
    app.alice().await;
    let client = app.web_app().await;
    let location = add_location(
        &app,
        json!({
            "@odata.type": "#microsoft.graph.countryNamedLocation",
            "displayName": "France",
            "countriesAndRegions": ["FR"],
            "includeUnknownCountriesAndRegions": false,
        }),
    )
    .await;
    add_policy(
        &app,
        policy(
            "Block France",
            "enabled",
            json!({"locations": {"includeLocations": [location]}}),
            "block",
        ),
    )
    .await;
    let from = |ip: &'static str| {
        Browser::with_headers(
            &app.issuer,
            &[("user-agent", WINDOWS), ("x-forwarded-for", ip)],
        )
    };

    for ip in ["90.12.34.56", "2a01:e0a:1::1"] {
        let blocked = sign_in(&app, &from(ip), &client, ALICE).await;
        assert_eq!(
            param(&redirect_query(&blocked, &client), "error").as_deref(),
            Some("access_denied"),
            "{ip}"
        );
        let log = sign_ins(&app).await;
        assert_eq!(log[0]["ipAddress"], ip);
        assert_eq!(log[0]["location"]["countryOrRegion"], "FR", "{ip}");
        assert_eq!(applied(&log[0], "Block France")["result"], "failure");
    }

    let gb = sign_in(&app, &from("81.2.69.142"), &client, ALICE).await;
    assert!(param(&redirect_query(&gb, &client), "code").is_some());
    let log = sign_ins(&app).await;
    assert_eq!(log[0]["location"]["countryOrRegion"], "GB");
    assert_eq!(applied(&log[0], "Block France")["result"], "notApplied");

    let unknown = sign_in(&app, &from("198.51.100.7"), &client, ALICE).await;
    assert!(param(&redirect_query(&unknown, &client), "code").is_some());
    assert_eq!(
        sign_ins(&app).await[0]["location"]["countryOrRegion"],
        Value::Null
    );

    let (s, _) = app
        .api(
            "PATCH",
            &format!("{LOCATIONS}/{location}"),
            Some(json!({
                "@odata.type": "#microsoft.graph.countryNamedLocation",
                "includeUnknownCountriesAndRegions": true,
            })),
        )
        .await;
    assert!(s == 200 || s == 204, "{s}");
    let unknown = sign_in(&app, &from("198.51.100.7"), &client, ALICE).await;
    assert_eq!(
        param(&redirect_query(&unknown, &client), "error").as_deref(),
        Some("access_denied")
    );
    let _ = std::fs::remove_file(&path);
}
both_backends!(
    countries_come_from_the_geoip_database,
    super::countries_come_from_the_geoip_database
);

/// The portal's sign-in log filters by conditional access result: by any
/// policy or by one, report-only results apart, paging links keeping the
/// filter; each row names the policies that applied.
async fn the_sign_in_log_filters_by_policy_result(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let block = add_policy(
        &app,
        policy(
            "Block Android",
            "enabled",
            json!({"platforms": {"includePlatforms": ["android"]}}),
            "block",
        ),
    )
    .await;
    let trial = add_policy(
        &app,
        policy(
            "Trial block",
            "enabledForReportingButNotEnforced",
            json!({}),
            "block",
        ),
    )
    .await;
    for ua in [ANDROID, WINDOWS, WINDOWS] {
        let b = Browser::with_headers(&app.issuer, &[("user-agent", ua)]);
        sign_in(&app, &b, &client, ALICE).await;
    }
    let admin = app.portal_admin().await;
    let rows = |body: &str| body.matches("<td class=\"status-").count();

    let all = admin.get("/admin/signins").await;
    assert_eq!(all.status, 200);
    assert!(rows(&all.body) >= 3, "{}", all.body);
    assert!(
        all.body
            .contains("Block Android: Failure; Trial block: Report-only: failure")
    );

    let failed = admin.get("/admin/signins?caResult=failure").await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    assert_eq!(rows(&failed.body), 1, "{}", failed.body);
    assert!(failed.body.contains("Block Android: Failure"));

    let blocked_by = admin
        .get(&format!("/admin/signins?policy={block}&caResult=failure"))
        .await;
    assert_eq!(rows(&blocked_by.body), 1);
    let would_block = admin
        .get(&format!(
            "/admin/signins?policy={trial}&caResult=reportOnlyFailure"
        ))
        .await;
    // Alice's three and the admin's own sign-in to the portal (all apps).
    assert_eq!(rows(&would_block.body), 4, "{}", would_block.body);
    assert!(
        would_block.body.contains(&format!(
            "<option value=\"{trial}\" selected>Trial block</option>"
        )),
        "the filter is shown as chosen"
    );
    let none = admin
        .get(&format!("/admin/signins?policy={trial}&caResult=success"))
        .await;
    assert_eq!(rows(&none.body), 0);
    assert!(none.body.contains("No sign-ins match."));

    let unclear = admin.get(&format!("/admin/signins?policy={trial}")).await;
    assert_eq!(unclear.status, 400);
    assert!(
        unclear
            .body
            .contains("Choose the policy result to look for")
    );

    // The API's $filter, Graph's lambda over appliedConditionalAccessPolicies.
    let api = |filter: String| {
        let app = &app;
        async move {
            let q = serde_urlencoded::to_string([("$filter", filter)]).unwrap();
            app.api("GET", &format!("/api/v1/auditLogs/signIns?{q}"), None)
                .await
        }
    };
    let (s, v) = api("appliedConditionalAccessPolicies/any(p: p/result eq 'failure')".into()).await;
    assert_eq!(s, 200, "{v}");
    let found = v["value"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["deviceDetail"]["operatingSystem"], "android");
    let (_, v) = api(format!(
        "appliedConditionalAccessPolicies/any(p: p/id eq '{trial}' and p/result eq 'reportOnlyFailure') and appId eq '{}'",
        client.client_id
    ))
    .await;
    assert_eq!(v["value"].as_array().unwrap().len(), 3, "{v}");
    let (_, v) = api(format!(
        "appliedConditionalAccessPolicies/any(p: p/id eq '{block}' and p/result eq 'success')"
    ))
    .await;
    assert_eq!(v["value"], json!([]));
    let (s, v) =
        api("appliedConditionalAccessPolicies/any(p: p/result eq 'notApplied')".into()).await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("notApplied")
    );
}
both_backends!(
    the_sign_in_log_filters_by_policy_result,
    super::the_sign_in_log_filters_by_policy_result
);

/// A count of the replay page (`<dd data-count="blocked">1</dd>`).
fn replay_count(body: &str, name: &str) -> String {
    let tag = format!("data-count=\"{name}\">");
    let at = body
        .find(&tag)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        + tag.len();
    body[at..].split('<').next().unwrap().to_string()
}

/// The verdicts of the What-If page's table, in order.
fn verdicts(body: &str) -> Vec<&str> {
    body.split("data-verdict=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect()
}

/// The portal's What-If and replay pages give the API's answers for the same
/// sign-ins: the user typed by email, an Android sign-in is caught by the
/// block, a Windows one is not (the deciding field shown), an unknown
/// platform leaves it open; a saved policy and a pasted draft replay to the
/// API's counts; bad inputs are named on the page, nothing else changes.
async fn the_portal_what_if_and_replay_pages_agree_with_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    for ua in [ANDROID, WINDOWS] {
        let b = Browser::with_headers(&app.issuer, &[("user-agent", ua)]);
        let done = sign_in(&app, &b, &client, ALICE).await;
        assert!(param(&redirect_query(&done, &client), "code").is_some());
    }
    let block = policy(
        "Block Android",
        "enabled",
        json!({"platforms": {"includePlatforms": ["android"]}}),
        "block",
    );
    let block_id = add_policy(&app, block.clone()).await;
    add_policy(
        &app,
        policy(
            "MFA report-only",
            "enabledForReportingButNotEnforced",
            json!({}),
            "mfa",
        ),
    )
    .await;

    let b = app.portal_admin().await;
    let list = b.get("/admin/conditional-access").await;
    assert!(list.body.contains("/admin/conditional-access/what-if"));
    let ask = |platform: &str| {
        format!(
            "/admin/conditional-access/what-if?user={}&app={}&ip=192.0.2.1&platform={platform}&country=&ask=1",
            ALICE.replace('@', "%40"),
            client.client_id
        )
    };
    let page = b.get(&ask("android")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(verdicts(&page.body), ["applies", "applies"]);
    assert!(page.body.contains("Block Android"));
    assert!(
        page.body
            .contains("<strong id=\"whatif-unknown\">country</strong>")
    );
    let page = b.get(&ask("windows")).await;
    assert_eq!(verdicts(&page.body), ["notApplied", "applies"]);
    assert!(
        page.body
            .contains("<code>conditions.platforms.includePlatforms</code>")
    );
    let page = b.get(&ask("")).await;
    assert_eq!(verdicts(&page.body), ["undecided", "applies"]);
    assert!(page.body.contains(">platform, country</strong>"));
    // Nothing asked yet: the form only.
    let page = b.get("/admin/conditional-access/what-if").await;
    assert_eq!(page.status, 200);
    assert!(verdicts(&page.body).is_empty());
    // Bad inputs: each named, no verdicts.
    let page = b
        .get("/admin/conditional-access/what-if?user=nobody%40x.example&ip=1.2.3&country=France&ask=1")
        .await;
    assert_eq!(page.status, 400);
    assert!(verdicts(&page.body).is_empty());
    assert!(
        page.body.contains("no user has the email or id"),
        "{}",
        page.body
    );
    assert!(page.body.contains("nobody@x.example"));
    assert!(page.body.contains("is not an IPv4 or IPv6 address"));
    assert!(page.body.contains("is not a two-letter ISO 3166-1 code"));

    // Replay: the saved block, then a pasted draft, agree with the API.
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();
    let replay = "/admin/conditional-access/what-if/replay";
    let page = b
        .post_form(
            replay,
            &[
                ("csrf", &csrf),
                ("policy", &block_id),
                ("json", ""),
                ("days", "7"),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (_, api) = app
        .api(
            "POST",
            "/api/v1/identity/conditionalAccess/replay",
            Some(json!({"policy": block, "days": 7})),
        )
        .await;
    for (field, html) in [
        ("evaluated", "evaluated"),
        ("blocked", "blocked"),
        ("challenged", "challenged"),
        ("notApplied", "notApplied"),
    ] {
        assert_eq!(
            replay_count(&page.body, html),
            api[field].to_string(),
            "{field}"
        );
    }
    assert_eq!(replay_count(&page.body, "blocked"), "1");
    let draft =
        serde_json::to_string(&policy("MFA for everyone", "disabled", json!({}), "mfa")).unwrap();
    let page = b
        .post_form(
            replay,
            &[
                ("csrf", &csrf),
                ("policy", ""),
                ("json", &draft),
                ("days", "7"),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("MFA for everyone over the last 7 days"));
    // Alice's two sign-ins and the admin's own, none with MFA.
    assert_eq!(replay_count(&page.body, "evaluated"), "3");
    assert_eq!(replay_count(&page.body, "challenged"), "3");
    assert_eq!(replay_count(&page.body, "blocked"), "0");
    // Refusals: not JSON, a day count out of range, a control Portico cannot enforce.
    let page = b
        .post_form(
            replay,
            &[
                ("csrf", &csrf),
                ("policy", ""),
                ("json", "{nope"),
                ("days", "7"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("This is not JSON"));
    assert!(page.body.contains("{nope"), "the draft is kept");
    let page = b
        .post_form(
            replay,
            &[("csrf", &csrf), ("policy", &block_id), ("days", "0")],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("Days: a whole number from 1 to 90."));
    let mut bad = fixture(FIXTURE_BLOCK);
    bad["grantControls"]["builtInControls"] = json!(["compliantDevice"]);
    let page = b
        .post_form(
            replay,
            &[("csrf", &csrf), ("json", &bad.to_string()), ("days", "7")],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("compliantDevice"), "{}", page.body);
    // Without the form's token nothing is replayed.
    let page = b
        .post_form(
            replay,
            &[("csrf", "wrong"), ("policy", &block_id), ("days", "7")],
        )
        .await;
    assert_eq!(page.status, 403);
    // Replaying saved nothing: still the two policies.
    let (_, all) = app.api("GET", POLICIES, None).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 2);
}
both_backends!(
    the_portal_what_if_and_replay_pages_agree_with_the_api,
    super::the_portal_what_if_and_replay_pages_agree_with_the_api
);
