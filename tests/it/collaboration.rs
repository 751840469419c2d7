//! External collaboration settings: Graph's `authorizationPolicy`
//! (`allowInvitesFrom`, `guestUserRoleId`) and `invitationDomainsPolicy`
//! (allow-list and deny-list), validated, audited, and obeyed by invitations.

use portico_tests::{Backend, TestApp, both_backends, spawn_app};
use serde_json::{Value, json};

const AUTHZ: &str = "/api/v1/policies/authorizationPolicy";
const DOMAINS: &str = "/api/v1/policies/invitationDomainsPolicy";

async fn invite(app: &TestApp, email: &str) -> (u16, Value) {
    app.invite(json!({
        "invitedUserEmailAddress": email,
        "inviteRedirectUrl": app.issuer,
        "sendInvitationMessage": false,
    }))
    .await
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

/// Defaults are Entra's (members may invite, guests limited, no domain
/// lists); bad values are 400 naming the field; writing needs
/// `Policy.ReadWrite.Authorization` and each change is audited with its actor.
async fn settings_are_graph_shaped_validated_permissioned_and_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let (s, v) = app.api("GET", AUTHZ, None).await;
    assert_eq!(s, 200);
    assert_eq!(v["allowInvitesFrom"], "adminsGuestInvitersAndAllMembers");
    assert_eq!(v["guestUserRoleId"], "10dae51f-b6af-4016-8d66-8c2a99b929b3");
    let (s, v) = app.api("GET", DOMAINS, None).await;
    assert_eq!(s, 200);
    assert_eq!(v["allowedDomains"], json!([]));
    assert_eq!(v["blockedDomains"], json!([]));

    let (s, v) = app
        .api("PATCH", AUTHZ, Some(json!({"allowInvitesFrom": "admins"})))
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allowInvitesFrom")
    );
    let (s, v) = app
        .api(
            "PATCH",
            DOMAINS,
            Some(json!({"blockedDomains": ["not a domain"]})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("blockedDomains")
    );

    let reader = app.admin_token_for("Policy.Read.All").await;
    assert_eq!(call(&app, &reader, "GET", AUTHZ, json!({})).await, 200);
    let patch = json!({"allowInvitesFrom": "none"});
    assert_eq!(call(&app, &reader, "PATCH", AUTHZ, patch).await, 403);

    let (s, v) = app
        .api(
            "PATCH",
            AUTHZ,
            Some(json!({"allowInvitesFrom": "everyone",
                "guestUserRoleId": "2af84b1e-32c8-42b7-82bc-daa82404023b"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["allowInvitesFrom"], "everyone");
    assert_eq!(v["guestUserRoleId"], "2af84b1e-32c8-42b7-82bc-daa82404023b");
    let (_, v) = app.api("GET", AUTHZ, None).await;
    assert_eq!(v["allowInvitesFrom"], "everyone");

    let (s, v) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits", None)
        .await;
    assert_eq!(s, 200);
    let entry = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["activityDisplayName"] == "Update authorization policy")
        .expect("the change is audited");
    assert_eq!(
        entry["initiatedBy"]["app"]["appId"],
        app.mgmt_client_id.as_str()
    );
}
both_backends!(
    settings_are_graph_shaped_validated_permissioned_and_audited,
    super::settings_are_graph_shaped_validated_permissioned_and_audited
);

/// An allow-list and a deny-list together: deny wins, a wildcard admits
/// subdomains only, and a refused invitation writes nothing (403).
async fn invitations_obey_the_allow_list_and_the_deny_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let (s, _) = app
        .api(
            "PATCH",
            DOMAINS,
            Some(json!({"allowedDomains": ["*.fabrikam.com", "contoso.org"],
                "blockedDomains": ["bad.fabrikam.com"]})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(invite(&app, "ann@eu.fabrikam.com").await.0, 201);
    assert_eq!(invite(&app, "bob@contoso.org").await.0, 201);
    for refused in ["eve@bad.fabrikam.com", "joe@fabrikam.com", "sue@gmail.com"] {
        let (s, v) = invite(&app, refused).await;
        assert_eq!(s, 403, "{refused}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("domain"),
            "{refused}: {v}"
        );
    }
    let (_, v) = app.api("GET", "/api/v1/invitations?$top=999", None).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 2, "{v}");
}
both_backends!(
    invitations_obey_the_allow_list_and_the_deny_list,
    super::invitations_obey_the_allow_list_and_the_deny_list
);

/// Entra's `none`: no one may invite, administrators and API clients
/// included; `adminsAndGuestInviters` admits the management client again.
async fn allow_invites_from_none_stops_even_administrators(backend: Backend) {
    let app = spawn_app(backend).await;
    let set = |v: &'static str| {
        let app = &app;
        async move {
            let (s, _) = app
                .api("PATCH", AUTHZ, Some(json!({"allowInvitesFrom": v})))
                .await;
            assert_eq!(s, 200);
        }
    };
    set("none").await;
    let (s, v) = invite(&app, "ann@fabrikam.com").await;
    assert_eq!(s, 403);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allowInvitesFrom: none")
    );
    set("adminsAndGuestInviters").await;
    assert_eq!(invite(&app, "ann@fabrikam.com").await.0, 201);
}
both_backends!(
    allow_invites_from_none_stops_even_administrators,
    super::allow_invites_from_none_stops_even_administrators
);

