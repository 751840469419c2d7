//! My Apps (`/myapps`): the first-party access panel. Exactly the apps the
//! user may use, each with why and until when; consents with revoke (the
//! app's refresh tokens die); guests land here after redemption and may leave
//! the organization.

use crate::redeem_steps::{APP_URL, get, nth_code, step};
use crate::support::{
    ALICE, ALICE_PW, app_id_of, authorize_url, json, param, query_of, redeem, refresh_request,
    sign_in_for_code, userinfo,
};
use portico_tests::{
    Backend, Browser, Hop, TestApp, TestClient, both_backends, find_hidden, pkce_pair, spawn_app,
    spawn_app_with_mail,
};
use serde_json::{Value, json};

async fn patch_app(app: &TestApp, client: &TestClient, body: Value) -> String {
    let id = app_id_of(app, client).await;
    let (s, v) = app
        .api("PATCH", &format!("/api/v1/applications/{id}"), Some(body))
        .await;
    assert_eq!(s, 200, "{v}");
    id
}

async fn assign(app: &TestApp, app_id: &str, principal: &str) {
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{app_id}/appRoleAssignedTo"),
            Some(json!({"principalId": principal})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
}

/// Opens My Apps in `b`, signing in with a password when asked.
async fn open_myapps(b: &Browser, email: &str, password: &str) -> Hop {
    let first = b.get("/myapps").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location.as_deref(), Some("/myapps/signin"));
    let page = b.follow(first).await;
    let page = if page.body.contains("name=\"password\"") {
        b.follow(b.sign_in(page, email, password).await).await
    } else {
        page
    };
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>My Apps</h1>"), "{}", page.body);
    page
}

/// The tile of `name` (its list item), if shown.
fn tile<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split("<li class=\"tile\">")
        .skip(1)
        .map(|t| &t[..t.find("</li>").unwrap_or(t.len())])
        .find(|t| t.contains(&format!(">{name}<")))
}

/// A member sees apps open to everyone, apps assigned to them, apps assigned
/// to their group, never an app requiring assignment they lack, nor
/// Portico's own clients or client-credentials apps; each tile says why and
/// launches at `initiateLoginUri` or the app's home page.
async fn my_apps_lists_exactly_the_apps_with_their_reasons(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let open = app.web_app().await;
    patch_app(&app, &open, json!({"displayName": "Open app"})).await;
    let direct = app.web_app().await;
    let direct_id = patch_app(
        &app,
        &direct,
        json!({"displayName": "Direct app", "appRoleAssignmentRequired": true,
            "initiateLoginUri": "https://direct.example/login",
            "logoUri": "https://direct.example/logo.png"}),
    )
    .await;
    assign(&app, &direct_id, &alice).await;
    let grouped = app.web_app().await;
    let grouped_id = patch_app(
        &app,
        &grouped,
        json!({"displayName": "Group app", "appRoleAssignmentRequired": true}),
    )
    .await;
    let (_, g) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": "Trials users", "mailEnabled": false})),
        )
        .await;
    let gid = g["id"].as_str().unwrap();
    let member = json!({"@odata.id": app.url(&format!("/api/v1/users/{alice}"))});
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{gid}/members/$ref"),
            Some(member),
        )
        .await;
    assert_eq!(s, 204);
    assign(&app, &grouped_id, gid).await;
    let hidden = app.web_app().await;
    patch_app(
        &app,
        &hidden,
        json!({"displayName": "Hidden app", "appRoleAssignmentRequired": true}),
    )
    .await;

    let b = Browser::new(&app.issuer);
    let page = open_myapps(&b, ALICE, ALICE_PW).await;
    let body = &page.body;
    let t = tile(body, "Open app").expect("open app shown");
    assert!(t.contains("Open to everyone in the organization"), "{t}");
    assert!(t.contains("href=\"http://127.0.0.1:9/\""), "home page: {t}");
    assert!(t.contains("No end date"), "{t}");
    let t = tile(body, "Direct app").expect("direct app shown");
    assert!(t.contains("Assigned to you on"), "{t}");
    assert!(t.contains("href=\"https://direct.example/login\""), "{t}");
    assert!(t.contains("src=\"https://direct.example/logo.png\""), "{t}");
    let t = tile(body, "Group app").expect("group app shown");
    assert!(t.contains("Through the group Trials users"), "{t}");
    assert!(tile(body, "Hidden app").is_none(), "{body}");
    assert!(!body.contains("Portico admin portal"));
    assert!(!body.contains("Portico management"));
    assert_eq!(body.matches("<li class=\"tile\">").count(), 3, "{body}");
    // A member cannot leave the organization from here.
    assert!(!body.contains("/myapps/leave"));
}
both_backends!(
    my_apps_lists_exactly_the_apps_with_their_reasons,
    super::my_apps_lists_exactly_the_apps_with_their_reasons
);

