//! The admin portal (`/admin`) driven like a browser without JavaScript:
//! sign-in, the invite form, the user page's lifecycle actions and CSRF.
//! The bulk import pages are in `portal_import`.

use crate::support::link_status;
use portico_tests::{Backend, Browser, TestApp, both_backends, find_hidden, spawn_app};

const ADMIN: &str = "admin@contoso.example";
const ADMIN_PW: &str = "admin password 1";

/// A browser signed in to the portal, and its CSRF token.
pub(crate) async fn signed_in(app: &TestApp) -> (Browser, String) {
    let b = Browser::new(&app.issuer);
    // The portal is an OIDC client of its own issuer: /admin/signin →
    // /authorize → the sign-in page → resume → /admin/callback → the portal.
    let hop = b
        .sign_in(b.get("/admin/signin").await, ADMIN, ADMIN_PW)
        .await;
    assert_eq!(hop.status, 303, "{}", hop.body);
    let page = b.follow(hop).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("csrf"), "{}", page.body);
    let csrf = find_hidden(&page.body, "csrf").expect("csrf in the navigation");
    (b, csrf)
}

/// The user id a redirect to `/admin/users/{id}?…` names.
fn user_id_of(location: &str) -> String {
    let rest = location.strip_prefix("/admin/users/").expect("user page");
    rest.split('?').next().unwrap().to_string()
}

async fn only_admins_can_sign_in_and_pages_need_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let b = Browser::new(&app.issuer);
    let anonymous = b.get("/admin/users").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.location.as_deref(), Some("/admin/signin"));

    // A wrong password is refused on the sign-in page like for any app.
    let hop = b
        .sign_in(b.get("/admin/signin").await, ADMIN, "wrong")
        .await;
    assert!(hop.location.is_none(), "{:?}", hop.location);
    assert!(hop.body.contains("The email or password is incorrect."));
    // A member signs in, but gets no portal.
    let member = Browser::new(&app.issuer);
    let hop = member
        .sign_in(
            member.get("/admin/signin").await,
            "alice@contoso.example",
            "correct horse battery",
        )
        .await;
    let page = member.follow(hop).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("not an administrator"), "{}", page.body);
    assert_eq!(member.get("/admin/users").await.status, 303, "no portal");
    assert_eq!(b.get("/admin/users").await.status, 303, "still signed out");
    // A POST without a session is refused, not redirected.
    let post = b.post_form("/admin/signout", &[("csrf", "x")]).await;
    assert_eq!(post.status, 403);

    let (b, csrf) = signed_in(&app).await;
    let out = b.post_form("/admin/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/admin/signin"));
    assert_eq!(b.get("/admin/users").await.status, 303, "signed out");
}
both_backends!(
    only_admins_can_sign_in_and_pages_need_a_session,
    super::only_admins_can_sign_in_and_pages_need_a_session
);