/// The portal's External collaboration page edits the same settings as the
/// API: shown as stored, validated with the API's words (the typed values
/// kept), saved together and audited with the admin as actor.
async fn the_portal_edits_the_external_collaboration_settings(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.portal_admin().await;
    let page = admin.get("/admin/collaboration").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(r#"value="adminsGuestInvitersAndAllMembers" checked"#),
        "the stored default is selected: {}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"name="owners_may_manage_membership" value="on" checked"#),
        "owners may manage membership by default"
    );
    let csrf = portico_tests::find_hidden(&page.body, "csrf").unwrap();
    let limited = "10dae51f-b6af-4016-8d66-8c2a99b929b3";
    let bad = admin
        .post_form(
            "/admin/collaboration",
            &[
                ("csrf", &csrf),
                ("allow_invites_from", "adminsAndGuestInviters"),
                ("guest_user_role_id", limited),
                ("blocked_domains", "evil.example\nnot a domain"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("blockedDomains"), "{}", bad.body);
    assert!(bad.body.contains("not a domain"), "typed value kept");
    let (_, unchanged) = app.api("GET", DOMAINS, None).await;
    assert_eq!(unchanged["blockedDomains"], json!([]), "nothing saved");

    let saved = admin
        .post_form(
            "/admin/collaboration",
            &[
                ("csrf", &csrf),
                ("allow_invites_from", "adminsAndGuestInviters"),
                ("guest_user_role_id", limited),
                ("allowed_domains", ""),
                ("blocked_domains", "evil.example\n*.spam.example"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, authz) = app.api("GET", AUTHZ, None).await;
    assert_eq!(authz["allowInvitesFrom"], "adminsAndGuestInviters");
    assert_eq!(
        authz["ownersMayManageMembership"], false,
        "an unticked box turns it off"
    );
    let (_, domains) = app.api("GET", DOMAINS, None).await;
    assert_eq!(
        domains["blockedDomains"],
        json!(["evil.example", "*.spam.example"])
    );
    let (status, refused) = invite(&app, "eve@evil.example").await;
    assert_eq!(status, 403, "{refused}");

    let (_, audits) = app
        .api(
            "GET",
            "/api/v1/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Update%20external%20collaboration%20settings'",
            None,
        )
        .await;
    let entries = audits["value"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audits:#}");
    assert!(
        entries[0]["initiatedBy"]["user"]["id"].is_string(),
        "the admin, a user, is the actor: {audits:#}"
    );
}
both_backends!(
    the_portal_edits_the_external_collaboration_settings,
    super::the_portal_edits_the_external_collaboration_settings
);

/// Every way of inviting obeys the domain lists with a clear error and writes
/// nothing for the refused address: the admin API, the portal's form, the
/// CLI's `portico invite` and its CSV import (the portal's bulk upload runs
/// the same importer); an allowed address still goes through each.
async fn every_invitation_path_obeys_the_domain_lists(backend: Backend) {
    let app = spawn_app(backend).await;
    let (s, _) = app
        .api(
            "PATCH",
            DOMAINS,
            Some(json!({"blockedDomains": ["gmail.example"]})),
        )
        .await;
    assert_eq!(s, 200);
    let exists = |mail: &'static str| {
        let app = &app;
        async move {
            app.server
                .app
                .directory
                .repo()
                .find_user_by_mail(mail)
                .await
                .unwrap()
                .is_some()
        }
    };

    // Admin API.
    let (s, v) = invite(&app, "api@gmail.example").await;
    assert_eq!(s, 403, "{v}");
    assert!(!exists("api@gmail.example").await);

    // The portal's invitation form: the page says why, the address is kept.
    let b = app.portal_admin().await;
    let form = b.get("/admin/invite").await;
    let csrf = portico_tests::find_hidden(&form.body, "csrf").unwrap();
    let fields = |email: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("email", email.to_string()),
            ("display_name", String::new()),
            ("message", String::new()),
            (
                "redirect_url",
                "https://trials.contoso.example/".to_string(),
            ),
        ]
    };
    let refused = fields("portal@gmail.example");
    let refused: Vec<(&str, &str)> = refused.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = b.post_form("/admin/invite", &refused).await;
    assert!(page.status.is_client_error(), "{}", page.body);
    assert!(page.body.contains("gmail.example"), "{}", page.body);
    assert!(
        page.body.contains("portal@gmail.example"),
        "the address is kept"
    );
    assert!(!exists("portal@gmail.example").await);
    let allowed = fields("portal@fabrikam.example");
    let allowed: Vec<(&str, &str)> = allowed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post_form("/admin/invite", &allowed).await.status, 303);
    assert!(exists("portal@fabrikam.example").await);

    // `portico invite --email`.
    let cli = portico::invite_cli::invite_one(
        &app.server.app,
        portico::invite_cli::InviteOne {
            email: "cli@gmail.example".into(),
            name: None,
            message: None,
            redirect_url: None,
            send_email: false,
        },
    )
    .await;
    let e = cli.expect_err("a blocked domain is refused").to_string();
    assert!(e.contains("gmail.example"), "{e}");
    assert!(!exists("cli@gmail.example").await);

    // `portico invite --csv`: the blocked row fails, the other is invited.
    let dir = std::env::temp_dir().join(format!("portico-domains-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("guests.csv");
    std::fs::write(
        &csv,
        "email,redirectUrl\r\ncsv@gmail.example,https://trials.contoso.example/\r\ncsv@fabrikam.example,https://trials.contoso.example/\r\n",
    )
    .unwrap();
    let out = portico::invite_cli::invite_csv(&app.server.app, &csv)
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out["invited"], 1, "{out}");
    assert_eq!(out["failed"], 1, "{out}");
    assert!(!exists("csv@gmail.example").await);
    assert!(exists("csv@fabrikam.example").await);
}
both_backends!(
    every_invitation_path_obeys_the_domain_lists,
    super::every_invitation_path_obeys_the_domain_lists
);