/// Revoking a consent in My Apps revokes the app's tokens (refresh and
/// access) and the next sign-in asks for consent again.
async fn revoking_a_consent_kills_the_apps_refresh_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let b = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(&app, &b, &client, &[]).await;
    let tokens = json(redeem(&app, &client, &code, &verifier).await).await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_string();
    let at = tokens["access_token"].as_str().unwrap().to_string();

    // Single sign-on into My Apps: no second password.
    let page = open_myapps(&b, ALICE, ALICE_PW).await;
    assert!(
        page.body.contains("Revoke consent for Contoso Trials"),
        "{}",
        page.body
    );
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    // A forged form is refused.
    let forged = b
        .post_form(
            "/myapps/consents/revoke",
            &[("csrf", "nope"), ("client_id", &client.client_id)],
        )
        .await;
    assert_eq!(forged.status, 403);
    let done = b
        .post_form(
            "/myapps/consents/revoke",
            &[("csrf", &csrf), ("client_id", &client.client_id)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("no longer has your consent"),
        "{}",
        done.body
    );
    assert!(!done.body.contains("Revoke consent for Contoso Trials"));

    let resp = refresh_request(&app, &client, &rt).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");
    assert_eq!(userinfo(&app, &at).await.status(), 401);
    // The next sign-in asks again.
    let (_, challenge) = pkce_pair();
    let again = b
        .follow(b.get(&authorize_url(&app, &client, &challenge, &[])).await)
        .await;
    assert!(again.body.contains("name=\"decision\""), "{}", again.body);
}
both_backends!(
    revoking_a_consent_kills_the_apps_refresh_tokens,
    super::revoking_a_consent_kills_the_apps_refresh_tokens
);

/// Invites `email` with `redirect`, redeems with the emailed code: the
/// browser (signed in) and the last hop of the redemption.
async fn redeem_guest(app: &TestApp, email: &str, redirect: &str) -> (Browser, Hop) {
    let (status, inv) = app
        .invite(json!({
            "invitedUserEmailAddress": email,
            "invitedUserDisplayName": "Gail Guest",
            "inviteRedirectUrl": redirect,
            "sendInvitationMessage": true,
        }))
        .await;
    assert_eq!(status, 201, "{inv}");
    let link = inv["inviteRedeemUrl"].as_str().unwrap();
    let b = Browser::new(&app.issuer);
    let landing = get(&b, link).await;
    let code_page = step(&b, "/redeem/code", &landing, &[]).await;
    let code = nth_code(app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &code_page, &[("code", &code)]).await;
    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    (b, done)
}

