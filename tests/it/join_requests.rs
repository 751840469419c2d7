//! Requests to join an application's self-service group: a user asks from My
//! Apps, the group's owner approves or declines (My Apps, or an admin through
//! `/api/v1/groups/{id}/joinRequests`); requests and decisions are audited
//! and emailed; an owner decides only for the groups it manages; one
//! pending request per user and group.

use portico_tests::{
    Backend, Browser, Hop, TestApp, both_backends, find_hidden, spawn_app_with_mail,
};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// A member named `name` (the kit's users are all "Alice Example").
async fn person(app: &TestApp, email: &str, name: &str) -> String {
    let id = app.create_user(email, "a good password 1").await;
    let (s, v) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(json!({"displayName": name})),
        )
        .await;
    assert!(s == 200 || s == 204, "{v}");
    id
}

async fn open_myapps(app: &TestApp, email: &str) -> (Browser, Hop) {
    let b = Browser::new(&app.issuer);
    let page = b.follow(b.get("/myapps").await).await;
    let page = b
        .follow(b.sign_in(page, email, "a good password 1").await)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>My Apps</h1>"), "{}", page.body);
    (b, page)
}

/// An application `name` requiring assignment, owned by `owner`, with the
/// group `group_name` assigned to it and owned by `owner`: the group's id.
async fn self_service(app: &TestApp, name: &str, group_name: &str, owner: &str) -> String {
    let (s, a) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(json!({"displayName": name, "clientType": "confidential",
                "redirectUris": [format!("https://{}.contoso.example/callback", name.to_lowercase())],
                "appRoleAssignmentRequired": true})),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let app_id = a["id"].as_str().unwrap().to_string();
    let (s, g) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": group_name, "mailEnabled": false})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let owner_ref = json!({"@odata.id": app.url(&format!("/api/v1/users/{owner}"))});
    for path in [
        format!("/api/v1/groups/{gid}/owners/$ref"),
        format!("/api/v1/applications/{app_id}/owners/$ref"),
    ] {
        let (s, v) = app.api("POST", &path, Some(owner_ref.clone())).await;
        assert_eq!(s, 204, "{path}: {v}");
    }
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{app_id}/appRoleAssignedTo"),
            Some(json!({"principalId": gid})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    gid
}

async fn members(app: &TestApp, gid: &str) -> Vec<String> {
    let (s, v) = app
        .api("GET", &format!("/api/v1/groups/{gid}/members"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

async fn requests(app: &TestApp, gid: &str) -> Vec<Value> {
    let (s, v) = app
        .api("GET", &format!("/api/v1/groups/{gid}/joinRequests"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v["value"].as_array().unwrap().clone()
}

/// The directory audits with `activity`.
async fn audits(app: &TestApp, activity: &str) -> Vec<Value> {
    let (_, v) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["activityDisplayName"] == activity)
        .cloned()
        .collect()
}

/// Bob asks to join Trials users from My Apps (the owner is emailed; a second
/// request is refused while the first is pending); Carl, who owns nothing,
/// cannot approve it; Olivia, the owner, approves from My Apps: Bob is a
/// member, sees Trials, is emailed, and each step is audited with its actor.
async fn an_owner_approves_a_join_request_from_my_apps(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let olivia = person(&app, "olivia@contoso.example", "Olivia Owner").await;
    let bob = person(&app, "bob@contoso.example", "Bob Asker").await;
    person(&app, "carl@contoso.example", "Carl Colleague").await;
    let gid = self_service(&app, "Trials", "Trials users", &olivia).await;

    let (bb, page) = open_myapps(&app, "bob@contoso.example").await;
    assert!(
        page.body.contains("Groups you can ask to join"),
        "{}",
        page.body
    );
    let join = format!("/myapps/groups/{gid}/join");
    assert!(page.body.contains(&join), "{}", page.body);
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let forged = bb.post_form(&join, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    assert!(requests(&app, &gid).await.is_empty());

    let asked = bb.post_form(&join, &[("csrf", &csrf)]).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(
        asked.body.contains("Your request was sent"),
        "{}",
        asked.body
    );
    assert!(asked.body.contains("Request sent; waiting for the owners."));
    let twice = bb.post_form(&join, &[("csrf", &csrf)]).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(
        twice
            .body
            .contains("You already asked to join Trials users"),
        "{}",
        twice.body
    );
    let listed = requests(&app, &gid).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["state"], "pending");
    assert_eq!(listed[0]["userId"], bob.as_str());
    let rid = listed[0]["id"].as_str().unwrap().to_string();
    let asked_audit = audits(&app, "Request to join group").await;
    assert_eq!(asked_audit.len(), 1, "{asked_audit:?}");
    assert_eq!(asked_audit[0]["initiatedBy"]["user"]["id"], bob.as_str());
    assert_eq!(asked_audit[0]["targetResources"][0]["id"], gid.as_str());

    let smtp = app.smtp.as_ref().unwrap();
    let to_owner = smtp
        .wait_for(
            |m| m.to == ["olivia@contoso.example"] && m.subject.contains("asks to join"),
            WAIT,
        )
        .await;
    assert_eq!(to_owner.subject, "Bob Asker asks to join Trials users");
    assert!(
        to_owner.text.contains("bob@contoso.example"),
        "{}",
        to_owner.text
    );
    assert!(
        to_owner.text.contains(&app.url("/myapps")),
        "{}",
        to_owner.text
    );

    // Someone who does not own the group cannot decide.
    let (cb, cpage) = open_myapps(&app, "carl@contoso.example").await;
    assert!(!cpage.body.contains("Requests to join your groups"));
    let ccsrf = find_hidden(&cpage.body, "csrf").unwrap();
    let refused = cb
        .post_form(
            &format!("/myapps/requests/{rid}/approve"),
            &[("csrf", &ccsrf)],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(members(&app, &gid).await.is_empty());
    assert_eq!(requests(&app, &gid).await[0]["state"], "pending");

    // The owner sees the request and approves it.
    let (ob, opage) = open_myapps(&app, "olivia@contoso.example").await;
    assert!(
        opage.body.contains("Requests to join your groups"),
        "{}",
        opage.body
    );
    assert!(opage.body.contains("Bob Asker"), "{}", opage.body);
    let approve = format!("/myapps/requests/{rid}/approve");
    assert!(opage.body.contains(&approve), "{}", opage.body);
    let ocsrf = find_hidden(&opage.body, "csrf").unwrap();
    let done = ob.post_form(&approve, &[("csrf", &ocsrf)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Approved"), "{}", done.body);
    assert!(!done.body.contains(&approve), "the request left the list");
    assert_eq!(members(&app, &gid).await, vec![bob.clone()]);
    let decided = requests(&app, &gid).await;
    assert_eq!(decided[0]["state"], "approved");
    assert_eq!(decided[0]["decidedBy"]["id"], olivia.as_str());
    let again = ob.post_form(&approve, &[("csrf", &ocsrf)]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already approved"), "{}", again.body);

    let approved = audits(&app, "Approve request to join group").await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["initiatedBy"]["user"]["id"], olivia.as_str());
    let added = audits(&app, "Add member to group").await;
    assert!(
        added
            .iter()
            .any(|e| e["initiatedBy"]["user"]["id"] == olivia.as_str()
                && e["targetResources"][0]["id"] == gid.as_str()),
        "{added:?}"
    );
    let to_bob = smtp
        .wait_for(
            |m| m.to == ["bob@contoso.example"] && m.subject.contains("Your request"),
            WAIT,
        )
        .await;
    assert_eq!(
        to_bob.subject,
        "Your request to join Trials users was approved"
    );
    assert!(
        to_bob.text.contains("you can now use Trials"),
        "{}",
        to_bob.text
    );

    // Bob now reaches Trials through the group, and has nothing left to ask.
    let mine = bb.get("/myapps").await;
    assert!(
        mine.body.contains("Through the group Trials users"),
        "{}",
        mine.body
    );
    assert!(!mine.body.contains(&join), "{}", mine.body);
}
both_backends!(
    an_owner_approves_a_join_request_from_my_apps,
    super::an_owner_approves_a_join_request_from_my_apps
);

/// Declining through the admin API (`GroupMember.ReadWrite.All`) leaves the
/// requester out and emails them; they may ask again. An owner cannot decide
/// on a request to a group another owner manages, nor through another
/// group's API path; a read-only token cannot decide.
async fn declines_and_owners_act_only_on_their_groups(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let olivia = person(&app, "olivia@contoso.example", "Olivia Owner").await;
    let paul = person(&app, "paul@contoso.example", "Paul Payroll").await;
    person(&app, "bob@contoso.example", "Bob Asker").await;
    let trials = self_service(&app, "Trials", "Trials users", &olivia).await;
    let payroll = self_service(&app, "Payroll", "Payroll users", &paul).await;

    let (bb, page) = open_myapps(&app, "bob@contoso.example").await;
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    for gid in [&trials, &payroll] {
        let asked = bb
            .post_form(&format!("/myapps/groups/{gid}/join"), &[("csrf", &csrf)])
            .await;
        assert_eq!(asked.status, 200, "{}", asked.body);
    }
    let to_payroll = requests(&app, &payroll).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let to_trials = requests(&app, &trials).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Olivia sees only her group's request and cannot decide Paul's.
    let (ob, opage) = open_myapps(&app, "olivia@contoso.example").await;
    assert!(
        opage
            .body
            .contains(&format!("/myapps/requests/{to_trials}/"))
    );
    assert!(
        !opage
            .body
            .contains(&format!("/myapps/requests/{to_payroll}/"))
    );
    let ocsrf = find_hidden(&opage.body, "csrf").unwrap();
    for decision in ["approve", "decline"] {
        let refused = ob
            .post_form(
                &format!("/myapps/requests/{to_payroll}/{decision}"),
                &[("csrf", &ocsrf)],
            )
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);
    }
    assert!(members(&app, &payroll).await.is_empty());
    assert_eq!(requests(&app, &payroll).await[0]["state"], "pending");

    // The API: the request must be the path group's; read-only cannot decide.
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{trials}/joinRequests/{to_payroll}/approve"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let read_only = app.admin_token_for("GroupMember.Read.All").await;
    let resp = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/v1/groups/{payroll}/joinRequests/{to_payroll}/decline"
        )))
        .bearer_auth(&read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    let resp = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/groups/{payroll}/joinRequests")))
        .bearer_auth(&read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(requests(&app, &payroll).await[0]["state"], "pending");

    // An admin declines: no member, an email, an audit; Bob may ask again.
    let narrow = app.admin_token_for("GroupMember.ReadWrite.All").await;
    let resp = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/v1/groups/{payroll}/joinRequests/{to_payroll}/decline"
        )))
        .bearer_auth(&narrow)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let decided: Value = resp.json().await.unwrap();
    assert_eq!(decided["state"], "declined", "{decided}");
    assert!(members(&app, &payroll).await.is_empty());
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{payroll}/joinRequests/{to_payroll}/approve"),
            None,
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["code"], "conflict");
    assert!(members(&app, &payroll).await.is_empty());
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{payroll}/joinRequests/{to_payroll}/maybe"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let declined = audits(&app, "Decline request to join group").await;
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert_eq!(declined[0]["targetResources"][0]["id"], payroll.as_str());
    let smtp = app.smtp.as_ref().unwrap();
    let to_bob = smtp
        .wait_for(
            |m| m.to == ["bob@contoso.example"] && m.subject.contains("Payroll users"),
            WAIT,
        )
        .await;
    assert_eq!(
        to_bob.subject,
        "Your request to join Payroll users was declined"
    );
    let again = bb
        .post_form(
            &format!("/myapps/groups/{payroll}/join"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(requests(&app, &payroll).await.len(), 2);
    // Olivia's own group is untouched by all this.
    assert!(members(&app, &trials).await.is_empty());
    assert_eq!(requests(&app, &trials).await[0]["state"], "pending");
}
both_backends!(
    declines_and_owners_act_only_on_their_groups,
    super::declines_and_owners_act_only_on_their_groups
);
