//! Least privilege and account safety: what a narrowed API token may do to
//! administrators, the last administrator, roles, password resets that cut
//! the user off, proven addresses, and edits that are safe under concurrency.

use crate::redeem_steps::{get, invite, nth_code, step};
use crate::support::{ALICE, json, jwt_claims, refresh_request, tokens_for_alice, userinfo};
use portico_tests::{
    Backend, Browser, TestApp, both_backends, find_hidden, spawn_app, spawn_app_with_mail,
};
use serde_json::{Value, json};

/// An admin API call with `token`: (status, JSON body, ETag).
async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, Value, Option<String>) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(m, app.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, resp.json().await.unwrap_or(Value::Null), etag)
}

fn user_path(id: &str) -> String {
    format!("/api/v1/users/{id}")
}

/// A token narrowed to `User.ReadWrite.All` manages ordinary users, but
/// cannot reset, disable, expire or delete an administrator, nor grant roles:
/// that needs `RoleManagement.ReadWrite.Directory`.
async fn a_user_admin_token_cannot_take_over_an_administrator(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let admin = app.admin_user_id.clone();
    let narrow = app.admin_token_for("User.ReadWrite.All").await;
    let forbidden: [(&str, Option<Value>); 5] = [
        ("PATCH", Some(json!({"password": "stolen password 1"}))),
        ("PATCH", Some(json!({"accountEnabled": false}))),
        (
            "PATCH",
            Some(json!({"accessExpiresDateTime": "2030-01-01T00:00:00Z"})),
        ),
        ("PATCH", Some(json!({"roles": []}))),
        ("DELETE", None),
    ];
    for (method, body) in forbidden {
        let (status, v, _) = call(
            &app,
            &narrow,
            method,
            &user_path(&admin),
            body.clone(),
            None,
        )
        .await;
        assert_eq!(status, 403, "{method} {body:?}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("RoleManagement.ReadWrite.Directory"),
            "{v}"
        );
    }
    // Making oneself (or anyone) an administrator is refused too.
    let (status, v, _) = call(
        &app,
        &narrow,
        "PATCH",
        &user_path(&alice),
        Some(json!({"roles": ["Global Administrator"]})),
        None,
    )
    .await;
    assert_eq!(status, 403, "{v}");
    // The administrator still signs in to the portal with the old password.
    app.portal_admin().await;
    // Ordinary users stay manageable with the narrow token; a rename of the
    // admin is fine too.
    let (status, v, _) = call(
        &app,
        &narrow,
        "PATCH",
        &user_path(&alice),
        Some(json!({"password": "a new password 1", "accountEnabled": false})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v, _) = call(
        &app,
        &narrow,
        "PATCH",
        &user_path(&admin),
        Some(json!({"displayName": "Head of IT"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
}
both_backends!(
    a_user_admin_token_cannot_take_over_an_administrator,
    super::a_user_admin_token_cannot_take_over_an_administrator
);

/// The last enabled administrator cannot be disabled, expired, demoted or
/// deleted (409 with a clear message); once another administrator exists,
/// it can. Roles are added and removed through `PATCH … {"roles": […]}`,
/// shown on the user, audited, and a new administrator signs in to the portal.
async fn administrators_are_added_and_removed_but_never_the_last(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let admin = app.admin_user_id.clone();
    let full = app.admin_token().await;
    let last: [Value; 4] = [
        json!({"accountEnabled": false}),
        json!({"accessExpiresDateTime": "2999-01-01T00:00:00Z"}),
        json!({"roles": []}),
        json!({"roles": ["Guest Inviter"]}),
    ];
    for body in last {
        let (status, v, _) = call(
            &app,
            &full,
            "PATCH",
            &user_path(&admin),
            Some(body.clone()),
            None,
        )
        .await;
        assert_eq!(status, 409, "{body}: {v}");
        assert_eq!(v["error"]["code"], "conflict");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("last enabled administrator"),
            "{v}"
        );
    }
    let (status, v, _) = call(&app, &full, "DELETE", &user_path(&admin), None, None).await;
    assert_eq!(status, 409, "{v}");
    // Alice becomes an administrator (and a guest inviter).
    let (status, v, _) = call(
        &app,
        &full,
        "PATCH",
        &user_path(&alice),
        Some(json!({"roles": ["Global Administrator", "Guest Inviter"]})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["roles"], json!(["Global Administrator", "Guest Inviter"]));
    let (status, v, _) = call(
        &app,
        &full,
        "PATCH",
        &user_path(&alice),
        Some(json!({"roles": ["Root"]})),
        None,
    )
    .await;
    assert_eq!(status, 400, "{v}");
    // Now the first admin may be disabled; Alice is the last one.
    let (status, v, _) = call(
        &app,
        &full,
        "PATCH",
        &user_path(&admin),
        Some(json!({"accountEnabled": false})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v, _) = call(
        &app,
        &full,
        "PATCH",
        &user_path(&alice),
        Some(json!({"roles": []})),
        None,
    )
    .await;
    assert_eq!(status, 409, "a disabled admin does not count: {v}");
    // Alice administers through the portal.
    let b = Browser::new(&app.issuer);
    let hop = b
        .sign_in(
            b.get("/admin/signin").await,
            ALICE,
            crate::support::ALICE_PW,
        )
        .await;
    let page = b.follow(hop).await;
    assert!(page.body.contains("/admin/signout"), "{}", page.body);
    // In the portal she gives the role back to the first admin and drops her own.
    let (status, v, _) = call(
        &app,
        &full,
        "PATCH",
        &user_path(&admin),
        Some(json!({"accountEnabled": true})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let page = b.get(&format!("/admin/users/{alice}")).await;
    assert!(page.body.contains("Global Administrator"), "{}", page.body);
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let done = b
        .post_form(
            &format!("/admin/users/{alice}/roles"),
            &[("csrf", &csrf), ("role_guest_inviter", "on")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, v, _) = call(&app, &full, "GET", &user_path(&alice), None, None).await;
    assert_eq!(v["roles"], json!(["Guest Inviter"]));
    // The portal refuses demoting the last one, with the message.
    let admin_b = app.portal_admin().await;
    let page = admin_b.get(&format!("/admin/users/{admin}")).await;
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let refused = admin_b
        .post_form(&format!("/admin/users/{admin}/roles"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("last enabled administrator"));
    // Every role change is audited with its actor.
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let role_changes: Vec<&Value> = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["activityDisplayName"] == "Update user roles")
        .collect();
    assert_eq!(role_changes.len(), 2, "{audits}");
    assert_eq!(
        role_changes[0]["initiatedBy"]["user"]["id"],
        alice.as_str(),
        "{audits}"
    );
    assert!(
        role_changes[1]["initiatedBy"]["app"].is_object(),
        "{audits}"
    );
}
both_backends!(
    administrators_are_added_and_removed_but_never_the_last,
    super::administrators_are_added_and_removed_but_never_the_last
);

/// An admin's password reset ends the user's sessions and revokes its
/// grants and tokens, like disabling does.
async fn a_password_reset_cuts_the_user_off(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    let tokens = tokens_for_alice(&app, &client).await;
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, at).await.status(), 200);
    let (status, v) = app
        .api(
            "PATCH",
            &user_path(&alice),
            Some(json!({"password": "reset by the helpdesk"})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(userinfo(&app, at).await.status(), 401, "access token dead");
    let rt = tokens["refresh_token"].as_str().unwrap();
    let r = refresh_request(&app, &client, rt).await;
    assert_eq!(r.status(), 400, "refresh token dead");
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    assert!(
        audits["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["activityDisplayName"] == "Reset user password"),
        "{audits}"
    );
}
both_backends!(
    a_password_reset_cuts_the_user_off,
    super::a_password_reset_cuts_the_user_off
);

/// `email_verified` is true only for a proven address: a member created with
/// a typed address is unverified until an admin vouches for it; a guest who
/// redeemed proved the mailbox.
async fn email_verified_only_for_a_proven_address(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    let tokens = tokens_for_alice(&app, &client).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["email_verified"], false, "{claims}");
    let (_, u) = app.api("GET", &user_path(&alice), None).await;
    assert_eq!(u["emailVerified"], false);
    let (status, u) = app
        .api(
            "PATCH",
            &user_path(&alice),
            Some(json!({"emailVerified": true})),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    let info = json(userinfo(&app, tokens["access_token"].as_str().unwrap()).await).await;
    assert_eq!(info["email_verified"], true, "{info}");
    // Created with the admin's word for it.
    let (status, u) = app
        .api(
            "POST",
            "/api/v1/users",
            Some(json!({"displayName": "Bob", "mail": "bob@contoso.example",
                        "password": "long enough", "userType": "Member", "emailVerified": true})),
        )
        .await;
    assert_eq!(status, 201, "{u}");
    assert_eq!(u["emailVerified"], true);
    // A guest that redeemed with a mailbox code.
    let email = "gail@fabrikam.example";
    let (_, link) = invite(&app, email).await;
    let (_, users) = app
        .api(
            "GET",
            &format!("/api/v1/users?$filter=mail eq '{email}'"),
            None,
        )
        .await;
    assert_eq!(users["value"][0]["emailVerified"], false, "not before");
    let b = Browser::new(&app.issuer);
    let landing = get(&b, &link).await;
    let code_page = step(&b, "/redeem/code", &landing, &[]).await;
    let code = nth_code(&app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &code_page, &[("code", &code)]).await;
    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, users) = app
        .api(
            "GET",
            &format!("/api/v1/users?$filter=mail eq '{email}'"),
            None,
        )
        .await;
    assert_eq!(users["value"][0]["emailVerified"], true, "{users}");
}
both_backends!(
    email_verified_only_for_a_proven_address,
    super::email_verified_only_for_a_proven_address
);

/// Graph: `resetRedemption` is a user change and needs `User.ReadWrite.All`,
/// not only `User.Invite.All`.
async fn reset_redemption_needs_user_write_permission(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({
        "invitedUserEmailAddress": "gail@fabrikam.example",
        "inviteRedirectUrl": crate::redeem_steps::APP_URL,
        "sendInvitationMessage": false,
    });
    let (status, v) = app.invite(body.clone()).await;
    assert_eq!(status, 201, "{v}");
    let mut reset = body.clone();
    reset["resetRedemption"] = json!(true);
    let inviter = app.admin_token_for("User.Invite.All").await;
    let (status, v, _) = call(
        &app,
        &inviter,
        "POST",
        "/api/v1/invitations",
        Some(reset.clone()),
        None,
    )
    .await;
    assert_eq!(status, 403, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("User.ReadWrite.All")
    );
    // Plain invitations still work with the narrow token.
    let mut other = body.clone();
    other["invitedUserEmailAddress"] = json!("hank@fabrikam.example");
    let (status, v, _) = call(
        &app,
        &inviter,
        "POST",
        "/api/v1/invitations",
        Some(other),
        None,
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let both = app
        .admin_token_for("User.Invite.All User.ReadWrite.All")
        .await;
    let (status, v, _) = call(
        &app,
        &both,
        "POST",
        "/api/v1/invitations",
        Some(reset),
        None,
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {v}");
}
both_backends!(
    reset_redemption_needs_user_write_permission,
    super::reset_redemption_needs_user_write_permission
);

/// Two admins edit one user at once: a disable and a rename (with a password
/// reset, whose hashing keeps the rename in flight) both survive. With
/// `If-Match`, a write based on an old read is refused with 412.
async fn concurrent_user_edits_do_not_undo_each_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let token = app.admin_token().await;
    let path = user_path(&alice);
    for round in 0..3 {
        let name = format!("Alice {round}");
        let rename = call(
            &app,
            &token,
            "PATCH",
            &path,
            Some(json!({"displayName": name, "password": format!("new password {round}")})),
            None,
        );
        let disable = async {
            // Let the rename read the user and start hashing first.
            tokio::task::yield_now().await;
            call(
                &app,
                &token,
                "PATCH",
                &user_path(&alice),
                Some(json!({"accountEnabled": false})),
                None,
            )
            .await
        };
        let ((s1, v1, _), (s2, v2, _)) = tokio::join!(rename, disable);
        assert_eq!((s1, s2), (200, 200), "{v1} {v2}");
        let (_, u, _) = call(&app, &token, "GET", &user_path(&alice), None, None).await;
        assert_eq!(u["displayName"], name.as_str(), "{u}");
        assert_eq!(u["accountEnabled"], false, "the disable survived: {u}");
        let (s, v, _) = call(
            &app,
            &token,
            "PATCH",
            &user_path(&alice),
            Some(json!({"accountEnabled": true})),
            None,
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    // If-Match: the version read, then someone else's write, then a stale write.
    let (_, _, etag) = call(&app, &token, "GET", &user_path(&alice), None, None).await;
    let etag = etag.expect("an ETag");
    let (s, _, newer) = call(
        &app,
        &token,
        "PATCH",
        &user_path(&alice),
        Some(json!({"displayName": "Alice B."})),
        Some(&etag),
    )
    .await;
    assert_eq!(s, 200);
    let newer = newer.unwrap();
    assert_ne!(newer, etag);
    let (s, v, _) = call(
        &app,
        &token,
        "PATCH",
        &user_path(&alice),
        Some(json!({"accountEnabled": false})),
        Some(&etag),
    )
    .await;
    assert_eq!(s, 412, "{v}");
    assert_eq!(v["error"]["code"], "preconditionFailed");
    let (_, u, _) = call(&app, &token, "GET", &user_path(&alice), None, None).await;
    assert_eq!(u["accountEnabled"], true, "nothing written: {u}");
    let (s, _, _) = call(
        &app,
        &token,
        "PATCH",
        &user_path(&alice),
        Some(json!({"accountEnabled": false})),
        Some(&newer),
    )
    .await;
    assert_eq!(s, 200);
}
both_backends!(
    concurrent_user_edits_do_not_undo_each_other,
    super::concurrent_user_edits_do_not_undo_each_other
);

/// A guest accepts while an admin edits from a page read before: the admin's
/// stale write (`If-Match` of the old version) is refused, and a plain edit
/// keeps the acceptance.
async fn an_acceptance_and_an_admin_edit_do_not_undo_each_other(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let token = app.admin_token().await;
    let email = "gail@fabrikam.example";
    let (_, link) = invite(&app, email).await;
    let (_, users) = app
        .api(
            "GET",
            &format!("/api/v1/users?$filter=mail eq '{email}'"),
            None,
        )
        .await;
    let id = users["value"][0]["id"].as_str().unwrap().to_string();
    let (_, _, read) = call(&app, &token, "GET", &user_path(&id), None, None).await;
    let read = read.unwrap();
    // The guest redeems meanwhile.
    let b = Browser::new(&app.issuer);
    let landing = get(&b, &link).await;
    let code_page = step(&b, "/redeem/code", &landing, &[]).await;
    let code = nth_code(&app, email, 1).await;
    let consent = step(&b, "/redeem/verify", &code_page, &[("code", &code)]).await;
    let done = b
        .follow(step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (s, v, _) = call(
        &app,
        &token,
        "PATCH",
        &user_path(&id),
        Some(json!({"displayName": "Gail G."})),
        Some(&read),
    )
    .await;
    assert_eq!(s, 412, "{v}");
    let (s, v, _) = call(
        &app,
        &token,
        "PATCH",
        &user_path(&id),
        Some(json!({"displayName": "Gail G."})),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["externalUserState"], "Accepted", "{v}");
    assert_eq!(v["identities"].as_array().unwrap().len(), 1, "{v}");
}
both_backends!(
    an_acceptance_and_an_admin_edit_do_not_undo_each_other,
    super::an_acceptance_and_an_admin_edit_do_not_undo_each_other
);

/// No open redirect from the organization's own emails: `inviteRedirectUrl`
/// is https (http only on loopback) and lands on Portico, a registered
/// application's origin, or an allow-listed one; otherwise a clear 400, from
/// the API and from the portal's form alike.
async fn invitations_land_only_where_the_organization_owns(backend: Backend) {
    let app = spawn_app(backend).await;
    let invite = |url: &str| {
        app.invite(json!({
            "invitedUserEmailAddress": "gail@fabrikam.example",
            "inviteRedirectUrl": url,
        }))
    };
    for url in [
        "https://evil.example/welcome",
        "http://trials.contoso.example/",
        "https://trials.contoso.example.evil.example/",
        "http://evil.example/",
    ] {
        let (status, v) = invite(url).await;
        assert_eq!(status, 400, "{url}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("inviteRedirectUrl"),
            "{v}"
        );
    }
    let (_, list) = app.api("GET", "/api/v1/invitations", None).await;
    assert_eq!(
        list["value"].as_array().unwrap().len(),
        0,
        "nothing written"
    );
    // A registered application's origin is fine, as are Portico itself and the allow-list.
    let (status, v) = app
        .api(
            "POST",
            "/api/v1/applications",
            Some(json!({"displayName": "Wiki", "clientType": "confidential",
                        "redirectUris": ["https://wiki.contoso.example/oidc/cb"]})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    for url in [
        "https://wiki.contoso.example/start",
        &app.url("/account/security"),
        "https://trials.contoso.example/welcome",
    ] {
        let (status, v) = invite(url).await;
        assert!(status == 201 || status == 200, "{url}: {status} {v}");
    }
    // The portal form says the same.
    let admin = app.portal_admin().await;
    let page = admin.get("/admin/invite").await;
    let csrf = find_hidden(&page.body, "csrf").unwrap();
    let refused = admin
        .post_form(
            "/admin/invite",
            &[
                ("csrf", &csrf),
                ("email", "hank@fabrikam.example"),
                ("redirect_url", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("https://evil.example"),
        "{}",
        refused.body
    );
}
both_backends!(
    invitations_land_only_where_the_organization_owns,
    super::invitations_land_only_where_the_organization_owns
);

/// A trusted IdP's new issuer needs its client secret entered again (or a
/// stolen admin token could send the stored secret to its own host); a stale
/// `If-Match` is 412.
async fn a_new_idp_issuer_needs_the_secret_and_stale_edits_fail(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let (status, idp, _) = call(
        &app,
        &token,
        "POST",
        "/api/v1/identityProviders",
        Some(json!({"displayName": "Fabrikam", "issuer": "https://login.fabrikam.example",
                    "clientId": "contoso", "clientSecret": "fabrikam secret", "domains": ["fabrikam.example"]})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{idp}");
    let path = format!("/api/v1/identityProviders/{}", idp["id"].as_str().unwrap());
    let (status, v, _) = call(
        &app,
        &token,
        "PATCH",
        &path,
        Some(json!({"issuer": "https://attacker.example"})),
        None,
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("clientSecret"),
        "{v}"
    );
    let (_, v, etag) = call(&app, &token, "GET", &path, None, None).await;
    assert_eq!(v["issuer"], "https://login.fabrikam.example", "unchanged");
    let etag = etag.expect("an ETag");
    let (status, v, _) = call(
        &app,
        &token,
        "PATCH",
        &path,
        Some(json!({"issuer": "https://login.fabrikam.example/v2", "clientSecret": "new secret"})),
        Some(&etag),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["issuer"], "https://login.fabrikam.example/v2");
    // The version read before that change is stale now.
    let (status, v, _) = call(
        &app,
        &token,
        "PATCH",
        &path,
        Some(json!({"enabled": false})),
        Some(&etag),
    )
    .await;
    assert_eq!(status, 412, "{v}");
    let (_, v, _) = call(&app, &token, "GET", &path, None, None).await;
    assert_eq!(v["enabled"], true);
}
both_backends!(
    a_new_idp_issuer_needs_the_secret_and_stale_edits_fail,
    super::a_new_idp_issuer_needs_the_secret_and_stale_edits_fail
);

/// Every trust-relevant change outside the directory is in the audit log
/// with its actor: IdP create/update (`mfaTrust`)/delete, application
/// create/update/delete, signing-key rotation (settings already are).
async fn trust_changes_are_audited_with_their_actor(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let (_, idp, _) = call(
        &app,
        &token,
        "POST",
        "/api/v1/identityProviders",
        Some(
            json!({"displayName": "Fabrikam", "issuer": "https://login.fabrikam.example",
                    "clientId": "contoso", "clientSecret": "fabrikam secret"}),
        ),
        None,
    )
    .await;
    let idp_path = format!("/api/v1/identityProviders/{}", idp["id"].as_str().unwrap());
    let (s, v, _) = call(
        &app,
        &token,
        "PATCH",
        &idp_path,
        Some(json!({"mfaTrust": {"amrValues": ["mfa"], "maxAgeMinutes": 10}})),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        call(&app, &token, "DELETE", &idp_path, None, None).await.0,
        204
    );
    let (_, c, _) = call(
        &app,
        &token,
        "POST",
        "/api/v1/applications",
        Some(json!({"displayName": "Wiki", "clientType": "confidential",
                    "redirectUris": ["https://wiki.contoso.example/cb"]})),
        None,
    )
    .await;
    let app_path = format!("/api/v1/applications/{}", c["id"].as_str().unwrap());
    let (s, v, _) = call(
        &app,
        &token,
        "PATCH",
        &app_path,
        Some(json!({"requireMfa": true})),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        call(&app, &token, "DELETE", &app_path, None, None).await.0,
        204
    );
    let (s, _, _) = call(
        &app,
        &token,
        "POST",
        "/api/v1/signingKeys/rotate",
        None,
        None,
    )
    .await;
    assert_eq!(s, 201);
    let (_, audits) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    let rows = audits["value"].as_array().unwrap();
    let activities: Vec<&str> = rows
        .iter()
        .map(|a| a["activityDisplayName"].as_str().unwrap())
        .collect();
    for wanted in [
        "Add identity provider",
        "Update identity provider",
        "Delete identity provider",
        "Add application",
        "Update application",
        "Delete application",
        "Rotate signing key",
    ] {
        let row = rows
            .iter()
            .find(|a| a["activityDisplayName"] == wanted)
            .unwrap_or_else(|| panic!("{wanted} in {activities:?}"));
        assert_eq!(
            row["initiatedBy"]["app"]["appId"],
            app.mgmt_client_id.as_str(),
            "{row}"
        );
    }
    let update = rows
        .iter()
        .find(|a| a["activityDisplayName"] == "Update identity provider")
        .unwrap();
    let changed = update["targetResources"][0]["modifiedProperties"].to_string();
    assert!(changed.contains("mfaTrust"), "{changed}");
    assert!(
        !audits.to_string().contains("fabrikam secret"),
        "no secret in the log"
    );
}
both_backends!(
    trust_changes_are_audited_with_their_actor,
    super::trust_changes_are_audited_with_their_actor
);
