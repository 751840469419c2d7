//! Delegated access to the admin API: an application with
//! `delegatedPermissions` gets, through the code flow, a token that acts for
//! the signed-in user, bounded by the scopes asked, the application's grant
//! and the user's role: limited and restricted guests cannot list users or
//! groups, members (and guests "same as members") can; only administrators
//! write; `allowInvitesFrom` decides each inviter.

use crate::redeem_steps::{get, nth_code, step};
use crate::support::{app_id_of, authorize_url, json, param, query_of, redeem};
use portico_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, TestApp, TestClient, both_backends, pkce_pair,
    spawn_app_with_mail,
};
use serde_json::{Value, json};

const SCOPES: &str = "openid User.Read.All Group.Read.All User.Invite.All";
const PASSWORD: &str = "a good password 1";

/// A web app granted `permissions` for signed-in users.
async fn delegating_app(app: &TestApp, permissions: &[&str]) -> (TestClient, String) {
    let client = app.web_app().await;
    let id = app_id_of(app, &client).await;
    let (s, v) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            Some(json!({"delegatedPermissions": permissions})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["delegatedPermissions"], json!(permissions));
    (client, id)
}

/// Signs in through `/authorize` in `b` (with a password when asked),
/// consents, and redeems the code: the access token.
async fn delegated_token(
    app: &TestApp,
    b: &Browser,
    client: &TestClient,
    email: &str,
    password: &str,
    scope: &str,
) -> String {
    let (verifier, challenge) = pkce_pair();
    let mut hop = b
        .follow(
            b.get(&authorize_url(app, client, &challenge, &[("scope", scope)]))
                .await,
        )
        .await;
    if hop.body.contains("name=\"password\"") {
        hop = b.follow(b.sign_in(hop, email, password).await).await;
    }
    if hop.body.contains("name=\"decision\"") {
        hop = b.follow(b.consent(hop, "accept").await).await;
    }
    let loc = hop.location.clone().unwrap_or_else(|| {
        panic!("no redirect to the app: {} {}", hop.status, hop.body);
    });
    let code = param(&query_of(&loc), "code").unwrap_or_else(|| panic!("no code: {loc}"));
    let tokens = json(redeem(app, client, &code, &verifier).await).await;
    tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"))
        .to_string()
}

/// A member who signs in with a password.
async fn member(app: &TestApp, email: &str) -> String {
    app.create_user(email, PASSWORD).await
}

/// A guest invited and redeemed with an emailed code: its signed-in browser.
async fn guest(app: &TestApp, email: &str) -> Browser {
    let (s, inv) = app
        .invite(json!({
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": app.issuer,
            "sendInvitationMessage": true,
        }))
        .await;
    assert_eq!(s, 201, "{inv}");
    let b = Browser::new(&app.issuer);
    let landing = get(&b, inv["inviteRedeemUrl"].as_str().unwrap()).await;
    let code_page = step(&b, "/redeem/code", &landing, &[]).await;
    let code = nth_code(app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &code_page, &[("code", &code)]).await;
    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    b
}

