//! The portal's Applications and Groups pages (`/admin/applications`,
//! `/admin/groups`), driven like a browser without JavaScript. Each test
//! checks the result through the admin API, which reads the same services:
//! what the portal writes is what the API answers, and a refused form writes
//! nothing.

use crate::portal::signed_in;
use crate::support::{ALICE, ALICE_PW};
use portico_tests::{Backend, Browser, Hop, TestApp, both_backends, find_hidden, spawn_app};
use serde_json::{Value, json};

/// The value of the read-only input labelled `label` (the secret page).
fn input_value(body: &str, label: &str) -> Option<String> {
    let at = body.find(&format!("aria-label=\"{label}\""))?;
    let rest = &body[at..];
    let v = rest.find("value=\"")? + "value=\"".len();
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_string())
}

/// The id in a redirect to `/admin/<what>/{id}?…`.
fn id_in(location: &str, what: &str) -> String {
    let rest = location
        .strip_prefix(&format!("/admin/{what}/"))
        .unwrap_or_else(|| panic!("{location}"));
    rest.split(['?', '/']).next().unwrap().to_string()
}

/// The application of `client_id`, as the API answers it.
async fn api_app(app: &TestApp, client_id: &str) -> Option<Value> {
    let (s, v) = app.api("GET", "/api/v1/applications", None).await;
    assert_eq!(s, 200, "{v}");
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["clientId"] == client_id)
        .cloned()
}

async fn app_count(app: &TestApp) -> usize {
    let (_, v) = app.api("GET", "/api/v1/applications", None).await;
    v["value"].as_array().unwrap().len()
}

/// Registers a confidential app from the portal: (its id, client id, secret).
async fn register(b: &Browser, csrf: &str, name: &str) -> (String, String, String) {
    let page = b
        .post_form(
            "/admin/applications",
            &[
                ("csrf", csrf),
                ("display_name", name),
                ("client_type", "confidential"),
                ("redirect_uris", "https://app.contoso.example/callback"),
            ],
        )
        .await;
    assert_eq!(page.status, 201, "{}", page.body);
    let client_id = input_value(&page.body, "Client ID").expect("client id shown");
    let secret = input_value(&page.body, "Client secret").expect("secret shown");
    let id = page
        .body
        .split("href=\"/admin/applications/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("link to the app page")
        .to_string();
    (id, client_id, secret)
}

/// The token endpoint's verdict on `secret`: a wrong secret is
/// `invalid_client` (401); a right one gets as far as the refresh token
/// (`invalid_grant`, 400).
async fn secret_works(app: &TestApp, client_id: &str, secret: &str) -> bool {
    let resp = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "nope")])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    match status {
        400 => {
            assert_eq!(body["error"], "invalid_grant", "{body}");
            true
        }
        401 => false,
        other => panic!("{other}: {body}"),
    }
}