/// A guest invited to Portico itself lands on My Apps after redemption; one
/// invited to an app lands there and sees the app "by invitation"; a guest
/// can leave the organization: the account goes (audited, the guest as the
/// actor) and the session with it.
async fn guests_land_on_my_apps_and_can_leave(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (s, trials) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(
                json!({"displayName": "Trials", "clientType": "confidential",
                "redirectUris": ["https://trials.contoso.example/callback"]}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{trials}");

    // Invited to Portico: My Apps.
    // (The redemption's redirects are followed within Portico: to /myapps,
    // its single sign-on through /authorize, and the page.)
    let (b, page) = redeem_guest(&app, "gail@fabrikam.example", &app.issuer).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>My Apps</h1>"), "{}", page.body);
    let t = tile(&page.body, "Trials").expect("open app shown to the guest");
    assert!(t.contains("Open to everyone"), "{t}");

    // Invited to the app: lands there; My Apps says why.
    let (b2, done) = redeem_guest(&app, "hal@fabrikam.example", APP_URL).await;
    assert_eq!(done.location.as_deref(), Some(APP_URL));
    let page2 = b2.follow(b2.get("/myapps").await).await;
    let t = tile(&page2.body, "Trials").expect("the invited app");
    assert!(t.contains("You were invited to it"), "{t}");
    assert!(!t.contains("Open to everyone"), "{t}");

    // Leaving needs the confirmation, then deletes the guest.
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let unconfirmed = b.post_form("/myapps/leave", &[("csrf", &csrf)]).await;
    assert_eq!(unconfirmed.status, 200);
    assert!(unconfirmed.body.contains("Tick the box"));
    let left = b
        .post_form("/myapps/leave", &[("csrf", &csrf), ("confirm", "leave")])
        .await;
    assert_eq!(left.status, 200, "{}", left.body);
    assert!(left.body.contains("You left"), "{}", left.body);
    let (_, users) = app
        .api(
            "GET",
            "/api/v1/users?$filter=mail eq 'gail@fabrikam.example'",
            None,
        )
        .await;
    assert_eq!(users["value"], json!([]));
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    let entry = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["activityDisplayName"] == "Leave organization")
        .expect("leaving is audited");
    assert_eq!(entry["initiatedBy"]["user"]["displayName"], "Gail Guest");
    // The session is gone: My Apps asks for a sign-in again.
    let again = b.follow(b.get("/myapps").await).await;
    assert!(!again.body.contains("<h1>My Apps</h1>"), "{}", again.body);
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let hop = b
        .follow(b.get(&authorize_url(&app, &client, &challenge, &[])).await)
        .await;
    assert!(
        hop.location
            .is_none_or(|l| param(&query_of(&l), "code").is_none())
    );
}
both_backends!(
    guests_land_on_my_apps_and_can_leave,
    super::guests_land_on_my_apps_and_can_leave
);

/// Adds `user` to group `gid` as `which` (members/owners) through the API.
async fn add_ref(app: &TestApp, gid: &str, which: &str, user: &str) {
    let body = json!({"@odata.id": app.url(&format!("/api/v1/users/{user}"))});
    let (s, v) = app
        .api(
            "POST",
            &format!("/api/v1/groups/{gid}/{which}/$ref"),
            Some(body),
        )
        .await;
    assert_eq!(s, 204, "{v}");
}

async fn group(app: &TestApp, name: &str) -> String {
    let (s, g) = app
        .api(
            "POST",
            "/api/v1/groups",
            Some(json!({"displayName": name, "mailEnabled": false})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn members(app: &TestApp, gid: &str) -> Vec<String> {
    let (_, v) = app
        .api("GET", &format!("/api/v1/groups/{gid}/members"), None)
        .await;
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["mail"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// An application owner (a member, not an admin) manages from My Apps the
/// groups it owns that are assigned to its app: adds and removes people,
/// invites a guest, who redeems and sees that app only (through the group);
/// it cannot touch another group; its invitations obey the organization's
/// `allowInvitesFrom`. Owners come and go with `owners/$ref` (audited).
async fn an_app_owner_manages_its_group_and_invites_a_guest(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let olivia = app
        .create_user("olivia@contoso.example", "olivia password 1")
        .await;
    app.alice().await;
    let (s, trials) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(
                json!({"displayName": "Trials", "clientType": "confidential",
                "redirectUris": ["https://trials.contoso.example/callback"],
                "appRoleAssignmentRequired": true}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{trials}");
    let trials_id = trials["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(
                json!({"displayName": "Payroll", "clientType": "confidential",
                "redirectUris": ["https://payroll.contoso.example/callback"],
                "appRoleAssignmentRequired": true}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    let own = group(&app, "Trials users").await;
    let not_owned = group(&app, "Trials admins").await;
    let unassigned = group(&app, "Olivia's book club").await;
    add_ref(&app, &own, "owners", &olivia).await;
    add_ref(&app, &unassigned, "owners", &olivia).await;
    assign(&app, &trials_id, &own).await;
    assign(&app, &trials_id, &not_owned).await;

    // Owners of the application, Graph style.
    let owner_ref = json!({"@odata.id": app.url(&format!("/api/v1/users/{olivia}"))});
    let (s, _) = app
        .api(
            "POST",
            &format!("/api/v1/applications/{trials_id}/owners/$ref"),
            Some(owner_ref),
        )
        .await;
    assert_eq!(s, 204);
    let (_, owners) = app
        .api(
            "GET",
            &format!("/api/v1/applications/{trials_id}/owners"),
            None,
        )
        .await;
    assert_eq!(owners["value"][0]["id"], olivia.as_str());

    let b = Browser::new(&app.issuer);
    let page = open_myapps(&b, "olivia@contoso.example", "olivia password 1").await;
    assert!(page.body.contains("Applications you own"), "{}", page.body);
    assert!(page.body.contains(&format!("/myapps/groups/{own}/invite")));
    assert!(!page.body.contains(&format!("/myapps/groups/{not_owned}/")));
    assert!(!page.body.contains(&format!("/myapps/groups/{unassigned}/")));
    let csrf = find_hidden(&page.body, "csrf").unwrap();

    // Add and remove a colleague.
    let added = b
        .post_form(
            &format!("/myapps/groups/{own}/members/add"),
            &[("csrf", &csrf), ("email", ALICE)],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("was added"), "{}", added.body);
    assert_eq!(members(&app, &own).await, vec![ALICE.to_string()]);
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    let entry = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["activityDisplayName"] == "Add member to group"
                && e["initiatedBy"]["user"]["id"] == olivia.as_str()
        })
        .expect("the owner's change is audited with the owner as actor");
    assert_eq!(entry["targetResources"][0]["id"], own.as_str());
    let alice_id = {
        let (_, v) = app
            .api("GET", &format!("/api/v1/groups/{own}/members"), None)
            .await;
        v["value"][0]["id"].as_str().unwrap().to_string()
    };
    let removed = b
        .post_form(
            &format!("/myapps/groups/{own}/members/remove"),
            &[("csrf", &csrf), ("user", &alice_id)],
        )
        .await;
    assert!(
        removed.body.contains("Removed from the group"),
        "{}",
        removed.body
    );
    assert!(members(&app, &own).await.is_empty());

    // Other groups are out of reach, assigned to the app or not.
    for g in [&not_owned, &unassigned] {
        let refused = b
            .post_form(
                &format!("/myapps/groups/{g}/members/add"),
                &[("csrf", &csrf), ("email", ALICE)],
            )
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(members(&app, g).await.is_empty());
    }

    // Invite a guest into the group; the guest redeems and sees Trials only.
    let guest = "gus@fabrikam.example";
    let invited = b
        .post_form(
            &format!("/myapps/groups/{own}/invite"),
            &[
                ("csrf", &csrf),
                ("email", guest),
                ("display_name", "Gus Guest"),
            ],
        )
        .await;
    assert_eq!(invited.status, 200, "{}", invited.body);
    assert!(
        invited.body.contains("was invited and added"),
        "{}",
        invited.body
    );
    assert_eq!(members(&app, &own).await, vec![guest.to_string()]);
    // The invitation records the group it grants.
    let (_, invitations) = app.api("GET", "/api/v1/invitations", None).await;
    let inv = invitations["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["invitedUserEmailAddress"] == guest)
        .expect("the owner's invitation");
    assert_eq!(inv["grantedGroup"]["id"], own.as_str(), "{inv}");
    let smtp = app.smtp.as_ref().unwrap();
    let mail = smtp
        .wait_for(
            |m| m.to == [guest] && m.subject.contains("invited"),
            crate::redeem_steps::WAIT,
        )
        .await;
    let start = mail.text.find("/redeem?i=").expect("a redeem link");
    let end = mail.text[start..]
        .find(char::is_whitespace)
        .map_or(mail.text.len(), |e| e + start);
    let link = app.url(&mail.text[start..end]);
    let gb = Browser::new(&app.issuer);
    let landing = get(&gb, &link).await;
    let code_page = step(&gb, "/redeem/code", &landing, &[]).await;
    let code = nth_code(&app, guest, 1).await;
    let consent = step(&gb, "/redeem/verify", &code_page, &[("code", &code)]).await;
    let mine = gb
        .follow(step(&gb, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains("<h1>My Apps</h1>"), "{}", mine.body);
    let t = tile(&mine.body, "Trials").expect("the app shared through the group");
    assert!(t.contains("Through the group Trials users"), "{t}");
    assert!(tile(&mine.body, "Payroll").is_none());
    assert_eq!(
        mine.body.matches("<li class=\"tile\">").count(),
        1,
        "{}",
        mine.body
    );

    // Owners invite only as members may: allowInvitesFrom obeys.
    let (s, _) = app
        .api(
            "PATCH",
            "/api/v1/policies/authorizationPolicy",
            Some(json!({"allowInvitesFrom": "adminsAndGuestInviters"})),
        )
        .await;
    assert_eq!(s, 200);
    let refused = b
        .post_form(
            &format!("/myapps/groups/{own}/invite"),
            &[("csrf", &csrf), ("email", "hana@fabrikam.example")],
        )
        .await;
    assert_eq!(refused.status, 200);
    assert!(!refused.body.contains("was invited"), "{}", refused.body);
    assert_eq!(members(&app, &own).await, vec![guest.to_string()]);

    // The organization turns owners' self-service off: the section goes and
    // the forms are refused.
    let (s, v) = app
        .api(
            "PATCH",
            "/api/v1/policies/authorizationPolicy",
            Some(json!({"ownersMayManageMembership": false})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ownersMayManageMembership"], false);
    let page = b.get("/myapps").await;
    assert!(!page.body.contains("Applications you own"), "{}", page.body);
    let refused = b
        .post_form(
            &format!("/myapps/groups/{own}/members/add"),
            &[("csrf", &csrf), ("email", ALICE)],
        )
        .await;
    assert_eq!(refused.status, 403);
    let (s, _) = app
        .api(
            "PATCH",
            "/api/v1/policies/authorizationPolicy",
            Some(json!({"ownersMayManageMembership": true})),
        )
        .await;
    assert_eq!(s, 200);
    let page = b.get("/myapps").await;
    assert!(page.body.contains("Applications you own"), "{}", page.body);

    // No longer an owner: the section goes.
    let (s, _) = app
        .api(
            "DELETE",
            &format!("/api/v1/applications/{trials_id}/owners/{olivia}/$ref"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let page = b.get("/myapps").await;
    assert!(!page.body.contains("Applications you own"), "{}", page.body);
}
both_backends!(
    an_app_owner_manages_its_group_and_invites_a_guest,
    super::an_app_owner_manages_its_group_and_invites_a_guest
);
