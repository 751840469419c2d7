//! Groups (`/api/v1/groups` with `members`/`owners` `$ref`s, `memberOf`),
//! app role assignments (`appRoleAssignedTo`, `appRoleAssignmentRequired`
//! enforced by the sign-in policy, directly or through a group) and the
//! `groups` claim (Entra's `groupMembershipClaims`, bounded with its overage).

use crate::support::{
    ALICE, ALICE_PW, app_id_of, authorize_url, json, jwt_claims, param, query_of, redeem,
    refresh_request, sign_in_for_code, userinfo,
};
use portico_tests::{Backend, Browser, TestApp, both_backends, pkce_pair, spawn_app};
use serde_json::{Value, json};

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> u16 {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(m, app.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn new_group(app: &TestApp, name: &str, security: bool) -> String {
    let (s, g) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": name, "mailEnabled": false,
                "mailNickname": "x", "securityEnabled": security})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn add_member(app: &TestApp, group: &str, user: &str) {
    let body = json!({"@odata.id": app.url(&format!("/api/v1/users/{user}"))});
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{group}/members/$ref"),
            Some(body),
        )
        .await;
    assert_eq!(s, 204, "{v}");
}

fn ids(v: &Value) -> Vec<String> {
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

/// Graph's group shape; members and owners by `$ref` (users or
/// directoryObjects), listed, removed; `memberOf`; permissions as Graph's;
/// every change audited with its actor; deleting a user or a group takes its
/// memberships with it.
async fn groups_members_owners_and_member_of(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let bob = app.create_user("bob@contoso.example", ALICE_PW).await;

    let (s, g) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(
                json!({"displayName": "Trials team", "description": "People on trials",
                "securityEnabled": true, "mailEnabled": false, "mailNickname": "trials"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    assert_eq!(g["displayName"], "Trials team");
    assert_eq!(g["description"], "People on trials");
    assert_eq!(g["securityEnabled"], true);
    assert_eq!(g["mailEnabled"], false);
    assert!(g["createdDateTime"].is_string());
    let gid = g["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": "", "mailEnabled": false})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": "Mail", "mailEnabled": true})),
        )
        .await;
    assert_eq!(s, 400, "mail-enabled groups are not supported");

    add_member(&app, &gid, &alice).await;
    // directoryObjects/{id} names a user too.
    let by_object = json!({"@odata.id": app.url(&format!("/api/v1/directoryObjects/{bob}"))});
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{gid}/members/$ref"),
            Some(by_object),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    // Twice is a 400, as on Graph.
    let again = json!({"@odata.id": app.url(&format!("/api/v1/users/{alice}"))});
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{gid}/members/$ref"),
            Some(again),
        )
        .await;
    assert_eq!(s, 400);
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{gid}/members/$ref"),
            Some(json!({"@odata.id": "https://elsewhere/api/v1/groups/x"})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let owner = json!({"@odata.id": app.url(&format!("/api/v1/users/{bob}"))});
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{gid}/owners/$ref"),
            Some(owner),
        )
        .await;
    assert_eq!(s, 204);

    let (s, members) = app
        .api("GET", &format!("/api/v1/groups/{gid}/members"), None)
        .await;
    assert_eq!(s, 200);
    let mut m = ids(&members);
    m.sort();
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(m, expected);
    assert_eq!(members["value"][0]["@odata.type"], "#microsoft.graph.user");
    let (_, owners) = app
        .api("GET", &format!("/api/v1/groups/{gid}/owners"), None)
        .await;
    assert_eq!(ids(&owners), vec![bob.clone()]);
    let (s, of) = app
        .api("GET", &format!("/api/v1/users/{alice}/memberOf"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(ids(&of), vec![gid.clone()]);
    assert_eq!(of["value"][0]["@odata.type"], "#microsoft.graph.group");
    // The one function conditional access calls.
    let direct = app
        .server
        .app
        .storage
        .user_group_ids(alice.parse().unwrap(), false)
        .await
        .unwrap();
    assert_eq!(direct, vec![gid.parse::<uuid::Uuid>().unwrap()]);

    // Remove a member; an unknown one is 404.
    let (s, _) = app
        .api(
            "DELETE",
            &format!("/api/v1/groups/{gid}/members/{bob}/$ref"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .api(
            "DELETE",
            &format!("/api/v1/groups/{gid}/members/{bob}/$ref"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (_, members) = app
        .api("GET", &format!("/api/v1/groups/{gid}/members"), None)
        .await;
    assert_eq!(ids(&members), vec![alice.clone()]);

    // PATCH and list.
    let (s, g) = app
        .api(
            "PATCH",
            &format!("/api/v1/groups/{gid}"),
            Some(json!({"displayName": "Trials"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(g["displayName"], "Trials");
    let (_, list) = app.api("GET", "/api/v1/groups", None).await;
    assert_eq!(ids(&list), vec![gid.clone()]);

    // Permissions: reading is not writing; member management is not group management.
    let reader = app.admin_token_for("Group.Read.All").await;
    assert_eq!(
        call(&app, &reader, "GET", "/api/v1/groups", None).await,
        200
    );
    let body = json!({"displayName": "X", "mailEnabled": false});
    assert_eq!(
        call(&app, &reader, "POST", "/api/v1/groups", Some(body.clone())).await,
        403
    );
    let member_admin = app.admin_token_for("GroupMember.ReadWrite.All").await;
    assert_eq!(
        call(&app, &member_admin, "POST", "/api/v1/groups", Some(body)).await,
        403
    );
    let add = json!({"@odata.id": app.url(&format!("/api/v1/users/{bob}"))});
    let path = format!("/api/v1/groups/{gid}/members/$ref");
    assert_eq!(
        call(&app, &reader, "POST", &path, Some(add.clone())).await,
        403
    );
    assert_eq!(
        call(&app, &member_admin, "POST", &path, Some(add)).await,
        204
    );
    let users_only = app.admin_token_for("User.ReadWrite.All").await;
    let member_of = format!("/api/v1/users/{alice}/memberOf");
    assert_eq!(call(&app, &users_only, "GET", &member_of, None).await, 403);

    // Audited with the actor.
    let (_, entries) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    let activities: Vec<&str> = entries["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["activityDisplayName"].as_str())
        .collect();
    for a in [
        "Add group",
        "Add member to group",
        "Add owner to group",
        "Remove member from group",
        "Update group",
    ] {
        assert!(activities.contains(&a), "{a} not audited: {activities:?}");
    }
    let entry = entries["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["activityDisplayName"] == "Add group")
        .unwrap();
    assert_eq!(
        entry["initiatedBy"]["app"]["appId"],
        app.mgmt_client_id.as_str()
    );

    // Deleting a user takes its memberships; deleting a group takes its own.
    let (s, _) = app
        .api("DELETE", &format!("/api/v1/users/{bob}"), None)
        .await;
    assert_eq!(s, 204);
    let (_, owners) = app
        .api("GET", &format!("/api/v1/groups/{gid}/owners"), None)
        .await;
    assert!(ids(&owners).is_empty());
    let (_, members) = app
        .api("GET", &format!("/api/v1/groups/{gid}/members"), None)
        .await;
    assert_eq!(ids(&members), vec![alice.clone()]);
    let (s, _) = app
        .api("DELETE", &format!("/api/v1/groups/{gid}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = app.api("GET", &format!("/api/v1/groups/{gid}"), None).await;
    assert_eq!(s, 404);
    let (_, of) = app
        .api("GET", &format!("/api/v1/users/{alice}/memberOf"), None)
        .await;
    assert!(ids(&of).is_empty());
}
both_backends!(
    groups_members_owners_and_member_of,
    super::groups_members_owners_and_member_of
);

/// Sets the application's settings through the admin API.
async fn patch_app(app: &TestApp, app_id: &str, body: Value) {
    let (s, v) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{app_id}"),
            Some(body),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

async fn assign(app: &TestApp, app_id: &str, principal: &str) -> Value {
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{app_id}/appRoleAssignedTo"),
            Some(json!({"principalId": principal, "resourceId": app_id,
                "appRoleId": "00000000-0000-0000-0000-000000000000"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

/// The sign-in in a fresh browser: the final hop (a redirect to the app or a page).
async fn try_sign_in(app: &TestApp, client: &portico_tests::TestClient) -> portico_tests::Hop {
    let browser = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let start = browser
        .get(&authorize_url(app, client, &challenge, &[]))
        .await;
    let hop = browser
        .follow(browser.sign_in(start, ALICE, ALICE_PW).await)
        .await;
    if hop.body.contains("name=\"decision\"") {
        browser.follow(browser.consent(hop, "accept").await).await
    } else {
        hop
    }
}

/// `appRoleAssignmentRequired`: an unassigned user reads why on a page whose
/// link takes `access_denied` to the app, `prompt=none` gets `access_denied`
/// at once, and the sign-in log records `not_assigned`. A direct assignment
/// and an assignment to a group the user is in both admit; removing it cuts
/// the refresh token off. Assignments are Graph-shaped and audited.
async fn assignment_required_is_enforced(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    let app_id = app_id_of(&app, &client).await;
    patch_app(&app, &app_id, json!({"appRoleAssignmentRequired": true})).await;
    let (_, a) = app
        .api("GET", &format!("/api/v1/applications/{app_id}"), None)
        .await;
    assert_eq!(a["appRoleAssignmentRequired"], true);

    // Not assigned: a page, 403, with the way back carrying access_denied.
    let hop = try_sign_in(&app, &client).await;
    assert_eq!(hop.status, 403, "{}", hop.body);
    assert!(hop.body.contains("not_assigned"), "{}", hop.body);
    assert!(
        hop.body.contains("have not been given access"),
        "{}",
        hop.body
    );
    let href = crate::support::back_to_app(&hop).expect("the way back");
    let back = query_of(&href);
    assert!(href.starts_with(&client.redirect_uri), "{href}");
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    // The sign-in log says why.
    let (_, log) = app.api("GET", "/api/v1/auditLogs/signIns", None).await;
    let denied = log["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"]["additionalDetails"] == "not_assigned")
        .expect("the refusal is in the sign-in log");
    assert_eq!(denied["status"]["errorCode"], 50105);
    assert_eq!(denied["userId"], alice.as_str());

    // prompt=none with a session (signed in to another app): access_denied at once.
    let other = app.web_app().await;
    let browser = Browser::new(&app.issuer);
    sign_in_for_code(&app, &browser, &other, &[]).await;
    let (_, challenge) = pkce_pair();
    let hop = browser
        .get(&authorize_url(
            &app,
            &client,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    let loc = hop.location.expect("redirect to the app");
    assert!(loc.starts_with(&client.redirect_uri), "{loc}");
    assert_eq!(
        param(&query_of(&loc), "error").as_deref(),
        Some("access_denied")
    );

    // A direct assignment admits.
    let direct = assign(&app, &app_id, &alice).await;
    assert_eq!(direct["principalType"], "User");
    assert_eq!(direct["principalId"], alice.as_str());
    assert_eq!(direct["principalDisplayName"], "Alice Example");
    assert_eq!(direct["resourceId"], app_id.as_str());
    assert_eq!(direct["resourceDisplayName"], "Contoso Trials");
    assert_eq!(direct["appRoleId"], "00000000-0000-0000-0000-000000000000");
    assert!(direct["createdDateTime"].is_string());
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{app_id}/appRoleAssignedTo"),
            Some(json!({"principalId": alice})),
        )
        .await;
    assert_eq!(s, 409, "assigned twice");
    let browser = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &browser, &client, &[]).await;
    let tokens = json(redeem(&app, &client, &code, &verifier).await).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    // Unassigned: the refresh token stops working; a group assignment admits again.
    let direct_id = direct["id"].as_str().unwrap();
    let (s, _) = app
        .api(
            "DELETE",
            &format!("/api/v1/applications/{app_id}/appRoleAssignedTo/{direct_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let resp = refresh_request(&app, &client, &refresh).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");
    assert_eq!(try_sign_in(&app, &client).await.status, 403);

    let gid = new_group(&app, "Trials users", true).await;
    add_member(&app, &gid, &alice).await;
    let via_group = assign(&app, &app_id, &gid).await;
    assert_eq!(via_group["principalType"], "Group");
    assert_eq!(via_group["principalDisplayName"], "Trials users");
    let hop = try_sign_in(&app, &client).await;
    let loc = hop.location.expect("back to the app with a code");
    assert!(param(&query_of(&loc), "code").is_some(), "{loc}");
    let (_, list) = app
        .api(
            "GET",
            &format!("/api/v1/applications/{app_id}/appRoleAssignedTo"),
            None,
        )
        .await;
    assert_eq!(
        ids(&list),
        vec![via_group["id"].as_str().unwrap().to_string()]
    );

    // Unknown principals are refused; permissions as Graph's.
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{app_id}/appRoleAssignedTo"),
            Some(json!({"principalId": uuid::Uuid::new_v4()})),
        )
        .await;
    assert_eq!(s, 400);
    let reader = app.admin_token_for("Group.Read.All").await;
    let path = format!("/api/v1/applications/{app_id}/appRoleAssignedTo");
    assert_eq!(call(&app, &reader, "GET", &path, None).await, 403);
    let assigner = app.admin_token_for("AppRoleAssignment.ReadWrite.All").await;
    assert_eq!(call(&app, &assigner, "GET", &path, None).await, 200);
    let (_, all) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    let activities: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["activityDisplayName"].as_str())
        .collect();
    assert!(activities.contains(&"Add app role assignment grant to user"));
    assert!(activities.contains(&"Add app role assignment grant to group"));
    assert!(activities.contains(&"Remove app role assignment from user"));

    // Deleting the group takes its assignment with it.
    let (s, _) = app
        .api("DELETE", &format!("/api/v1/groups/{gid}"), None)
        .await;
    assert_eq!(s, 204);
    let (_, list) = app.api("GET", &path, None).await;
    assert!(ids(&list).is_empty());
    assert_eq!(try_sign_in(&app, &client).await.status, 403);
}
both_backends!(
    assignment_required_is_enforced,
    super::assignment_required_is_enforced
);

/// The portal turns `appRoleAssignmentRequired` on and off (audited like
/// any application change); Portico's own clients are never gated.
async fn the_portal_toggles_assignment_required_never_on_first_party(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.web_app().await;
    let web_id = app_id_of(&app, &client).await;
    let admin = app.portal_admin().await;
    let page = admin.get("/admin/authentication").await;
    assert!(page.body.contains("Assignment required"), "{}", page.body);
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();
    let on = admin
        .post_form(
            &format!("/admin/applications/{web_id}/assignment-required"),
            &[("csrf", &csrf), ("assignment_required", "on")],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.body);
    let (_, shown) = app
        .api("GET", &format!("/api/v1/applications/{web_id}"), None)
        .await;
    assert_eq!(shown["appRoleAssignmentRequired"], true, "{shown}");
    let forged = admin
        .post_form(
            &format!("/admin/applications/{web_id}/assignment-required"),
            &[("csrf", "forged"), ("assignment_required", "off")],
        )
        .await;
    assert_ne!(forged.status, 303);

    let (_, list) = app.api("GET", "/api/v1/applications", None).await;
    let portal = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["firstParty"] == true)
        .expect("a first-party client")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{portal}"),
            Some(json!({"appRoleAssignmentRequired": true})),
        )
        .await;
    assert_eq!(s, 400);
}
both_backends!(
    the_portal_toggles_assignment_required_never_on_first_party,
    super::the_portal_toggles_assignment_required_never_on_first_party
);

/// `groupMembershipClaims`: `None` (the default) sends no `groups`;
/// `SecurityGroup` sends security groups only; `All` every group; the ID token
/// and UserInfo agree; past 200 groups the claim becomes Entra's overage
/// indicator pointing at `memberOf`.
async fn groups_claim(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    let app_id = app_id_of(&app, &client).await;
    let security = new_group(&app, "Security", true).await;
    let plain = new_group(&app, "Distribution-like", false).await;
    add_member(&app, &security, &alice).await;
    add_member(&app, &plain, &alice).await;

    async fn tokens(app: &TestApp, client: &portico_tests::TestClient) -> (Value, Value) {
        let browser = Browser::new(&app.issuer);
        let (code, verifier) = sign_in_for_code(app, &browser, client, &[]).await;
        let t = json(redeem(app, client, &code, &verifier).await).await;
        let id = jwt_claims(t["id_token"].as_str().unwrap());
        let info = json(userinfo(app, t["access_token"].as_str().unwrap()).await).await;
        (id, info)
    }

    let (id, info) = tokens(&app, &client).await;
    assert!(id.get("groups").is_none(), "{id}");
    assert!(info.get("groups").is_none(), "{info}");

    patch_app(
        &app,
        &app_id,
        json!({"groupMembershipClaims": "SecurityGroup"}),
    )
    .await;
    let (id, info) = tokens(&app, &client).await;
    assert_eq!(id["groups"], json!([security]));
    assert_eq!(info["groups"], json!([security]));

    patch_app(&app, &app_id, json!({"groupMembershipClaims": "All"})).await;
    let (id, _) = tokens(&app, &client).await;
    let mut got: Vec<String> = id["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want = vec![security.clone(), plain.clone()];
    want.sort();
    assert_eq!(got, want);

    // Past the limit: no `groups`, the overage indicator instead.
    let groups = portico::api::groups::service(&app.server.app);
    let actor = portico_directory::Actor::system("test");
    for i in 0..portico_oidc::groups_claim::GROUPS_CLAIM_LIMIT {
        let g = groups
            .create_group(
                serde_json::from_value(json!({"displayName": format!("G{i}")})).unwrap(),
                &actor,
            )
            .await
            .unwrap();
        groups
            .add(
                g.id,
                portico_directory::groups::Relation::Member,
                alice.parse().unwrap(),
                &actor,
            )
            .await
            .unwrap();
    }
    let (id, info) = tokens(&app, &client).await;
    assert!(id.get("groups").is_none());
    assert_eq!(id["_claim_names"]["groups"], "src1");
    let endpoint = app.url(&format!("/api/v1/users/{alice}/memberOf"));
    assert_eq!(id["_claim_sources"]["src1"]["endpoint"], endpoint.as_str());
    assert!(info.get("groups").is_none());
    assert_eq!(info["_claim_names"]["groups"], "src1");
    let (s, of) = app
        .api("GET", &format!("/api/v1/users/{alice}/memberOf"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        ids(&of).len(),
        portico_oidc::groups_claim::GROUPS_CLAIM_LIMIT + 2
    );
}
both_backends!(groups_claim, super::groups_claim);
