//! Conditional access (issue 13): Graph-shaped policies and named locations
//! (Entra exports import as-is; what Portico cannot enforce is refused by
//! name), enforced at sign-in and refresh, recorded in the sign-in log.

use portico_tests::{Backend, TestApp, both_backends, spawn_app};
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