/// An admin API call with `token`: (status, body).
async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(m, app.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn set_policy(app: &TestApp, body: Value) {
    let (s, v) = app
        .api("PATCH", "/api/v1/policies/authorizationPolicy", Some(body))
        .await;
    assert_eq!(s, 200, "{v}");
}

const GUEST_ROLE_SAME_AS_MEMBERS: &str = "a0b1b346-4d3e-4e8b-98f8-753987be4970";
const GUEST_ROLE_RESTRICTED: &str = "2af84b1e-32c8-42b7-82bc-daa82404023b";

/// Members read users and groups with a delegated token; limited (the
/// default) and restricted guests get 403, guests "same as members" read
/// them; nobody but an admin writes; the app's grant and the scopes asked
/// bound it all, and unknown delegated permissions are refused.
async fn guests_directory_access_follows_the_guest_role(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (client, app_id) = delegating_app(
        &app,
        &["User.Read.All", "Group.Read.All", "User.Invite.All"],
    )
    .await;
    let (s, v) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{app_id}"),
            Some(json!({"delegatedPermissions": ["Directory.ReadWrite.All"]})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Directory.ReadWrite.All"),
        "{v}"
    );
    member(&app, "mia@contoso.example").await;
    let mb = Browser::new(&app.issuer);
    let mia = delegated_token(&app, &mb, &client, "mia@contoso.example", PASSWORD, SCOPES).await;
    let gb = guest(&app, "gail@fabrikam.example").await;
    let gail = delegated_token(&app, &gb, &client, "", "", SCOPES).await;

    let reads = ["/api/v1/users", "/api/v1/groups"];
    for path in reads {
        let (s, v) = call(&app, &mia, "GET", path, None).await;
        assert_eq!(s, 200, "member reads {path}: {v}");
        // Limited guests (the default) cannot list users or groups.
        let (s, v) = call(&app, &gail, "GET", path, None).await;
        assert_eq!(s, 403, "limited guest {path}: {v}");
        assert_eq!(v["error"]["code"], "forbidden");
    }
    let (_, users) = call(&app, &mia, "GET", "/api/v1/users", None).await;
    assert!(
        users["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["mail"] == "gail@fabrikam.example"),
        "{users}"
    );
    // Writes and the invitations list are for administrators only.
    let (s, _) = call(
        &app,
        &mia,
        "POST",
        "/api/v1/groups",
        Some(json!({"displayName": "Mine", "mailEnabled": false})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(&app, &mia, "GET", "/api/v1/invitations", None).await;
    assert_eq!(s, 403);

    set_policy(&app, json!({"guestUserRoleId": GUEST_ROLE_RESTRICTED})).await;
    for path in reads {
        let (s, _) = call(&app, &gail, "GET", path, None).await;
        assert_eq!(s, 403, "restricted guest {path}");
    }
    set_policy(&app, json!({"guestUserRoleId": GUEST_ROLE_SAME_AS_MEMBERS})).await;
    for path in reads {
        let (s, v) = call(&app, &gail, "GET", path, None).await;
        assert_eq!(s, 200, "guest same as members {path}: {v}");
    }

    // The app's grant bounds the token at once; so do the scopes asked.
    let (s, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{app_id}"),
            Some(json!({"delegatedPermissions": ["User.Invite.All"]})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = call(&app, &mia, "GET", "/api/v1/users", None).await;
    assert_eq!(s, 403);
    let (s, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{app_id}"),
            Some(json!({"delegatedPermissions": ["User.Read.All", "Group.Read.All"]})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = call(&app, &mia, "GET", "/api/v1/users", None).await;
    assert_eq!(s, 200);
    let plain = delegated_token(&app, &mb, &client, "", "", "openid profile").await;
    let (s, _) = call(&app, &plain, "GET", "/api/v1/users", None).await;
    assert_eq!(s, 403, "no permission asked, none held");
}
both_backends!(
    guests_directory_access_follows_the_guest_role,
    super::guests_directory_access_follows_the_guest_role
);

/// Each `allowInvitesFrom` value for an admin, a guest inviter, a member
/// and a guest, each inviting through `POST /api/v1/invitations` with its own
/// delegated token: the table Entra documents.
async fn allow_invites_from_decides_for_each_kind_of_caller(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (client, _) = delegating_app(&app, &["User.Invite.All"]).await;
    let inviter = member(&app, "ines@contoso.example").await;
    let (s, v) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{inviter}"),
            Some(json!({"roles": ["Guest Inviter"]})),
        )
        .await;
    assert!(s == 200 || s == 204, "{v}");
    member(&app, "mia@contoso.example").await;
    let scope = "openid User.Invite.All";
    let mut callers: Vec<(&str, String)> = Vec::new();
    for (who, email, password) in [
        ("admin", ADMIN_EMAIL, ADMIN_PASSWORD),
        ("guest inviter", "ines@contoso.example", PASSWORD),
        ("member", "mia@contoso.example", PASSWORD),
    ] {
        let b = Browser::new(&app.issuer);
        callers.push((
            who,
            delegated_token(&app, &b, &client, email, password, scope).await,
        ));
    }
    let gb = guest(&app, "gail@fabrikam.example").await;
    callers.push((
        "guest",
        delegated_token(&app, &gb, &client, "", "", scope).await,
    ));

    // allowed for (admin, guest inviter, member, guest)
    let table: [(&str, [bool; 4]); 4] = [
        ("none", [false, false, false, false]),
        ("adminsAndGuestInviters", [true, true, false, false]),
        (
            "adminsGuestInvitersAndAllMembers",
            [true, true, true, false],
        ),
        ("everyone", [true, true, true, true]),
    ];
    let mut n = 0;
    for (setting, allowed) in table {
        set_policy(&app, json!({"allowInvitesFrom": setting})).await;
        for ((who, token), expected) in callers.iter().zip(allowed) {
            n += 1;
            let email = format!("invitee{n}@fabrikam.example");
            let (s, v) = call(
                &app,
                token,
                "POST",
                "/api/v1/invitations",
                Some(json!({
                    "invitedUserEmailAddress": email,
                    "inviteRedirectUrl": "https://trials.contoso.example/welcome",
                    "sendInvitationMessage": false,
                })),
            )
            .await;
            if expected {
                assert_eq!(s, 201, "{setting}: {who} may invite: {v}");
            } else {
                assert_eq!(s, 403, "{setting}: {who} may not invite: {v}");
                assert!(
                    v["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("allowInvitesFrom"),
                    "{v}"
                );
                let (_, found) = app
                    .api(
                        "GET",
                        &format!("/api/v1/users?$filter=mail eq '{email}'"),
                        None,
                    )
                    .await;
                assert_eq!(found["value"], json!([]), "nothing created");
            }
        }
    }
    // The invitation names the user who made it, not the app.
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    assert!(
        audits["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |e| e["initiatedBy"]["user"]["displayName"] == "Alice Example"
                    && e["activityDisplayName"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("nvite")
            ),
        "an invitation audited with the member as actor"
    );
}
both_backends!(
    allow_invites_from_decides_for_each_kind_of_caller,
    super::allow_invites_from_decides_for_each_kind_of_caller
);

/// `delegatedPermissions` on registration: kept as sent (duplicates once);
/// an unknown permission refuses the whole registration.
async fn delegated_permissions_are_set_at_registration(backend: Backend) {
    let app = portico_tests::spawn_app(backend).await;
    let body = |perms: Value| {
        json!({"displayName": "Partner portal", "clientType": "confidential",
            "redirectUris": ["https://partners.contoso.example/cb"],
            "delegatedPermissions": perms})
    };
    let (s, v) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(body(json!([
                "User.Read.All",
                "Group.Read.All",
                "User.Read.All"
            ]))),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        v["delegatedPermissions"],
        json!(["User.Read.All", "Group.Read.All"])
    );
    let (_, stored) = app
        .api(
            "GET",
            &format!("/api/v1/applications/{}", v["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(stored["delegatedPermissions"], v["delegatedPermissions"]);

    let (s, v) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(body(json!(["Directory.ReadWrite.All"]))),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (_, list) = app.api("GET", "/api/v1/applications", None).await;
    let named = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["displayName"] == "Partner portal")
        .count();
    assert_eq!(named, 1, "the refused registration wrote nothing: {list}");
}
both_backends!(
    delegated_permissions_are_set_at_registration,
    super::delegated_permissions_are_set_at_registration
);