/// The Applications page registers a confidential app and shows its secret
/// on that one answer (never on the app page); the secret works at the token
/// endpoint; a new secret replaces it (the old one stops working); a public
/// app gets no secret; a bad redirect URI is a message on the re-shown form
/// and nothing is written.
async fn an_app_registered_in_the_portal_shows_its_secret_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (b, csrf) = signed_in(&app).await;
    let list = b.get("/admin/applications").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("Register an application"),
        "{}",
        list.body
    );

    let (id, client_id, secret) = register(&b, &csrf, "Contoso CRM").await;
    assert!(secret.len() >= 40, "{secret}");
    let a = api_app(&app, &client_id).await.expect("registered");
    assert_eq!(a["id"], id.as_str());
    assert_eq!(a["displayName"], "Contoso CRM");
    assert_eq!(a["clientType"], "confidential");
    assert_eq!(
        a["redirectUris"],
        json!(["https://app.contoso.example/callback"])
    );
    assert!(secret_works(&app, &client_id, &secret).await);
    let page = b.get(&format!("/admin/applications/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&client_id));
    assert!(!page.body.contains(&secret), "the secret is shown once");
    let list = b.get("/admin/applications").await;
    assert!(list.body.contains("Contoso CRM"), "{}", list.body);
    assert!(list.body.contains(&client_id), "{}", list.body);

    let reset = b
        .post_form(
            &format!("/admin/applications/{id}/reset-secret"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let new_secret = input_value(&reset.body, "Client secret").expect("new secret shown");
    assert_ne!(new_secret, secret);
    assert!(secret_works(&app, &client_id, &new_secret).await);
    assert!(!secret_works(&app, &client_id, &secret).await, "old secret");

    let public = b
        .post_form(
            "/admin/applications",
            &[
                ("csrf", &csrf),
                ("display_name", "Contoso SPA"),
                ("client_type", "public"),
                ("redirect_uris", "https://spa.contoso.example/\n"),
            ],
        )
        .await;
    assert_eq!(public.status, 201, "{}", public.body);
    assert!(input_value(&public.body, "Client secret").is_none());
    let spa_id = input_value(&public.body, "Client ID").unwrap();
    assert_eq!(
        api_app(&app, &spa_id).await.unwrap()["clientType"],
        "public"
    );

    let before = app_count(&app).await;
    let bad = b
        .post_form(
            "/admin/applications",
            &[
                ("csrf", &csrf),
                ("display_name", "Leaky app"),
                ("client_type", "confidential"),
                ("redirect_uris", "http://leaky.example/callback"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("must use https"), "{}", bad.body);
    assert!(bad.body.contains("Leaky app"), "the form is kept");
    assert!(bad.body.contains("http://leaky.example/callback"));
    assert_eq!(app_count(&app).await, before, "nothing written");
}
both_backends!(
    an_app_registered_in_the_portal_shows_its_secret_once,
    super::an_app_registered_in_the_portal_shows_its_secret_once
);

/// The app page's settings form writes what the API then reads (URIs one
/// per line, assignment required, require MFA, delegated permissions); a bad
/// URI or an unknown permission is a message and nothing changes; the
/// Authentication page's per-app posts still work; deleting asks first.
async fn the_app_page_edits_what_the_api_reads(backend: Backend) {
    let app = spawn_app(backend).await;
    let (b, csrf) = signed_in(&app).await;
    let (id, client_id, _) = register(&b, &csrf, "Contoso CRM").await;
    let edit = |extra: Vec<(&'static str, &'static str)>| {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("display_name", "Contoso CRM 2"),
            (
                "redirect_uris",
                "https://crm.contoso.example/cb\r\n\r\nhttps://crm.contoso.example/cb2",
            ),
            ("post_logout_redirect_uris", "https://crm.contoso.example/"),
            ("initiate_login_uri", "https://crm.contoso.example/login"),
            ("logo_uri", "https://crm.contoso.example/logo.png"),
            ("assignment_required", "on"),
            ("require_mfa", "on"),
            ("delegated", "User.Read.All"),
            ("delegated", "Group.Read.All"),
        ];
        form.extend(extra);
        let b = &b;
        let path = format!("/admin/applications/{id}");
        async move { b.post_form(&path, &form).await }
    };
    let saved = edit(vec![]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("/admin/applications/{id}?notice=saved").as_str())
    );
    let a = api_app(&app, &client_id).await.unwrap();
    assert_eq!(a["displayName"], "Contoso CRM 2");
    assert_eq!(
        a["redirectUris"],
        json!([
            "https://crm.contoso.example/cb",
            "https://crm.contoso.example/cb2"
        ])
    );
    assert_eq!(
        a["postLogoutRedirectUris"],
        json!(["https://crm.contoso.example/"])
    );
    assert_eq!(a["initiateLoginUri"], "https://crm.contoso.example/login");
    assert_eq!(a["logoUri"], "https://crm.contoso.example/logo.png");
    assert_eq!(a["appRoleAssignmentRequired"], true);
    assert_eq!(a["requireMfa"], true);
    assert_eq!(
        a["delegatedPermissions"],
        json!(["User.Read.All", "Group.Read.All"])
    );
    let page = b.follow(saved).await;
    assert!(page.body.contains("The application was saved."));
    assert!(
        page.body
            .contains("name=\"delegated\" value=\"Group.Read.All\" checked"),
        "{}",
        page.body
    );

    // Refusals: the same messages as the API, nothing written.
    let mut bad_uri = vec![("csrf", csrf.as_str()), ("display_name", "Renamed")];
    bad_uri.push(("redirect_uris", "https://ok.example/cb#fragment"));
    let refused = b
        .post_form(&format!("/admin/applications/{id}"), &bad_uri)
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert!(refused.body.contains("https://ok.example/cb#fragment"));
    let (s, via_api) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            Some(json!({"redirectUris": ["https://ok.example/cb#fragment"]})),
        )
        .await;
    assert_eq!(s, 400);
    let message = via_api["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{via_api}");
    assert!(
        refused.body.contains(&message.replace('\'', "&#39;")),
        "the API's message: {message}\n{}",
        refused.body
    );
    let forged = edit(vec![("delegated", "Directory.ReadWrite.All")]).await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert!(forged.body.contains("is not one of"), "{}", forged.body);
    let a2 = api_app(&app, &client_id).await.unwrap();
    assert_eq!(a2, a, "nothing changed");

    // The Authentication page's per-application switches still work.
    let off = b
        .post_form(
            &format!("/admin/applications/{id}/require-mfa"),
            &[("csrf", &csrf), ("require_mfa", "")],
        )
        .await;
    assert_eq!(
        off.location.as_deref(),
        Some("/admin/authentication?notice=app")
    );
    let off = b
        .post_form(
            &format!("/admin/applications/{id}/assignment-required"),
            &[("csrf", &csrf), ("assignment_required", "")],
        )
        .await;
    assert_eq!(off.status, 303, "{}", off.body);
    let a = api_app(&app, &client_id).await.unwrap();
    assert_eq!(a["requireMfa"], false);
    assert_eq!(a["appRoleAssignmentRequired"], false);

    // The edits are audited with the admin as actor.
    let (_, admins) = app
        .api(
            "GET",
            "/api/v1/users?$filter=mail eq 'admin@contoso.example'",
            None,
        )
        .await;
    let admin_id = admins["value"][0]["id"].as_str().unwrap();
    let (_, audit) = app
        .api("GET", "/api/v1/auditLogs/directoryAudits?$top=999", None)
        .await;
    let by_admin = |activity: &str| {
        audit["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["activityDisplayName"] == activity && e["initiatedBy"]["user"]["id"] == admin_id
            })
            .count()
    };
    assert_eq!(by_admin("Add application"), 1, "{audit}");
    assert_eq!(by_admin("Update application"), 3, "{audit}");

    // Portico's own clients are shown, not edited or deleted here.
    let (_, all) = app.api("GET", "/api/v1/applications", None).await;
    let portal = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["firstParty"] == true)
        .unwrap()
        .clone();
    let pid = portal["id"].as_str().unwrap();
    let page = b.get(&format!("/admin/applications/{pid}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("one of Portico's own clients"));
    assert!(
        !page
            .body
            .contains(&format!("/admin/applications/{pid}/delete"))
    );
    let refused = b
        .post_form(
            &format!("/admin/applications/{pid}"),
            &[("csrf", &csrf), ("display_name", "Hijacked")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let refused = b
        .post_form(
            &format!("/admin/applications/{pid}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        api_app(&app, portal["clientId"].as_str().unwrap()).await,
        Some(portal.clone()),
        "unchanged"
    );

    // Delete: a confirmation page, then the app is gone.
    let confirm = b.get(&format!("/admin/applications/{id}/delete")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm.body.contains("Delete Contoso CRM 2?"),
        "{}",
        confirm.body
    );
    assert!(api_app(&app, &client_id).await.is_some(), "not yet deleted");
    let deleted = b
        .post_form(
            &format!("/admin/applications/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/admin/applications?notice=deleted"),
        "{}",
        deleted.body
    );
    assert!(api_app(&app, &client_id).await.is_none());
    assert_eq!(
        b.get(&format!("/admin/applications/{id}")).await.status,
        404
    );
}
both_backends!(
    the_app_page_edits_what_the_api_reads,
    super::the_app_page_edits_what_the_api_reads
);

/// Opens My Apps as Alice.
async fn alices_my_apps(app: &TestApp) -> Hop {
    let b = Browser::new(&app.issuer);
    let page = b.follow(b.get("/myapps").await).await;
    let page = b.follow(b.sign_in(page, ALICE, ALICE_PW).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>My Apps</h1>"), "{}", page.body);
    page
}

fn principals(v: &Value) -> Vec<(String, String)> {
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["principalType"].as_str().unwrap().to_string(),
                a["principalDisplayName"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A group assigned from the app page (by name) gives its members the app in
/// My Apps; a user is assigned by email; assigning twice or naming nobody is
/// a message; removing an assignment takes the app away. Owners are added by
/// email and removed, as `owners/$ref` does.
async fn assignments_and_owners_are_managed_from_the_app_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    app.create_user("bob@contoso.example", "a good password 1")
        .await;
    let (b, csrf) = signed_in(&app).await;
    let (id, _, _) = register(&b, &csrf, "Trials").await;
    let gated = b
        .post_form(
            &format!("/admin/applications/{id}/assignment-required"),
            &[("csrf", &csrf), ("assignment_required", "on")],
        )
        .await;
    assert_eq!(gated.status, 303);
    assert!(
        !alices_my_apps(&app).await.body.contains(">Trials<"),
        "not assigned yet"
    );
    let created = b
        .post_form(
            "/admin/groups",
            &[("csrf", &csrf), ("display_name", "Trials users")],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let gid = id_in(created.location.as_deref().unwrap(), "groups");
    let added = b
        .post_form(
            &format!("/admin/groups/{gid}/members"),
            &[("csrf", &csrf), ("email", ALICE)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);

    let assign = |who: &'static str| {
        let b = &b;
        let path = format!("/admin/applications/{id}/assignments");
        let csrf = csrf.clone();
        async move {
            b.post_form(&path, &[("csrf", &csrf), ("principal", who)])
                .await
        }
    };
    let ok = assign("trials USERS").await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.location.unwrap().ends_with("notice=assigned"));
    let ok = assign("bob@contoso.example").await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let (_, assigned) = app
        .api(
            "GET",
            &format!("/api/v1/applications/{id}/appRoleAssignedTo"),
            None,
        )
        .await;
    let mut got = principals(&assigned);
    got.sort();
    assert_eq!(
        got,
        [
            ("Group".to_string(), "Trials users".to_string()),
            ("User".to_string(), "Alice Example".to_string())
        ],
        "{assigned}"
    );
    let page = alices_my_apps(&app).await;
    assert!(page.body.contains(">Trials<"), "{}", page.body);
    assert!(page.body.contains("Trials users"), "through the group");

    let twice = assign("Trials users").await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    assert!(
        twice.body.contains("already has this role"),
        "{}",
        twice.body
    );
    let nobody = assign("nobody@contoso.example").await;
    assert_eq!(nobody.status, 400);
    assert!(
        nobody
            .body
            .contains("no group is named nobody@contoso.example"),
        "{}",
        nobody.body
    );
    assert!(nobody.body.contains("value=\"nobody@contoso.example\""));
    let (_, still) = app
        .api(
            "GET",
            &format!("/api/v1/applications/{id}/appRoleAssignedTo"),
            None,
        )
        .await;
    assert_eq!(principals(&still).len(), 2, "nothing written");

    // The group's page names the app; removing the assignment takes it away.
    let gpage = b.get(&format!("/admin/groups/{gid}")).await;
    assert!(
        gpage
            .body
            .contains(&format!("<a href=\"/admin/applications/{id}\">Trials</a>")),
        "{}",
        gpage.body
    );
    let group_assignment = assigned["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["principalType"] == "Group")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let removed = b
        .post_form(
            &format!("/admin/applications/{id}/assignments/{group_assignment}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(!alices_my_apps(&app).await.body.contains(">Trials<"));

    // Owners.
    let owner = |email: &'static str| {
        let b = &b;
        let path = format!("/admin/applications/{id}/owners");
        let csrf = csrf.clone();
        async move {
            b.post_form(&path, &[("csrf", &csrf), ("email", email)])
                .await
        }
    };
    assert_eq!(owner(ALICE).await.status, 303);
    let twice = owner(ALICE).await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    assert!(twice.body.contains("already exist"), "{}", twice.body);
    let unknown = owner("ghost@contoso.example").await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown
            .body
            .contains("No user has the email address ghost@contoso.example")
    );
    let (_, owners) = app
        .api("GET", &format!("/api/v1/applications/{id}/owners"), None)
        .await;
    assert_eq!(owners["value"].as_array().unwrap().len(), 1, "{owners}");
    assert_eq!(owners["value"][0]["id"], alice.as_str());
    let page = b.get(&format!("/admin/applications/{id}")).await;
    assert!(page.body.contains(ALICE), "{}", page.body);
    let gone = b
        .post_form(
            &format!("/admin/applications/{id}/owners/{alice}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    let again = b
        .post_form(
            &format!("/admin/applications/{id}/owners/{alice}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        again.body.contains("It was already removed."),
        "{}",
        again.body
    );
    let (_, owners) = app
        .api("GET", &format!("/api/v1/applications/{id}/owners"), None)
        .await;
    assert_eq!(owners["value"], json!([]), "{owners}");
}
both_backends!(
    assignments_and_owners_are_managed_from_the_app_page,
    super::assignments_and_owners_are_managed_from_the_app_page
);

async fn member_ids(app: &TestApp, gid: &str, which: &str) -> Vec<String> {
    let (s, v) = app
        .api("GET", &format!("/api/v1/groups/{gid}/{which}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

/// Groups: created (a blank name is refused, nothing written), renamed and
/// described, members and owners added by email and removed, deleted after
/// a confirmation page; the API agrees at each step.
async fn groups_are_managed_from_the_portal(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let bob = app
        .create_user("bob@contoso.example", "a good password 1")
        .await;
    let (b, csrf) = signed_in(&app).await;
    let list = b.get("/admin/groups").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("New group"));

    let blank = b
        .post_form(
            "/admin/groups",
            &[
                ("csrf", &csrf),
                ("display_name", "  "),
                ("description", "kept"),
            ],
        )
        .await;
    assert_eq!(blank.status, 400, "{}", blank.body);
    assert!(
        blank
            .body
            .contains("displayName must have 1 to 256 characters.")
    );
    assert!(blank.body.contains(">kept</textarea>"), "{}", blank.body);
    let (_, groups) = app.api("GET", "/api/v1/groups", None).await;
    assert_eq!(groups["value"], json!([]), "nothing written");

    let created = b
        .post_form(
            "/admin/groups",
            &[
                ("csrf", &csrf),
                ("display_name", "Partners"),
                ("description", "External partners"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let gid = id_in(created.location.as_deref().unwrap(), "groups");
    let (s, g) = app.api("GET", &format!("/api/v1/groups/{gid}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(g["displayName"], "Partners");
    assert_eq!(g["description"], "External partners");
    assert_eq!(g["securityEnabled"], true);
    assert!(b.get("/admin/groups").await.body.contains(">Partners</a>"));

    let saved = b
        .post_form(
            &format!("/admin/groups/{gid}"),
            &[
                ("csrf", &csrf),
                ("display_name", "Partner staff"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, g) = app.api("GET", &format!("/api/v1/groups/{gid}"), None).await;
    assert_eq!(g["displayName"], "Partner staff");
    assert_eq!(g["description"], Value::Null, "cleared");

    for (which, email, id) in [
        ("members", ALICE, &alice),
        ("members", "bob@contoso.example", &bob),
        ("owners", "bob@contoso.example", &bob),
    ] {
        let hop = b
            .post_form(
                &format!("/admin/groups/{gid}/{which}"),
                &[("csrf", &csrf), ("email", email)],
            )
            .await;
        assert_eq!(hop.status, 303, "{which} {email}: {}", hop.body);
        assert!(member_ids(&app, &gid, which).await.contains(id));
    }
    let twice = b
        .post_form(
            &format!("/admin/groups/{gid}/members"),
            &[("csrf", &csrf), ("email", ALICE)],
        )
        .await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    assert!(twice.body.contains("already exist"), "{}", twice.body);
    let page = b.get(&format!("/admin/groups/{gid}")).await;
    assert!(page.body.contains(ALICE) && page.body.contains("bob@contoso.example"));

    let removed = b
        .post_form(
            &format!("/admin/groups/{gid}/members/{alice}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(member_ids(&app, &gid, "members").await, vec![bob.clone()]);
    let again = b
        .post_form(
            &format!("/admin/groups/{gid}/members/{alice}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        again.body.contains("It was already removed"),
        "{}",
        again.body
    );
    let removed = b
        .post_form(
            &format!("/admin/groups/{gid}/owners/{bob}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(member_ids(&app, &gid, "owners").await.is_empty());

    let confirm = b.get(&format!("/admin/groups/{gid}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Delete Partner staff?"),
        "{}",
        confirm.body
    );
    let deleted = b
        .post_form(&format!("/admin/groups/{gid}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/admin/groups?notice=deleted")
    );
    let (s, _) = app.api("GET", &format!("/api/v1/groups/{gid}"), None).await;
    assert_eq!(s, 404);
    let (_, audit) = app
        .api(
            "GET",
            &format!("/api/v1/auditLogs/directoryAudits?$filter=targetId eq '{gid}'"),
            None,
        )
        .await;
    let activities: Vec<&str> = audit["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["activityDisplayName"].as_str().unwrap())
        .collect();
    for a in [
        "Add group",
        "Update group",
        "Add member to group",
        "Add owner to group",
        "Remove member from group",
        "Delete group",
    ] {
        assert!(activities.contains(&a), "{a}: {activities:?}");
    }
}
both_backends!(
    groups_are_managed_from_the_portal,
    super::groups_are_managed_from_the_portal
);

/// Bob asks, from My Apps, to join a self-service group; the group's page
/// lists the request; the admin approves it there (Bob becomes a member, the
/// request is approved, as through `joinRequests/{rid}/approve`); deciding it
/// again is a message; Carl's request is declined.
async fn an_admin_approves_a_join_request_from_the_group_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("olivia@contoso.example", "a good password 1")
        .await;
    let bob = app
        .create_user("bob@contoso.example", "a good password 1")
        .await;
    let carl = app
        .create_user("carl@contoso.example", "a good password 1")
        .await;
    let (b, csrf) = signed_in(&app).await;
    // A self-service group, set up entirely from the portal: an app requiring
    // assignment, owned by Olivia, with a group she owns assigned to it.
    let (id, _, _) = register(&b, &csrf, "Trials").await;
    for (path, form) in [
        (
            format!("/admin/applications/{id}/assignment-required"),
            vec![("assignment_required", "on")],
        ),
        (
            format!("/admin/applications/{id}/owners"),
            vec![("email", "olivia@contoso.example")],
        ),
        (
            "/admin/groups".to_string(),
            vec![("display_name", "Trials users")],
        ),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let hop = b.post_form(&path, &form).await;
        assert_eq!(hop.status, 303, "{path}: {}", hop.body);
    }
    let (_, groups) = app.api("GET", "/api/v1/groups", None).await;
    let gid = groups["value"][0]["id"].as_str().unwrap().to_string();
    for (path, form) in [
        (
            format!("/admin/groups/{gid}/owners"),
            vec![("email", "olivia@contoso.example")],
        ),
        (
            format!("/admin/applications/{id}/assignments"),
            vec![("principal", "Trials users")],
        ),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let hop = b.post_form(&path, &form).await;
        assert_eq!(hop.status, 303, "{path}: {}", hop.body);
    }

    let ask = |email: &'static str| {
        let app = &app;
        let gid = gid.clone();
        async move {
            let u = Browser::new(&app.issuer);
            let page = u.follow(u.get("/myapps").await).await;
            let page = u
                .follow(u.sign_in(page, email, "a good password 1").await)
                .await;
            let csrf = find_hidden(&page.body, "csrf").unwrap();
            let asked = u
                .post_form(&format!("/myapps/groups/{gid}/join"), &[("csrf", &csrf)])
                .await;
            assert_eq!(asked.status, 200, "{}", asked.body);
        }
    };
    ask("bob@contoso.example").await;
    ask("carl@contoso.example").await;
    let (_, reqs) = app
        .api("GET", &format!("/api/v1/groups/{gid}/joinRequests"), None)
        .await;
    let rid_of = |user: &str| {
        reqs["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["userId"] == user)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (bob_rid, carl_rid) = (rid_of(&bob), rid_of(&carl));
    let page = b.get(&format!("/admin/groups/{gid}")).await;
    assert!(page.body.contains("Pending join requests"));
    let approve = format!("/admin/groups/{gid}/join-requests/{bob_rid}/approve");
    assert!(page.body.contains(&approve), "{}", page.body);
    assert!(page.body.contains("carl@contoso.example"));

    let approved = b.post_form(&approve, &[("csrf", &csrf)]).await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert!(approved.location.unwrap().ends_with("notice=approved"));
    assert_eq!(member_ids(&app, &gid, "members").await, vec![bob.clone()]);
    let again = b.post_form(&approve, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("This request was already approved."));
    let declined = b
        .post_form(
            &format!("/admin/groups/{gid}/join-requests/{carl_rid}/decline"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(declined.status, 303, "{}", declined.body);
    let (_, reqs) = app
        .api("GET", &format!("/api/v1/groups/{gid}/joinRequests"), None)
        .await;
    let state_of = |rid: &str| {
        reqs["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == rid)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(&bob_rid), "approved");
    assert_eq!(state_of(&carl_rid), "declined");
    assert_eq!(member_ids(&app, &gid, "members").await, [bob]);
    let page = b.get(&format!("/admin/groups/{gid}")).await;
    assert!(!page.body.contains("/join-requests/"), "none pending");
}
both_backends!(
    an_admin_approves_a_join_request_from_the_group_page,
    super::an_admin_approves_a_join_request_from_the_group_page
);

async fn assigned_to(app: &TestApp, id: &str) -> Value {
    let path = format!("/api/v1/applications/{id}/appRoleAssignedTo");
    app.api("GET", &path, None).await.1["value"].clone()
}

/// Every new form refuses a post without the session's CSRF token (403)
/// and writes nothing.
async fn the_new_forms_refuse_a_missing_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    app.create_user("bob@contoso.example", "a good password 1")
        .await;
    let (b, csrf) = signed_in(&app).await;
    let (id, client_id, secret) = register(&b, &csrf, "Contoso CRM").await;
    let created = b
        .post_form("/admin/groups", &[("csrf", &csrf), ("display_name", "G")])
        .await;
    let gid = id_in(created.location.as_deref().unwrap(), "groups");
    // Alice is assigned, owns the app, and is the group's member and owner.
    for (path, field) in [
        (format!("/admin/applications/{id}/assignments"), "principal"),
        (format!("/admin/applications/{id}/owners"), "email"),
        (format!("/admin/groups/{gid}/members"), "email"),
        (format!("/admin/groups/{gid}/owners"), "email"),
    ] {
        let hop = b.post_form(&path, &[("csrf", &csrf), (field, ALICE)]).await;
        assert_eq!(hop.status, 303, "{path}: {}", hop.body);
    }
    let assignment = assigned_to(&app, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = api_app(&app, &client_id).await.unwrap();
    let count = app_count(&app).await;
    let posts = [
        "/admin/applications".to_string(),
        format!("/admin/applications/{id}"),
        format!("/admin/applications/{id}/reset-secret"),
        format!("/admin/applications/{id}/assignments"),
        format!("/admin/applications/{id}/assignments/{assignment}/remove"),
        format!("/admin/applications/{id}/owners"),
        format!("/admin/applications/{id}/owners/{alice}/remove"),
        format!("/admin/applications/{id}/delete"),
        "/admin/groups".to_string(),
        format!("/admin/groups/{gid}"),
        format!("/admin/groups/{gid}/members"),
        format!("/admin/groups/{gid}/members/{alice}/remove"),
        format!("/admin/groups/{gid}/owners"),
        format!("/admin/groups/{gid}/owners/{alice}/remove"),
        format!("/admin/groups/{gid}/join-requests/{alice}/approve"),
        format!("/admin/groups/{gid}/delete"),
    ];
    for path in &posts {
        for token in [None, Some("forged")] {
            let mut form = vec![
                ("display_name", "Forged"),
                ("client_type", "public"),
                ("redirect_uris", "https://evil.example/cb"),
                ("principal", "bob@contoso.example"),
                ("email", "bob@contoso.example"),
            ];
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let hop = b.post_form(path, &form).await;
            assert_eq!(hop.status, 403, "{path} {token:?}: {}", hop.body);
        }
    }
    assert_eq!(api_app(&app, &client_id).await.unwrap(), before);
    assert!(secret_works(&app, &client_id, &secret).await, "not reset");
    assert_eq!(app_count(&app).await, count, "none registered");
    let (_, groups) = app.api("GET", "/api/v1/groups", None).await;
    assert_eq!(groups["value"].as_array().unwrap().len(), 1);
    assert_eq!(groups["value"][0]["displayName"], "G");
    for which in ["members", "owners"] {
        assert_eq!(member_ids(&app, &gid, which).await, vec![alice.clone()]);
    }
    let still = assigned_to(&app, &id).await;
    assert_eq!(still.as_array().unwrap().len(), 1, "{still}");
    assert_eq!(still[0]["principalId"], alice.as_str());
    let (_, owners) = app
        .api("GET", &format!("/api/v1/applications/{id}/owners"), None)
        .await;
    let owners: Vec<&str> = owners["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(owners, [alice.as_str()]);
}
both_backends!(
    the_new_forms_refuse_a_missing_csrf_token,
    super::the_new_forms_refuse_a_missing_csrf_token
);
