//! The admin portal (`/admin`) driven like a browser without JavaScript:
//! sign-in, the invite form, the user page's lifecycle actions, CSRF, and a
//! bulk CSV import from upload to result file.

use portico_tests::{Backend, Browser, TestApp, both_backends, find_hidden, spawn_app};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use std::time::Duration;

const ADMIN: &str = "admin@contoso.example";
const ADMIN_PW: &str = "admin password 1";

/// A browser signed in to the portal, and its CSRF token.
async fn signed_in(app: &TestApp) -> (Browser, String) {
    let b = Browser::new(&app.issuer);
    let hop = b
        .sign_in(b.get("/admin/signin").await, ADMIN, ADMIN_PW)
        .await;
    assert_eq!(hop.status, 303, "{}", hop.body);
    assert_eq!(hop.location.as_deref(), Some("/admin/users"));
    let page = b.get("/admin/users").await;
    assert_eq!(page.status, 200);
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

    // A member with the right password gets the same answer as a wrong one.
    for (email, pw) in [
        ("alice@contoso.example", "correct horse battery"),
        (ADMIN, "wrong"),
    ] {
        let hop = b.sign_in(b.get("/admin/signin").await, email, pw).await;
        assert_eq!(hop.status, 400, "{email}");
        assert!(hop.location.is_none());
        assert!(hop.body.contains("The email or password is incorrect."));
    }
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
    assert!(
        bad.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; Bob")
    );
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
    assert!(
        list.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; Bob")
    );
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
    assert!(last.body.contains("last administrator"));

    let audit = b.get("/admin/audit").await;
    assert!(audit.body.contains("Delete user") && audit.body.contains("Disable account"));
}
both_backends!(
    admin_invites_from_the_form_and_manages_the_guest,
    super::admin_invites_from_the_form_and_manages_the_guest
);

const HOSTILE: &str = "<script>alert(1)</script> Bob";

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

/// The Azure portal's template, with its example row, a quoted comma, and
/// one invalid row.
const AZURE_CSV: &str = "version:v1.0\r
Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody]\r
Example: name@company.com,https://myapps.microsoft.com,true,Hello\r
carol@fabrikam.example,https://trials.contoso.example/,false,\"Welcome, Carol\"\r
not-an-email,https://trials.contoso.example/,false,\r
dave@fabrikam.example,https://trials.contoso.example/,false,\"Hi, Dave, and welcome\"\r
";

const BOUNDARY: &str = "portico-test-boundary-7d1f";

/// A `multipart/form-data` body; a part with a file name is a file.
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, file, value) in parts {
        body.push_str(&format!("--{BOUNDARY}\r\n"));
        match file {
            Some(f) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
            )),
            None => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")),
        }
        body.push_str(value);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}

/// Uploads `body` to `/admin/imports`: status and `Location`.
async fn upload(app: &TestApp, b: &Browser, body: Vec<u8>) -> (u16, Option<String>, String) {
    let resp = b
        .http
        .post(app.url("/admin/imports"))
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, resp.text().await.unwrap())
}

async fn csv_upload_shows_a_dry_run_then_runs_to_a_result_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let (b, csrf) = signed_in(&app).await;

    // The CSRF field must come first: a file without it is refused.
    let forged = multipart(&[("file", Some("guests.csv"), AZURE_CSV)]);
    assert_eq!(upload(&app, &b, forged).await.0, 403);
    let wrong = multipart(&[
        ("csrf", None, "forged"),
        ("file", Some("guests.csv"), AZURE_CSV),
    ]);
    assert_eq!(upload(&app, &b, wrong).await.0, 403);
    // A file that is not an invite list is refused as a whole, on the page.
    let junk = multipart(&[
        ("csrf", None, &csrf),
        ("file", Some("x.csv"), "name,age\r\nx,1\r\n"),
    ]);
    let (status, _, page) = upload(&app, &b, junk).await;
    assert_eq!(status, 400);
    assert!(page.contains("column"), "{page}");

    let body = multipart(&[
        ("csrf", None, &csrf),
        ("file", Some("C:\\fakepath\\guests.csv"), AZURE_CSV),
    ]);
    let (status, location, _) = upload(&app, &b, body).await;
    assert_eq!(status, 303);
    let report_url = location.unwrap();
    let job = report_url
        .strip_prefix("/admin/imports/")
        .unwrap()
        .to_string();

    let report = b.get(&report_url).await;
    assert!(report.body.contains("guests.csv") && !report.body.contains("fakepath"));
    assert!(report.body.contains("Start import"), "{}", report.body);
    assert!(
        report.body.contains("not-an-email"),
        "the invalid row is listed"
    );
    assert!(
        !report.body.contains("http-equiv=\"refresh\""),
        "a dry run does not refresh"
    );
    assert!(
        !app_has_guest(&app, "carol@fabrikam.example").await,
        "a dry run invites nobody"
    );

    let started = b
        .post_form(&format!("/admin/imports/{job}/start"), &[("csrf", &csrf)])
        .await;
    assert_eq!(started.location.as_deref(), Some(report_url.as_str()));
    // The runner works in the background; the page refreshes until it is done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let page = b.get(&report_url).await;
        if page.body.contains("status-completed") {
            assert!(!page.body.contains("http-equiv=\"refresh\""));
            break;
        }
        assert!(
            page.body.contains("http-equiv=\"refresh\""),
            "{}",
            page.body
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the import did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app_has_guest(&app, "carol@fabrikam.example").await);
    assert!(app_has_guest(&app, "dave@fabrikam.example").await);

    let resp = b
        .http
        .get(app.url(&format!("/admin/imports/{job}/results.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let disposition = resp.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "a header and one line per row: {text}");
    assert!(lines[0].starts_with("row,email,status"));
    assert!(
        lines[1].starts_with("1,carol@fabrikam.example,invited"),
        "{text}"
    );
    assert!(lines[2].starts_with("2,not-an-email,invalid"), "{text}");
    assert!(
        lines[3].starts_with("3,dave@fabrikam.example,invited"),
        "{text}"
    );
}
both_backends!(
    csv_upload_shows_a_dry_run_then_runs_to_a_result_file,
    super::csv_upload_shows_a_dry_run_then_runs_to_a_result_file
);

async fn app_has_guest(app: &TestApp, mail: &str) -> bool {
    let repo = app.server.app.directory.repo();
    repo.find_user_by_mail(mail).await.unwrap().is_some()
}