async fn admin_invites_from_the_form_and_manages_the_guest(backend: Backend) {
    let app = spawn_app(backend).await;
    let (b, csrf) = signed_in(&app).await;
    // A refused form comes back with what was entered, escaped.
    let bad = b
        .post_form("/admin/invite", &invite_form(&csrf, "not-an-email"))
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("not a valid email address"),
        "{}",
        bad.body
    );
    assert!(shows_escaped(&bad.body), "{}", bad.body);
    assert!(!bad.body.contains("<script>alert"));

    let ok = b
        .post_form("/admin/invite", &invite_form(&csrf, "bob@fabrikam.example"))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let location = ok.location.unwrap();
    let id = user_id_of(&location);
    let page = b.get(&location).await;
    assert!(page.body.contains("PendingAcceptance"), "{}", page.body);
    assert!(page.body.contains("/redeem?i="), "the redeem link is shown");

    let list = b.get("/admin/users?type=Guest").await;
    assert!(list.body.contains("bob@fabrikam.example"));
    assert!(shows_escaped(&list.body), "{}", list.body);
    assert!(!list.body.contains("<script>alert"), "names are escaped");
    let members = b.get("/admin/users?type=Member").await;
    assert!(!members.body.contains("bob@fabrikam.example"));

    // Actions without the CSRF token, or with a wrong one, are refused.
    let user_page = format!("/admin/users/{id}");
    let disable = format!("{user_page}/disable");
    assert_eq!(b.post_form(&disable, &[]).await.status, 403);
    assert_eq!(
        b.post_form(&disable, &[("csrf", "forged")]).await.status,
        403
    );
    let (_, user) = app.api("GET", &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(user["accountEnabled"], true);

    let done = b.post_form(&disable, &[("csrf", &csrf)]).await;
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{user_page}?notice=disabled").as_str())
    );
    let (_, user) = app.api("GET", &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(user["accountEnabled"], false);

    // A bad expiry date is a message on the page, with the entered value kept.
    let edit = format!("{user_page}/edit");
    let bad_date = [
        ("csrf", csrf.as_str()),
        ("display_name", "Bob"),
        ("access_expires", "31/01/2030"),
    ];
    let refused = b.post_form(&edit, &bad_date).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("YYYY-MM-DD") && refused.body.contains("31/01/2030"));
    let good = [
        ("csrf", csrf.as_str()),
        ("display_name", "Bob"),
        ("access_expires", "2030-01-31"),
    ];
    assert_eq!(b.post_form(&edit, &good).await.status, 303);
    assert!(
        b.get(&user_page)
            .await
            .body
            .contains("2030-01-31 00:00 UTC")
    );

    // Delete goes through a confirmation page.
    let confirm = b.get(&format!("{user_page}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("This cannot be undone"));
    let token = find_hidden(&confirm.body, "csrf").unwrap();
    let deleted = b
        .post_form(&format!("{user_page}/delete"), &[("csrf", &token)])
        .await;
    assert_eq!(deleted.location.as_deref(), Some("/admin/users"));
    assert_eq!(b.get(&user_page).await.status, 404);

    // The last admin cannot delete itself: a message, not a 500.
    let me = format!("/admin/users/{}/delete", app.admin_user_id);
    let last = b.post_form(&me, &[("csrf", &csrf)]).await;
    assert_eq!(last.status, 409);
    assert!(last.body.contains("last enabled administrator"));

    let audit = b.get("/admin/audit").await;
    assert!(audit.body.contains("Delete user") && audit.body.contains("Disable account"));
}
both_backends!(
    admin_invites_from_the_form_and_manages_the_guest,
    super::admin_invites_from_the_form_and_manages_the_guest
);

const HOSTILE: &str = "<script>alert(1)</script> Bob";

/// The hostile name is on the page as text (askama writes `<` as `&#60;`),
/// never as markup.
fn shows_escaped(body: &str) -> bool {
    let text = ["&#60;script&#62;alert(1)", "&lt;script&gt;alert(1)"];
    !body.contains("<script>") && text.iter().any(|t| body.contains(t))
}

fn invite_form<'a>(csrf: &'a str, email: &'a str) -> [(&'a str, &'a str); 6] {
    [
        ("csrf", csrf),
        ("email", email),
        ("display_name", HOSTILE),
        ("message", "Welcome, \"partner\" & co"),
        ("redirect_url", "https://trials.contoso.example/"),
        ("send", "on"),
    ]
}

/// The redeem link shown on a user page.
fn redeem_link(page: &str) -> Option<String> {
    let marker = "aria-label=\"Redeem link\" value=\"";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

async fn resend_revoke_and_reset_work_from_the_user_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let (b, csrf) = signed_in(&app).await;
    let mut form = invite_form(&csrf, "erin@fabrikam.example");
    form[5] = ("send", "");
    let invited = b.post_form("/admin/invite", &form[..5]).await;
    let user_page = invited
        .location
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let first = redeem_link(&b.get(&user_page).await.body).expect("redeem link");
    assert_eq!(link_status(&first).await, 200);

    // Inviting the same email again returns the same guest, and says so.
    let again = b.post_form("/admin/invite", &form[..5]).await;
    assert!(again.location.unwrap().ends_with("?notice=existing"));

    let resent = b
        .post_form(&format!("{user_page}/resend"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resent.status, 303);
    let page = b.get(&resent.location.unwrap()).await.body;
    assert!(page.contains("sent again with a new link"));
    let second = redeem_link(&page).expect("new redeem link");
    assert_ne!(first, second);
    assert_eq!(link_status(&first).await, 404, "resend kills the old link");

    let revoked = b
        .post_form(&format!("{user_page}/revoke"), &[("csrf", &csrf)])
        .await;
    let page = b.get(&revoked.location.unwrap()).await.body;
    assert!(page.contains("Revoked") && redeem_link(&page).is_none());
    assert_eq!(link_status(&second).await, 404, "a revoked link is dead");
    // Revoking twice is a message on the page, not an error page.
    let twice = b
        .post_form(&format!("{user_page}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(twice.status, 409);
    assert!(
        twice.body.contains("only pending invitations"),
        "{}",
        twice.body
    );

    let reset = b
        .post_form(&format!("{user_page}/reset"), &[("csrf", &csrf)])
        .await;
    assert_eq!(reset.status, 303, "{}", reset.body);
    let page = b.get(&reset.location.unwrap()).await.body;
    assert!(page.contains("redemption was reset") && page.contains("PendingAcceptance"));
    let third = redeem_link(&page).expect("a fresh invitation");
    assert_eq!(link_status(&third).await, 200);
}
both_backends!(
    resend_revoke_and_reset_work_from_the_user_page,
    super::resend_revoke_and_reset_work_from_the_user_page
);

/// Posts the invite form for `email` with the group `group`.
async fn invite_into(b: &Browser, csrf: &str, email: &str, group: &str) -> portico_tests::Hop {
    let mut form = invite_form(csrf, email).to_vec();
    form.push(("group", group));
    b.post_form("/admin/invite", &form).await
}

/// The invite form's group: the guest joins it with the invitation (one
/// audit entry, the group's members and the invitation's `grantedGroup`
/// agree); a group deleted meanwhile is a message on the re-shown form and
/// nothing is written; inviting the same guest again into a second group
/// adds it there too.
async fn the_invite_form_adds_the_guest_to_a_group(backend: Backend) {
    let app = spawn_app(backend).await;
    let group = |name: &str| {
        let app = &app;
        let name = name.to_string();
        async move {
            let (s, g) = app
                .api(
                    "POST",
                    "/api/v1/groups",
                    Some(serde_json::json!({"displayName": name, "mailEnabled": false})),
                )
                .await;
            assert_eq!(s, 201, "{g}");
            g["id"].as_str().unwrap().to_string()
        }
    };
    let trials = group("Trials users").await;
    let gone = group("Short-lived").await;
    let (b, csrf) = signed_in(&app).await;
    let form = b.get("/admin/invite").await;
    assert!(
        form.body
            .contains(&format!("<option value=\"{trials}\">Trials users</option>")),
        "{}",
        form.body
    );
    // A group deleted after the form was shown: refused, nothing written.
    assert_eq!(
        app.api("DELETE", &format!("/api/v1/groups/{gone}"), None)
            .await
            .0,
        204
    );
    let refused = invite_into(&b, &csrf, "carol@fabrikam.example", &gone).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("no longer exists"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("carol@fabrikam.example"),
        "the form is kept"
    );
    let (_, users) = app
        .api(
            "GET",
            "/api/v1/users?$filter=mail eq 'carol@fabrikam.example'",
            None,
        )
        .await;
    assert_eq!(users["value"], serde_json::json!([]), "{users}");
    let not_a_group = invite_into(&b, &csrf, "carol@fabrikam.example", "not-a-uuid").await;
    assert_eq!(not_a_group.status, 400, "{}", not_a_group.body);

    let ok = invite_into(&b, &csrf, "bob@fabrikam.example", &trials).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let bob = user_id_of(&ok.location.unwrap());
    let (_, members) = app
        .api("GET", &format!("/api/v1/groups/{trials}/members"), None)
        .await;
    let ids: Vec<&str> = members["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [bob.as_str()], "{members}");
    let (_, invs) = app
        .api(
            "GET",
            "/api/v1/invitations?$filter=invitedUserEmailAddress eq 'bob@fabrikam.example'",
            None,
        )
        .await;
    assert_eq!(
        invs["value"][0]["grantedGroup"]["id"],
        trials.as_str(),
        "{invs}"
    );
    let (_, audit) = app
        .api(
            "GET",
            &format!("/api/v1/auditLogs/directoryAudits?$filter=targetId eq '{trials}'"),
            None,
        )
        .await;
    let adds = audit.to_string().matches("Add member to group").count();
    assert_eq!(adds, 1, "{audit}");

    // Bob again, into a second group: his live invitation is kept, and he
    // joins that group too.
    let second = group("Second").await;
    let again = invite_into(&b, &csrf, "bob@fabrikam.example", &second).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert!(again.location.unwrap().contains("notice=existing"));
    let (_, members) = app
        .api("GET", &format!("/api/v1/groups/{second}/members"), None)
        .await;
    assert_eq!(members["value"][0]["id"], bob.as_str(), "{members}");
}
both_backends!(
    the_invite_form_adds_the_guest_to_a_group,
    super::the_invite_form_adds_the_guest_to_a_group
);
